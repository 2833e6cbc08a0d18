"""Test-time averaging over shifted windows: does averaging a window's neighbours help new people?

For every labelled evaluation window of the official HAPT test subjects (the windows `tcnvae
evaluate` scores: pure-label runs, stride 50, starting at each run's start), the released model
also classifies the windows shifted by the given offsets (clipped to the recording; a shifted
window may reach into the next activity, as it would for a host that averages its neighbours
live), and the class probabilities are averaged. The exported graph stays one [1, 100, 9] pass:
the average is host-side, and costs one extra model call per offset (reported as passes per
answer; a live host with stride 25 gets the ±25 neighbours for free, they are its own windows).

    python benchmarks/tta_shifts.py --from ../shared/data/uci-hapt.zip [--offsets 25,50] [--no-append]
    python benchmarks/tta_shifts.py --runs runs/suite/watch/seed-0/fold-*   # CV folds of recipe_suite.py

With `--runs`, each run folder's model is scored on the test subjects it recorded (the folds of
`benchmarks/recipe_suite.py` or `tcnvae cv`): the subject-wise check that the test split alone
cannot give. `--minirocket` (run folders only) refits MiniRocket on the windows each run trained
on (training + validation subjects) and averages it the same way — as a vote, since its ridge
classifier gives no probabilities (ties go to the unshifted window) — so that the comparison with
the reference stays like for like.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from _minirocket import minirocket_fit  # noqa: E402
from _report import publish  # noqa: E402

from tcnvae.data.dataset import default_test_subjects  # noqa: E402
from tcnvae.data.fetch import fetch  # noqa: E402
from tcnvae.data.normalize import Normalizer  # noqa: E402
from tcnvae.model.checkpoint import load_model  # noqa: E402
from tcnvae.evaluate import classification_metrics  # noqa: E402
from tcnvae.registry.store import Registry  # noqa: E402
from tcnvae.train.config import build_config  # noqa: E402
from tcnvae.train.loop import predict  # noqa: E402
from tcnvae.train.prepare import prepare, shifted_windows, split_windows  # noqa: E402


def models_to_score(args, data_dir: Path):
    """(name, model, normalizer, dataset, test subjects) per release (official split) or run folder."""
    if args.runs:
        for run in args.runs:
            cfg = json.loads((run / "train_config.json").read_text())
            model, _ = load_model(run / "model.safetensors")
            (name,) = cfg["data"]
            yield f"{run.parent.parent.name} {run.name}", model, Normalizer.load(run / "normalization.json"), \
                name, cfg["test_subjects"], run
        return
    fetch("uci-hapt", from_path=args.from_path, data_dir=data_dir)
    for ref in args.refs.split(","):
        release = Registry(args.models).open(ref)
        yield (ref, release.load_model(), release.normalizer(), "uci-hapt", default_test_subjects("uci-hapt", data_dir),
               None)


def minirocket_votes(run: Path, windows: dict[int, np.ndarray], n_classes: int, data_dir: Path) -> dict:
    """One-hot MiniRocket answers per shift, fitted on exactly the windows the run trained on: their
    mean is a vote (a tie goes to the unshifted window)."""
    data = prepare(build_config(run / "train_config.json"), data_dir)
    fit, _ = minirocket_fit(data.normalizer, np.concatenate([data.train.x, data.val.x]),
                            np.concatenate([data.train.y, data.val.y]))
    onehot = {d: np.eye(n_classes)[fit(x)] for d, x in windows.items()}
    onehot[0] = onehot[0] * (1 + 1e-6)
    return onehot


def averaged_rows(who: str, outputs: dict[int, np.ndarray], y: np.ndarray, label_names: tuple[str, ...],
                  offsets: list[int], deltas: dict[int, list[float]]) -> list[str]:
    """Table rows: one pass, then the average over ±offsets[0], ±offsets[:2], ...; Δs are collected."""
    base = outputs[0].argmax(1)
    m0 = classification_metrics(y, base, label_names)
    rows = [f"| {who} ({len(label_names)} classes) | 0 (one pass) | 1 | {m0['macro_f1']:.3f} | "
            f"{m0['accuracy']:.3f} | — | — |"]
    for k in range(1, len(offsets) + 1):
        use = [0] + [s * d for d in offsets[:k] for s in (-1, 1)]
        pred = np.mean([outputs[d] for d in use], axis=0).argmax(1)
        m = classification_metrics(y, pred, label_names)
        better, worse = int(((pred == y) & (base != y)).sum()), int(((pred != y) & (base == y)).sum())
        deltas.setdefault(k, []).append(m["macro_f1"] - m0["macro_f1"])
        rows.append(f"| {who} | {', '.join(f'{d:+d}' for d in sorted(use))} | {len(use)} | **{m['macro_f1']:.3f}** | "
                    f"{m['accuracy']:.3f} | {m['macro_f1'] - m0['macro_f1']:+.3f} | {better} / {worse} |")
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--from", dest="from_path", type=Path, default=ROOT.parent / "shared" / "data" / "uci-hapt.zip")
    ap.add_argument("--models", type=Path, default=ROOT / "models")
    ap.add_argument("--refs", default="tcn_encoder@v1.6.0,tcn_encoder@v1.7.0")
    ap.add_argument("--offsets", default="25,50",
                    help="shifts in samples, each used as ±: 25,50 scores ±25 and then ±25 with ±50")
    ap.add_argument("--runs", type=Path, nargs="+", default=None,
                    help="run folders (e.g. CV folds) instead of releases")
    ap.add_argument("--minirocket", action="store_true", help="with --runs: MiniRocket averaged the same way")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--no-append", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    offsets = [int(v) for v in args.offsets.split(",")]
    data_dir = Path(tempfile.mkdtemp(prefix="tcnvae-tta-"))
    fetched: set[str] = set()
    rows = ["| model | averaged over (samples) | passes per answer | macro-F1 | accuracy | Δ macro-F1 vs one pass |"
            " windows improved / worsened |", "|---|---|---:|---:|---:|---:|---|"]
    deltas: dict[bool, dict[int, list[float]]] = {}  # MiniRocket or not -> offsets used -> Δ per model
    for ref, model, norm, dataset, test_subjects, run in models_to_score(args, data_dir):
        if dataset == "uci-hapt" and args.runs and dataset not in fetched:  # embedded sets (watch) fetch themselves
            fetch("uci-hapt", from_path=args.from_path, data_dir=data_dir)
        fetched.add(dataset)
        label_names = tuple(model.config.label_names)
        signed = sorted({s * d for d in offsets for s in (-1, 1)})
        test, _ = split_windows((dataset,), label_names, "test", data_dir, test_subjects=test_subjects)
        y = test.y
        windows = {0: test.x, **{d: ws.x for d, ws in shifted_windows((dataset,), label_names, "test", signed,
                                                                       data_dir, test_subjects=test_subjects).items()}}
        t0 = time.perf_counter()
        probs = {d: predict(model, norm.apply(x))[0] for d, x in windows.items()}
        per_pass_ms = (time.perf_counter() - t0) / (len(windows) * len(y)) * 1e3
        scored = {ref: probs}
        if args.minirocket and run is not None:
            scored[f"{ref}, MiniRocket"] = minirocket_votes(run, windows, len(label_names), data_dir)
        for who, outputs in scored.items():
            by_k = deltas.setdefault(who.endswith("MiniRocket"), {})
            rows += averaged_rows(who, outputs, y, label_names, offsets, by_k)
        print(f"{ref}: {len(y)} windows, {per_pass_ms:.3f} ms per window pass (torch, {args.threads} thread)",
              flush=True)
    for is_mr, by_k in deltas.items():
        for k, d in by_k.items():
            if len(d) > 1:
                rows.append(f"\n{'MiniRocket' if is_mr else 'TCN-VAE'}: mean Δ macro-F1 over {len(d)} models, "
                            f"±{', ±'.join(map(str, offsets[:k]))}: {np.mean(d):+.3f} (sd {np.std(d, ddof=1):.3f}; "
                            f"{sum(v > 0 for v in d)} of {len(d)} improved)")
    where = "each run's recorded test subjects" if args.runs else f"the {len(test_subjects)} official test subjects"
    body = ("\n".join(rows) + f"\n\nEvaluation windows of {where} "
            "(pure-label runs, stride 50); shifted windows clipped to their recording. Cost: the host makes "
            "one model call per averaged window (the exported graph is unchanged); on the sidecar's fp32 "
            "graph that is ~1 ms of CPU per extra window at batch 1 (BENCHMARKS.md, export speed).")
    scope = "CV folds, their test subjects" if args.runs else "HAPT test subjects"
    publish(f"Test-time averaging over shifted windows ({scope})", body, append=not args.no_append)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
