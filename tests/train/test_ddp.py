"""Data-parallel training on the real torchrun: 2 gloo processes on this CPU, end to end.

Run 1 is killed (SIGKILL to torchrun and both ranks) after its first epoch; run 2 resumes it,
then the run folder is released and the release evaluated. Every step, each rank logs a digest
of its weights (--sync-check): both ranks must hold identical weights after every step.
A partly labelled real HAPT folder trains semi-supervised (unlabelled windows, pseudo-labels)
on 2 ranks the same way, and the shards of each global batch are checked to partition it.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from tcnvae.data.fetch import fetch
from tcnvae.train.batches import global_batches
from tcnvae.train.distributed import TIMEOUT_ENV, DistributedError, World, group_timeout, init_from_env
from tests.support import TINY_TRAINING
from tests.train.hapt_folder import write_hapt_folder

TORCHRUN = Path(sys.executable).with_name("torchrun")
DIGEST = re.compile(r"rank (\d) epoch (\d+) step (\d+) params ([0-9a-f]{16})")


def _command(out: Path, config: Path, epochs: int, *extra: str, data: str = "watch") -> list[str]:
    return [str(TORCHRUN), "--standalone", "--nproc-per-node", "2", "-m", "tcnvae", "train", "--data", data,
            "--config", str(config), "--out", str(out), "--epochs", str(epochs), "--threads", "1",
            "--device", "cpu", "--sync-check", *extra]


def _children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (torchrun starts each rank in a session of its own)."""
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(stat.parent.name))
    return kids


def _digests(text: str) -> dict[tuple[int, int], dict[int, str]]:
    steps: dict[tuple[int, int], dict[int, str]] = {}
    for rank, epoch, step, digest in DIGEST.findall(text):
        steps.setdefault((int(epoch), int(step)), {})[int(rank)] = digest
    return steps


def _assert_in_step(steps: dict, epoch: int) -> None:
    mine = {k: v for k, v in steps.items() if k[0] == epoch}
    assert mine, f"no --sync-check digests for epoch {epoch}"
    for key, ranks in mine.items():
        assert set(ranks) == {0, 1}, (key, ranks)
        assert ranks[0] == ranks[1], f"ranks diverged at epoch/step {key}: {ranks}"


@pytest.mark.skipif(not TORCHRUN.is_file(), reason="torchrun is installed with torch")
def test_two_gloo_processes_kill_resume_release_evaluate(tmp_path: Path) -> None:
    config = tmp_path / "tiny.json"
    config.write_text(json.dumps({**TINY_TRAINING, "data": list(TINY_TRAINING["data"]), "max_train_windows": 640,
                                  "patience": 50}))
    out, log1 = tmp_path / "ddp", tmp_path / "run1.log"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    with open(log1, "w") as fh:  # many epochs asked for: the kill lands long before the end
        proc = subprocess.Popen(_command(out, config, 50), stdout=fh, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 300
        history = out / "history.jsonl"
        while not (history.is_file() and history.read_text().strip() and (out / "state.pt").is_file()):
            assert proc.poll() is None, log1.read_text()[-3000:]
            assert time.monotonic() < deadline, "no epoch finished within 300 s"
            time.sleep(0.2)
    finally:
        for pid in [*_children(proc.pid), proc.pid]:  # every rank and the launcher, as a crash would
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait(timeout=60)
    first = _digests(log1.read_text())
    _assert_in_step(first, 1)
    saved = int(torch.load(out / "state.pt", weights_only=True)["epoch"])  # the last epoch that can resume
    assert 1 <= saved < 50

    resumed = subprocess.run(_command(out, config, saved + 1, "--resume"), capture_output=True, text=True,
                             env=env, timeout=600)
    assert resumed.returncode == 0, (resumed.stdout + resumed.stderr)[-3000:]
    second = _digests(resumed.stdout + resumed.stderr)
    assert {k[0] for k in second} == {saved + 1}  # resumed after the last saved epoch, not from scratch
    _assert_in_step(second, saved + 1)
    rows = [json.loads(r)["epoch"] for r in (out / "history.jsonl").read_text().splitlines()]
    assert rows == list(range(1, saved + 2))
    metrics = json.loads((out / "eval_metrics.json").read_text())
    assert metrics["training"]["hardware"] == {"device": "cpu", "precision": "fp32", "processes": 2}

    # The same layout as a single-process run: release and evaluate take it as is.
    for name in ("model.safetensors", "model_config.json", "train_config.json", "normalization.json", "labels.json",
                 "motifs.json", "history.jsonl", "curves.png", "confusion_matrix_test.png", "latent_2d_test.png",
                 "samples/calibration.npy", "samples/heldout.npz", "state.pt"):
        assert (out / name).is_file(), name
    cli = [sys.executable, "-m", "tcnvae"]
    rel = subprocess.run([*cli, "release", str(out), "--models", str(tmp_path / "models"), "--version", "1.0.0"],
                         capture_output=True, text=True, timeout=900)
    assert rel.returncode == 0, rel.stderr[-2000:]
    ev = subprocess.run([*cli, "evaluate", "tcn_encoder@v1.0.0", "--models", str(tmp_path / "models"),
                         "--data", "watch", "--device", "cpu", "--out", str(tmp_path / "eval")],
                        capture_output=True, text=True, timeout=900)
    assert ev.returncode == 0, ev.stderr[-2000:]
    evaluated = json.loads((tmp_path / "eval" / "eval_metrics.json").read_text())["test"]
    labels = json.loads((out / "labels.json").read_text())["labels"]
    # The release answers as the run did on the same test subjects, and above chance (a low bar:
    # a tiny model, 2 epochs of 640 windows).
    assert evaluated["accuracy"] == pytest.approx(metrics["test"]["accuracy"], abs=1e-6)
    assert evaluated["accuracy"] > 1.0 / len(labels)


@pytest.mark.parametrize("labelled_every", [1, 20])  # all labelled; 5 % labelled (mixed batches)
def test_rank_shards_partition_each_global_batch(labelled_every: int) -> None:
    labelled = np.zeros(1001, dtype=bool)
    labelled[::labelled_every] = True
    steps = -(-len(labelled) // 64)

    def epoch(world: World) -> list[np.ndarray]:
        return list(global_batches(labelled, 64, steps, 0.5, np.random.default_rng([0, 3]), world))

    one, ranks = epoch(World(0, 1)), [epoch(World(r, 2, r)) for r in (0, 1)]
    assert len(ranks[0]) == len(ranks[1]) == len(one) > 0
    for whole, a, b in zip(one, *ranks):
        assert np.array_equal(np.sort(np.concatenate([a, b])), np.sort(whole))  # together: exactly the batch
        assert abs(len(a) - len(b)) <= 1 and min(len(a), len(b)) >= 2  # BatchNorm needs 2 per shard
        if labelled_every > 1:  # labelled and unlabelled windows alike are split across the ranks
            assert labelled[a].any() and (~labelled[a]).any() and labelled[b].any() and (~labelled[b]).any()


@pytest.mark.skipif(not TORCHRUN.is_file(), reason="torchrun is installed with torch")
def test_two_gloo_processes_train_a_partly_labelled_folder_in_step(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    fetch("csv", from_path=write_hapt_folder(tmp_path / "rec", seconds=120.0, labelled_experiments=(0, 1)),
          data_dir=data_dir)
    config = tmp_path / "semi.json"
    config.write_text(json.dumps({"data": ["csv"], "preset": "tiny", "val_subjects": 1, "unlabelled": True,
                                  "labelled_share": 0.5, "pseudo_weight": 1.0, "pseudo_threshold": 0.2,
                                  "batch_size": 64, "seed": 0}))
    out = tmp_path / "semi"
    run = subprocess.run(_command(out, config, 2, "--data-dir", str(data_dir), data="csv"), capture_output=True,
                         text=True, env={**os.environ, "OMP_NUM_THREADS": "1", TIMEOUT_ENV: "45"}, timeout=600)
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    # both ranks joined with the collective timeout asked for (rank 0 works alone for long stretches)
    assert len(re.findall(r"rank [01] of 2 .*collective timeout 0:45:00", run.stdout + run.stderr)) == 2
    steps = _digests(run.stdout + run.stderr)
    _assert_in_step(steps, 1)
    _assert_in_step(steps, 2)
    history = [json.loads(r) for r in (out / "history.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in history] == [1, 2]
    assert all(r["ce"] > 0 and r["recon"] > 0 and "pseudo_share" in r for r in history)
    metrics = json.loads((out / "eval_metrics.json").read_text())["training"]
    assert metrics["n_unlabelled_windows"]["train"] > 0 and metrics["hardware"]["processes"] == 2


@pytest.mark.parametrize("value", ["0", "-3", "abc", "nan", "inf", "1e30"])
def test_a_collective_timeout_that_is_not_a_usable_number_of_minutes_is_named(value: str, monkeypatch) -> None:
    monkeypatch.setenv(TIMEOUT_ENV, value)
    with pytest.raises(DistributedError, match=f"{TIMEOUT_ENV}='{re.escape(value)}'"):
        group_timeout()


def test_the_collective_timeout_defaults_to_three_hours_and_takes_fractions(monkeypatch) -> None:
    monkeypatch.delenv(TIMEOUT_ENV, raising=False)
    assert group_timeout().total_seconds() == 180 * 60
    monkeypatch.setenv(TIMEOUT_ENV, "0.5")
    assert group_timeout().total_seconds() == 30


def test_a_process_group_that_already_exists_is_joined_as_it_is(tmp_path: Path, monkeypatch, caplog) -> None:
    # A caller's own group keeps its own timeout: the log must not claim ours.
    torch.distributed.init_process_group("gloo", store=torch.distributed.FileStore(str(tmp_path / "store"), 1),
                                         rank=0, world_size=1)
    try:
        monkeypatch.setenv("WORLD_SIZE", "2")
        monkeypatch.setenv("RANK", "0")
        monkeypatch.setenv(TIMEOUT_ENV, "45")
        with caplog.at_level(logging.INFO, logger="tcnvae.train.distributed"):
            world, device = init_from_env(torch.device("cpu"))
    finally:
        torch.distributed.destroy_process_group()
    assert world == World(0, 2, 0) and device == torch.device("cpu")
    assert "process group already initialised (backend gloo)" in caplog.text
    assert "collective timeout" not in caplog.text


@pytest.mark.skipif(not TORCHRUN.is_file(), reason="torchrun is installed with torch")
def test_a_bad_collective_timeout_stops_every_rank_with_its_name(tmp_path: Path) -> None:
    config = tmp_path / "tiny.json"
    config.write_text(json.dumps({**TINY_TRAINING, "data": list(TINY_TRAINING["data"])}))
    out = tmp_path / "run"
    run = subprocess.run(_command(out, config, 1), capture_output=True, text=True, timeout=300,
                         env={**os.environ, "OMP_NUM_THREADS": "1", TIMEOUT_ENV: "0"})
    assert run.returncode != 0
    assert f"{TIMEOUT_ENV}='0': expected a positive number of minutes" in run.stdout + run.stderr
    assert "tcnvae/train" not in run.stdout + run.stderr  # a clear message, no traceback of ours (torchrun prints its own)
    assert not out.exists() or not any(out.iterdir())  # nothing half-written to block the next run
