"""Starting a run: a failed start leaves nothing behind; progress lines when not on a terminal."""

from __future__ import annotations

import io
import logging
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tcnvae.cli.progress import TrainProgress
from tcnvae.progress import Ticker, eta_text
from tcnvae.train.config import ConfigError, build_config


def _train(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tcnvae.cli", "train", *args], capture_output=True, text=True,
                          timeout=300)


@pytest.mark.parametrize("bad,resume", [
    (["--data", "wach"], False),  # misspelt dataset
    (["--data", "pamap2"], True),  # known but not fetched
    (["--config", "{bad_config}"], False),  # unknown preset in a config file
    (["--data", "watch", "--classes", "NOT_A_LABEL"], True),  # fails after loading the data
    pytest.param(["--device", "cuda"], False, marks=pytest.mark.skipif(torch.cuda.is_available(), reason="has CUDA")),
])
def test_a_failed_start_leaves_no_run_directory(tmp_path: Path, bad: list[str], resume: bool) -> None:
    out = tmp_path / "run"
    bad_config = tmp_path / "bad.json"
    bad_config.write_text('{"preset": "tinyy"}')
    args = [a.format(bad_config=bad_config) for a in bad]
    proc = _train(*args, "--out", str(out), "--epochs", "1", *(["--resume"] if resume else []))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr[-1500:]
    assert proc.stderr.strip().splitlines()[-1].startswith("tcnvae train: error:")
    assert not out.exists()  # the corrected command is not blocked


def test_resume_of_a_folder_without_a_finished_epoch_takes_the_new_config(tmp_path: Path) -> None:
    """A folder an older failed start left behind (train_config.json only) does not block --resume."""
    out = tmp_path / "run"
    out.mkdir()
    (out / "train_config.json").write_text('{"data": ["wach"]}')
    from tcnvae.train.run import check_start

    check_start(build_config(data="watch"), out, resume=True)  # no state.pt: nothing to compare against


def test_unknown_preset_and_bad_values_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="preset.*choose from"):
        build_config(preset="huge")
    with pytest.raises(ConfigError, match="test_split"):
        build_config(test_split="random")
    with pytest.raises(ConfigError, match="stride"):
        build_config(stride=0)


def test_progress_lines_without_a_terminal() -> None:
    stream = io.StringIO()  # not a TTY: no bar, plain lines
    progress = TrainProgress(batch_size=64, every=0.0, stream=stream)
    for step in range(1, 5):
        progress.on_step({"epoch": 2, "epochs": 3, "step": step, "steps": 10, "loss": 1.5, "ce": 1.0})
    progress.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 5 and lines[0].startswith("first training step ") and lines[0].endswith(" s after the command started")
    assert lines[-1].startswith("epoch 2/3   40%  step 4/10") and "windows/s" in lines[-1] and "ETA epoch" in lines[-1]


def test_progress_counts_the_epochs_of_the_stage_it_is_told() -> None:
    stream = io.StringIO()  # a refit stage trains the selected 12 epochs of a 30-epoch config
    progress = TrainProgress(batch_size=64, every=0.0, stream=stream)
    for step in range(1, 3):
        progress.on_step({"epoch": 3, "epochs": 12, "step": step, "steps": 10, "loss": 1.5, "ce": 1.0})
    assert stream.getvalue().splitlines()[-1].startswith("epoch 3/12   20%  step 2/10")


def test_progress_is_throttled() -> None:
    stream = io.StringIO()
    progress = TrainProgress(batch_size=8, every=3600.0, stream=stream)
    for step in range(1, 50):
        progress.on_step({"epoch": 1, "epochs": 1, "step": step, "steps": 50, "loss": 1.0, "ce": 1.0})
    assert stream.getvalue().splitlines() == [stream.getvalue().splitlines()[0]]  # only the start-up line


def test_ticker_logs_share_rate_and_eta(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("tcnvae.test")
    with caplog.at_level(logging.INFO, logger="tcnvae.test"):
        ticker = Ticker(log, "parsing x", 10, "files", every=0.0)
        ticker.tick(5)
    assert caplog.messages[0] == "parsing x: 10 files"
    assert caplog.messages[1].startswith("parsing x: 5/10 files (50%)") and "ETA" in caplog.messages[1]
    assert eta_text(3725) == "1h02m" and eta_text(185) == "3m05s" and eta_text(float("nan")) == "-"


def test_ticker_keeps_a_single_item_off_info(caplog: pytest.LogCaptureFixture) -> None:
    """`analyze` reads one recording as a one-file folder: no "reading ... folder: 1 files" on stderr."""
    log = logging.getLogger("tcnvae.test")
    with caplog.at_level(logging.INFO, logger="tcnvae.test"):
        Ticker(log, "reading x folder", 1, "files")
    assert caplog.messages == []
