"""`tcnvae analyze RECORDING --model REF`: offline analysis with the in-process Engine."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tcnvae.cli.common import MODELS_HELP
from tcnvae.contract import STRIDE


def register(sub) -> None:
    p = sub.add_parser("analyze", help="analyse one recording offline: results.json, ethogram.png, report.html")
    p.add_argument("recording", type=Path, help="a CSV file (documented format) or a JSON recording")
    p.add_argument("--model", required=True, help="registry reference, e.g. tcn_encoder@champion")
    p.add_argument("--models", type=Path, default=None, help=MODELS_HELP)
    p.add_argument("--out", type=Path, default=None, help="output folder (default: analysis-<recording name>)")
    p.add_argument("--stride", type=int, default=STRIDE, help=f"samples between windows (default {STRIDE})")
    p.add_argument("--rate-hz", type=float, default=None, help="CSV rate when it has no t column (default: from the t column)")
    p.add_argument("--units", default=None, help="CSV units, e.g. acc:g,gyro:deg/s (default: m/s^2, rad/s, uT)")
    p.add_argument("--backend", default=None, choices=("onnx", "torch"),
                   help="runtime for the model (default: onnx; torch with --adapt)")
    p.add_argument("--adapt", action="store_true",
                   help="first re-estimate the model's BatchNorm statistics on this recording's own windows "
                        "(AdaBN: no labels, no weight changes; a new wearer or placement), torch backend")
    p.add_argument("--device", default="cpu", help="torch backend only: cpu (default), auto, cuda, cuda:N or mps")
    p.add_argument("--smooth-windows", type=int, default=5,
                   help="majority filter width in windows (odd; the motif ethogram, and activities with "
                        "--temporal majority)")
    p.add_argument("--min-dwell-s", type=float, default=2.0, help="shortest ethogram segment in seconds")
    p.add_argument("--confidence", type=float, default=0.5, help="below it a window is 'uncertain'")
    p.add_argument("--temporal", default="hmm", choices=("majority", "hmm"),
                   help="activity segments from a sticky HMM over the window outputs (Viterbi; default: "
                        "segment F1 0.931 vs 0.884 for the majority filter on HAPT test recordings, "
                        "BENCHMARKS.md), or the majority filter of --smooth-windows (what live streams use)")
    p.add_argument("--mean-dwell-s", type=float, default=10.0, help="the HMM's expected bout length in seconds")
    p.add_argument("--average-shifts", default="none", metavar="D,D|none",
                   help="average each window's activity probabilities with the same window shifted by ±D "
                        "samples (host-side; ~2 model passes per window for 25,50 at stride 50; no gain "
                        "over the HMM on HAPT, +0.04 segment F1 with the majority filter; default: none)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from tcnvae.analysis.offline import analyze_file, open_engine, read_recording
    from tcnvae.analysis.pipeline import AnalysisConfig, checked_windows
    from tcnvae.cli.common import average_shifts
    from tcnvae.errors import TcnvaeError
    from tcnvae.analysis.recording_io import RecordingMeta, parse_units
    from tcnvae.extras import require

    config = AnalysisConfig(stride=args.stride, smooth_windows=args.smooth_windows,
                            min_dwell_s=args.min_dwell_s, confidence_threshold=args.confidence,
                            temporal=args.temporal, mean_dwell_s=args.mean_dwell_s,
                            average_shifts=average_shifts(args.average_shifts))
    if args.adapt and args.backend == "onnx":
        raise TcnvaeError("--adapt needs --backend torch: the exported ONNX graph has the training BatchNorm "
                          "statistics folded into its convs (or `tcnvae adapt` + release + export for the edge)")
    backend = args.backend or ("torch" if args.adapt else "onnx")
    if backend == "torch":  # a missing extra fails first and alone, before the recording is read
        require("torch", "--adapt" if args.adapt else "the torch backend")
    recording = read_recording(args.recording, RecordingMeta(args.rate_hz, parse_units(args.units)))
    for warning in recording.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    out = args.out or Path(f"analysis-{args.recording.stem}")
    adapt = checked_windows(recording, config).x if args.adapt else None
    engine = open_engine(args.model, args.models, backend, args.device, adapt)
    adaptation = None if adapt is None else {"method": "AdaBN (BatchNorm running statistics re-estimated)",
                                             "n_windows": int(len(adapt)), "stride": config.stride}
    bar = tqdm(unit="win", desc="analyze", total=None, delay=0.5)
    try:
        results, paths = analyze_file(recording, engine, out, config, on_start=lambda n: setattr(bar, "total", n),
                                      progress=bar.update, adaptation=adaptation)
    finally:
        bar.close()
        engine.close()
    print(f"{results['n_windows']} windows, {results['recording']['duration_s']:.1f} s, model {results['model']}")
    rows = [(label, f"{seconds:.1f} s") for label, seconds in (results["time_per_activity"] or {}).items()]
    if rows:  # one column width for every row, whatever the label lengths
        width, num = max(len(k) for k, _ in rows), max(len(v) for _, v in rows)
        print(f"  {'activity':<{width}}  {'time':>{num}}")
        for label, seconds in rows:
            print(f"  {label:<{width}}  {seconds:>{num}}")
    width = max(len(k) for k in paths)
    for kind, path in paths.items():
        print(f"{kind:<{width}}  {path}")
    return 0
