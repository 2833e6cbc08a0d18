"""AdaBN on held-out wearers: BatchNorm statistics re-estimated per test subject, without labels.

For each official HAPT test subject, the shipped champion's BatchNorm statistics are recomputed
from **all** windows of that subject's recordings (every position, labelled or not, as a new
wearer's unlabelled data would be), then the subject's labelled windows are classified. Reported:
pooled macro-F1 / accuracy before and after, and the per-subject change. No weight changes, no
labels used for adaptation.

    python benchmarks/adabn_subjects.py --from ../shared/data/uci-hapt.zip [--no-append]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from _report import publish  # noqa: E402

from tcnvae.analysis.windows import cut_windows  # noqa: E402
from tcnvae.contract import STRIDE, WINDOW  # noqa: E402
from tcnvae.data.dataset import load_recordings  # noqa: E402
from tcnvae.data.fetch import fetch  # noqa: E402
from tcnvae.data.sources.uci_hapt import TEST_SUBJECTS  # noqa: E402
from tcnvae.evaluate import classification_metrics  # noqa: E402
from tcnvae.model.adabn import adapt_batch_norm  # noqa: E402
from tcnvae.registry.store import Registry  # noqa: E402
from tcnvae.train.loop import predict  # noqa: E402
from tcnvae.train.prepare import split_windows  # noqa: E402


def predict_classes(model, x: np.ndarray) -> np.ndarray:
    return predict(model, x)[0].argmax(1)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--from", dest="from_path", type=Path, default=ROOT.parent / "shared" / "data" / "uci-hapt.zip")
    ap.add_argument("--models", type=Path, default=ROOT / "models")
    ap.add_argument("--refs", default="tcn_encoder@v1.6.0,tcn_encoder@v1.7.0")
    ap.add_argument("--no-append", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(2)
    data_dir = Path(tempfile.mkdtemp(prefix="tcnvae-adabn-"))
    fetch("uci-hapt", from_path=args.from_path, data_dir=data_dir)
    recordings = load_recordings("uci-hapt", data_dir)
    rows = ["| model | subjects | macro-F1 before | after AdaBN | accuracy before | after | subjects improved |",
            "|---|---|---|---|---|---|---|"]
    per_subject_lines = []
    for ref in args.refs.split(","):
        release = Registry(args.models).open(ref)
        model, norm = release.load_model(), release.normalizer()
        test, _ = split_windows(("uci-hapt",), tuple(model.config.label_names), "test", data_dir)
        y_all, before, after, deltas = [], [], [], []
        for subject in test.subjects():
            mine = test.select(test.subject == subject)
            unlabelled = np.concatenate([cut_windows(r.signals, STRIDE).x for r in recordings
                                         if r.subject == subject and len(r) >= WINDOW])
            adapted = adapt_batch_norm(model, torch.from_numpy(norm.apply(unlabelled)))
            xs = norm.apply(mine.x)
            p0, p1 = predict_classes(model, xs), predict_classes(adapted, xs)
            y_all.append(mine.y), before.append(p0), after.append(p1)
            acc0, acc1 = float((p0 == mine.y).mean()), float((p1 == mine.y).mean())
            deltas.append(acc1 - acc0)
            per_subject_lines.append(f"{ref} {subject}: accuracy {acc0:.3f} -> {acc1:.3f} "
                                     f"({len(unlabelled)} unlabelled windows)")
        y, b, a = (np.concatenate(v) for v in (y_all, before, after))
        mb = classification_metrics(y, b, test.label_names)
        ma = classification_metrics(y, a, test.label_names)
        rows.append(f"| {ref} ({len(test.label_names)} classes) | {len(deltas)} | {mb['macro_f1']:.3f} | "
                    f"**{ma['macro_f1']:.3f}** | {mb['accuracy']:.3f} | {ma['accuracy']:.3f} | "
                    f"{sum(d > 0 for d in deltas)} of {len(deltas)} (mean Δacc {np.mean(deltas):+.3f}) |")
    body = ("\n".join(rows) + "\n\nAdaptation data per subject: every window (stride "
            f"{STRIDE}) of that subject's recordings, labels unused. Per subject:\n\n"
            + "\n".join(f"- {line}" for line in per_subject_lines))
    publish("AdaBN: BatchNorm statistics re-estimated per held-out HAPT subject (no labels)", body,
            append=not args.no_append)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
