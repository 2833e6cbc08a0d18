"""Session analysis on whole HAPT recordings: today's majority smoothing vs the sticky HMM.

The shipped champions (HAPT-6 and HAPT-12) analyse every experiment of the official **test**
subjects end to end (windows every `--stride` samples, the analysis pipeline's own ethogram),
and the ethogram is scored against HAPT's per-sample labels with segment-level metrics
(`tcnvae.analysis.segment_metrics`): segment precision / recall / F1 at IoU >= 0.5, median onset
error of matched segments, recall of the postural transitions (HAPT-12), and window accuracy.

The HMM's one parameter (mean dwell) is chosen on the **training** subjects' recordings from a
small grid, then applied unchanged to the test subjects.

    python benchmarks/session_temporal.py --from ../shared/data/uci-hapt.zip [--adapt] [--no-append]

With `--adapt`, each test recording is also analysed by the release adapted to that recording
alone (AdaBN on its own windows, as `tcnvae analyze --adapt` does), with both temporal models.
With `--average-shifts 25,50`, also with each window's activity probabilities averaged over its
copies shifted by ±25, ±50 samples (`tcnvae analyze --average-shifts`); the HMM's dwell is chosen
again, on the training subjects, for the averaged outputs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from _report import publish  # noqa: E402

from tcnvae.analysis.pipeline import AnalysisConfig, activity_ethogram, window_outputs  # noqa: E402
from tcnvae.analysis.segment_metrics import match, predicted_segments, summarize_matches, true_segments  # noqa: E402
from tcnvae.analysis.windows import cut_windows  # noqa: E402
from tcnvae.cli.common import average_shifts  # noqa: E402
from tcnvae.contract import RATE_HZ, WINDOW  # noqa: E402
from tcnvae.data.dataset import load_recordings  # noqa: E402
from tcnvae.data.fetch import fetch  # noqa: E402
from tcnvae.data.sources.uci_hapt import TEST_SUBJECTS  # noqa: E402
from tcnvae.registry.store import Registry  # noqa: E402
from tcnvae.runtime.engine import Engine  # noqa: E402

TRANSITIONS = {"STAND_TO_SIT", "SIT_TO_STAND", "SIT_TO_LIE", "LIE_TO_SIT", "STAND_TO_LIE", "LIE_TO_STAND"}
DWELL_GRID = (3.0, 5.0, 10.0, 20.0, 40.0)


def is_test(subject: str) -> bool:
    return int(subject.split(":")[1]) in TEST_SUBJECTS


def outputs_per_recording(engine: Engine, recordings, stride: int, release=None, shifts: tuple[int, ...] = ()):
    """(recording, windows, outputs) per recording; with `release`, each recording gets its own
    engine adapted to it first (`tcnvae analyze --adapt`: AdaBN on its windows, torch backend);
    with `shifts`, activity probabilities averaged over shifted copies (`--average-shifts`)."""
    config = AnalysisConfig(stride=stride, batch_size=256, average_shifts=shifts)
    out = []
    for rec in recordings:
        if len(rec) < WINDOW:
            continue
        windows = cut_windows(rec.signals, stride)
        mine = engine if release is None else Engine.from_release(release, backend="torch", threads=2,
                                                                   adapt=windows.x)
        out.append((rec, windows, window_outputs(rec.signals, windows, mine.run, config, labels=tuple(mine.labels),
                                                 model=mine.info.ref)))
        if mine is not engine:
            mine.close()
    return out


def score(analysed, config: AnalysisConfig, labels: tuple[str, ...]) -> dict:
    keep = set(labels)
    matches, correct, total = [], 0, 0
    for rec, windows, outputs in analysed:
        etho = activity_ethogram(outputs, windows, config)
        truth = true_segments(rec.labels, rec.label_names, RATE_HZ, keep)
        matches.append(match(predicted_segments(etho), truth))
        centre = np.minimum(windows.starts + WINDOW // 2, len(rec) - 1)
        true_lab = rec.labels[centre]
        pred = _label_at(etho, windows.starts / RATE_HZ + WINDOW / 2 / RATE_HZ)
        for tl, pl in zip(true_lab.tolist(), pred):
            if tl >= 0 and rec.label_names[tl] in keep:
                total += 1
                correct += int(pl == rec.label_names[tl])
    summary = summarize_matches(matches, TRANSITIONS & keep or None)
    summary["window_accuracy"] = correct / total if total else float("nan")
    return summary


def _label_at(etho: list[dict], times: np.ndarray) -> list[str]:
    starts = np.array([s["t_start"] for s in etho])
    idx = np.clip(np.searchsorted(starts, times, side="right") - 1, 0, len(etho) - 1)
    return [etho[i]["label"] for i in idx.tolist()]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--from", dest="from_path", type=Path, default=ROOT.parent / "shared" / "data" / "uci-hapt.zip")
    ap.add_argument("--models", type=Path, default=ROOT / "models")
    ap.add_argument("--refs", default="tcn_encoder@v1.6.0,tcn_encoder@v1.7.0")
    ap.add_argument("--stride", type=int, default=50)
    ap.add_argument("--adapt", action="store_true",
                    help="also analyse each test recording adapted to itself first (tcnvae analyze --adapt)")
    ap.add_argument("--average-shifts", default="none", metavar="D,D|none",
                    help="also analyse with probabilities averaged over windows shifted by ±D samples")
    ap.add_argument("--threads", type=int, default=2, help="ONNX Runtime threads")
    ap.add_argument("--no-append", action="store_true")
    args = ap.parse_args()
    shifts = average_shifts(args.average_shifts)
    data_dir = Path(tempfile.mkdtemp(prefix="tcnvae-session-temporal-"))
    fetch("uci-hapt", from_path=args.from_path, data_dir=data_dir)
    recordings = load_recordings("uci-hapt", data_dir)
    train = [r for r in recordings if not is_test(r.subject)]
    test = [r for r in recordings if is_test(r.subject)]
    rows = ["| model | temporal model | mean dwell (chosen on train subjects) | window acc | segment P | segment R "
            "| segment F1 | median onset error (s) | transition recall |", "|---|---|---|---|---|---|---|---|---|"]
    registry = Registry(args.models)
    for ref in args.refs.split(","):
        release = registry.open(ref)
        engine = Engine.from_release(release, backend="onnx", threads=args.threads)
        labels = tuple(engine.labels)
        base = AnalysisConfig(stride=args.stride)
        tr, te = outputs_per_recording(engine, train, args.stride), outputs_per_recording(engine, test, args.stride)
        dwell = max(DWELL_GRID, key=lambda d: score(tr, replace(base, temporal="hmm", mean_dwell_s=d), labels)["f1"])
        hmm = replace(base, temporal="hmm", mean_dwell_s=dwell)
        variants = [("majority (today)", base, "–", te), ("hmm", hmm, f"{dwell:g} s", te)]
        if shifts:
            tr_avg = outputs_per_recording(engine, train, args.stride, shifts=shifts)
            te_avg = outputs_per_recording(engine, test, args.stride, shifts=shifts)
            d_avg = max(DWELL_GRID, key=lambda d: score(tr_avg, replace(base, temporal="hmm", mean_dwell_s=d),
                                                           labels)["f1"])
            name = f"averaged ±{', ±'.join(map(str, shifts))}"
            variants += [(f"majority, {name}", base, "–", te_avg),
                         (f"hmm, {name}", replace(base, temporal="hmm", mean_dwell_s=d_avg), f"{d_avg:g} s", te_avg)]
        if args.adapt:
            te_adapted = outputs_per_recording(engine, test, args.stride, release)
            variants += [("majority, AdaBN per recording", base, "–", te_adapted),
                         ("hmm, AdaBN per recording", hmm, f"{dwell:g} s", te_adapted)]
        for name, config, d, analysed in variants:
            s = score(analysed, config, labels)
            tr_recall = f"{s['group_recall']:.3f}" if "group_recall" in s else "–"
            rows.append(f"| {ref} ({len(labels)} classes) | {name} | {d} | {s['window_accuracy']:.3f} | "
                        f"{s['precision']:.3f} | {s['recall']:.3f} | **{s['f1']:.3f}** | "
                        f"{s['median_onset_error_s']:.2f} | {tr_recall} |")
        engine.close()
    body = ("\n".join(rows) + f"\n\nAll experiments of the 9 official test subjects ({len(test)} recordings), windows every "
            f"{args.stride} samples, confidence threshold 0.5, min dwell 2 s; segment match = same label and IoU >= 0.5.")
    publish("Session analysis: majority smoothing vs HMM over window outputs (HAPT test subjects)", body,
            append=not args.no_append)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
