"""`tcnvae export REF`: edge and server artifacts of a release (thin shell over tcnvae.export)."""

from __future__ import annotations

import argparse
import json
import sys

from tcnvae.cli.common import MODELS_HELP


def register(sub) -> None:
    p = sub.add_parser("export", help="export a release to ONNX (static/dynamic/INT8), Hailo report, Triton repo",
                       description="Build encoder_static.onnx (Hailo, opset 11), encoder.onnx (free batch), "
                                   "encoder_int8.onnx, parity.json, hailo_report.json and a Triton repository, "
                                   "check parity, then add them to the release's export/ folder.")
    p.add_argument("ref", help="release reference, e.g. tcn_encoder@v1.0.0 or tcn_encoder@champion")
    p.add_argument("--models", default=None, help=MODELS_HELP)
    p.add_argument("--skip-int8", action="store_true", help="do not build encoder_int8.onnx")
    p.add_argument("--calibration", default=None, metavar="DATASET|FILE.npy",
                   help="INT8 calibration windows: a fetched dataset's training subjects (e.g. uci-hapt) or a "
                        ".npy of raw SI windows [N, 100, 9] (default: the release's samples/calibration.npy)")
    p.add_argument("--data-dir", default=None, help="data dir for --calibration DATASET (default: $TCNVAE_DATA)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tcnvae.export import export_release
    from tcnvae.registry.store import Registry

    summary = export_release(Registry(args.models), args.ref, int8=not args.skip_int8,
                             calibration=args.calibration, data_dir=args.data_dir)
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    state = "already exported (verified)" if summary["already_exported"] else "exported"
    print(f"{summary['ref']}: {state} -> {summary['export_dir']}")
    for name, check in summary["checks"].items():
        op = ">=" if check["kind"] == "min" else "<="
        print(f"  {'ok  ' if check['pass'] else 'FAIL'} {name:32s} {check['measured']:.6g} ({op} {check['bound']:g})")
    for rel in summary["files"]:
        print(f"  export/{rel}")
    sys.stdout.flush()
    return 0
