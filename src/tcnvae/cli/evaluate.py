"""`tcnvae evaluate RUN_DIR|REF --data NAME [--split test]`: metrics and pictures on held-out subjects.

The test subjects are, in order: `--test-subjects`, the ones the run (or release) recorded at
training time, the dataset's default (official split, or a CSV folder's meta.json).

`--average-shifts 25,50` averages each window's class probabilities with those of the windows
cut ±25 and ±50 samples away (test-time averaging on the host: the exported graph stays one
[1, 100, 9] pass, each offset costs one more pass per answer). Measured in BENCHMARKS.md
("Test-time averaging over shifted windows"). `--adapt` classifies each test subject with the
model's BatchNorm statistics re-estimated on all of that subject's windows (AdaBN, no labels):
what `tcnvae adapt` + release would give that wearer. Both go under their own key in
eval_metrics.json (`test_adapted`, `test_averaged`, `test_adapted_averaged`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tcnvae.cli.common import MODELS_HELP, average_offsets
from tcnvae.errors import TcnvaeError
from tcnvae.evaluate import evaluate_model, write_evaluation
from tcnvae.train.prepare import adaptation_windows, shifted_windows, split_windows


def register(sub) -> None:
    p = sub.add_parser("evaluate", help="evaluate a run directory or a released model on held-out subjects")
    p.add_argument("target", help="a run directory, or a registry reference like tcn_encoder@champion")
    p.add_argument("--data", required=True, help="dataset name(s), comma-separated")
    p.add_argument("--split", choices=("test", "train", "all"), default="test",
                   help="test: the held-out subjects (default); train: the others; all: every window")
    p.add_argument("--test-subjects", default=None, metavar="A,B,...",
                   help="evaluate on these subjects (default: the ones the run recorded, else the "
                        "dataset's official split or meta.json test_subjects)")
    p.add_argument("--models", type=Path, default=None, help="for a REF: " + MODELS_HELP)
    p.add_argument("--out", type=Path, default=None, help="where to write eval_metrics.json and PNGs "
                   "(default: the run directory; for a REF eval/NAME-VERSION, since releases are immutable)")
    p.add_argument("--data-dir", type=Path, default=None, help="dataset cache (default: $TCNVAE_DATA, else ~/.cache/tcnvae)")
    p.add_argument("--average-shifts", default=None, metavar="D,D,...",
                   help="also classify each window shifted by ±D samples (0 < D < window) and average the "
                        "class probabilities, e.g. 25,50 (default: one pass)")
    p.add_argument("--adapt", action="store_true",
                   help="classify each test subject with BatchNorm statistics re-estimated on all of that "
                        "subject's windows, labels unused (AdaBN, as `tcnvae adapt` does for a new wearer)")
    p.add_argument("--device", default="auto", help="auto (CUDA when present, else CPU), cpu, cuda, cuda:N or mps")
    p.set_defaults(func=run)


def _load(args: argparse.Namespace):
    """(model, normalizer, out dir, labels.json of the run or release)."""
    target = Path(args.target)
    if target.is_dir():
        from tcnvae.data.normalize import Normalizer
        from tcnvae.model.checkpoint import load_model

        model, _ = load_model(target / "model.safetensors")
        labels_file = target / "labels.json"
        labels = json.loads(labels_file.read_text()) if labels_file.is_file() else {}
        return model, Normalizer.load(target / "normalization.json"), args.out or target, labels
    from tcnvae.registry.store import Registry

    release = Registry(args.models).open(args.target)  # verifies checksums before loading
    out = args.out or Path("eval") / f"{release.name}-{release.version}"
    return release.load_model(), release.normalizer(), out, release.read_json("labels.json")


def _test_subjects(args: argparse.Namespace, names: tuple[str, ...], labels: dict) -> list[str]:
    """--test-subjects, else what the model recorded for these datasets; refuses subjects it trained on."""
    trained = set((labels.get("subjects") or {}).get("train", [])) | set(
        (labels.get("subjects") or {}).get("validation", []))
    if args.test_subjects:
        given = [s.strip() for s in args.test_subjects.split(",") if s.strip()]
        seen = [s for s in given if s in trained or any(f"{n}:{s}" in trained for n in names)]
        if seen and args.split == "test":
            raise TcnvaeError(f"--test-subjects {','.join(seen)}: this model trained on them; a test on them "
                              f"would overstate its accuracy (use --split train to look at them)")
        return given
    recorded = (labels.get("subjects") or {}).get("test", [])
    return [s for s in recorded if s.split(":", 1)[0] in names]


def run(args: argparse.Namespace) -> int:
    from tcnvae.model.device import resolve_device

    device = resolve_device(args.device)  # before loading anything: a wrong --device fails fast
    offsets = average_offsets(args.average_shifts)
    model, normalizer, out, labels = _load(args)
    model.to(device)
    names = tuple(s for s in args.data.split(",") if s)
    test_subjects = _test_subjects(args, names, labels)
    test, train = split_windows(names, tuple(model.config.label_names), args.split, args.data_dir,
                                test_subjects=test_subjects)
    if not len(test):
        raise TcnvaeError(f"no {args.split} windows with the model's labels {list(model.config.label_names)} "
                          f"in {', '.join(names)}")
    shifted = shifted_windows(names, tuple(model.config.label_names), args.split, offsets, args.data_dir,
                              test_subjects=test_subjects)
    adapt = adaptation_windows(names, test.subjects(), args.data_dir) if args.adapt else None
    out.mkdir(parents=True, exist_ok=True)
    # adapted / averaged numbers go under their own key (test_adapted_averaged, ...): the plain ones stay
    split = "_".join([args.split] + ["adapted"] * bool(adapt) + ["averaged"] * bool(offsets))
    metrics, z = evaluate_model(model, normalizer, test, train, split, shifted=shifted, adapt=adapt)
    write_evaluation(out, metrics, model, test, z)
    summary = {k: metrics.get(k) for k in ("n_windows", "subjects", "accuracy", "macro_f1",
                                           "linear_probe_accuracy", "silhouette", "active_units")}
    if offsets:
        summary["averaged_shifts"] = offsets
    if adapt:
        summary["adapted_windows"] = metrics["adapted_windows"]
    print(json.dumps(summary, indent=2))
    print(f"wrote {out / 'eval_metrics.json'} and PNGs")
    return 0
