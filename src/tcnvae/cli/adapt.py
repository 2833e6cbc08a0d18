"""`tcnvae adapt REF RECORDING... --out RUN`: a run adapted to a new wearer without labels (AdaBN)."""

from __future__ import annotations

import argparse
from pathlib import Path

from tcnvae.contract import STRIDE


def register(sub) -> None:
    p = sub.add_parser("adapt", help="re-estimate BatchNorm statistics from a new wearer's unlabelled "
                       "recordings; writes a run directory for `tcnvae release`")
    p.add_argument("ref", help="the release to adapt, e.g. tcn_encoder@champion")
    p.add_argument("recordings", nargs="+", type=Path, help="the new wearer's CSV or JSON recordings")
    p.add_argument("--out", type=Path, required=True, help="run directory to write (must not exist)")
    p.add_argument("--models", type=Path, default=Path("models"), help="registry root")
    p.add_argument("--rate-hz", type=float, default=None, help="CSV rate when it has no t column (default: from the t column)")
    p.add_argument("--units", default=None, help="CSV units, e.g. acc:g,gyro:deg/s (default: m/s^2, rad/s, uT)")
    p.add_argument("--stride", type=int, default=STRIDE, help="samples between adaptation windows")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from tcnvae.analysis.offline import read_recording
    from tcnvae.analysis.pipeline import AnalysisConfig, checked_windows
    from tcnvae.analysis.recording_io import RecordingMeta, parse_units
    from tcnvae.registry.adapt import write_adapted_run
    from tcnvae.registry.store import Registry

    release = Registry(args.models).open(args.ref)
    meta = RecordingMeta(args.rate_hz, parse_units(args.units))
    config = AnalysisConfig(stride=args.stride)
    windows = np.concatenate([checked_windows(read_recording(p, meta), config).x for p in args.recordings])
    out = write_adapted_run(release, windows, args.out, [str(p) for p in args.recordings])
    print(f"adapted {release.ref} on {len(windows)} windows from {len(args.recordings)} recording(s) -> {out}")
    print(f"release it:  tcnvae release {out}")
    return 0
