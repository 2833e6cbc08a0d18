"""`tcnvae data list | fetch NAME [--from FILE] | inspect NAME [--json]`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tqdm import tqdm

from tcnvae.data.dataset import inspect, list_sources
from tcnvae.data.fetch import fetch


def register(sub) -> None:
    p = sub.add_parser("data", help="list, fetch and inspect IMU datasets")
    p.add_argument("--data-dir", type=Path, default=None, help="data dir (default $TCNVAE_DATA or ~/.cache/tcnvae)")
    dsub = p.add_subparsers(dest="data_cmd", required=True)
    ls = dsub.add_parser("list", help="known datasets and whether they are fetched")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    ls.set_defaults(func=_list)
    f = dsub.add_parser("fetch", help="download (or copy --from) and verify a dataset")
    f.add_argument("name", help="dataset name (tcnvae data list shows them)")
    f.add_argument("--from", dest="from_path", type=Path, default=None, help="a local copy of the official archive (default: download it)")
    f.set_defaults(func=_fetch)
    i = dsub.add_parser("inspect", help="subjects, classes, windows per class, rate, channels")
    i.add_argument("name", help="dataset name (tcnvae data list shows them)")
    i.add_argument("--json", action="store_true", help="machine-readable output")
    i.set_defaults(func=_inspect)


def _list(args: argparse.Namespace) -> int:
    rows = list_sources(args.data_dir)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'name':<10} {'fetched':<8} {'rate':>6}  description")
    for r in rows:
        print(f"{r['name']:<10} {'yes' if r['fetched'] else 'no':<8} {str(r.get('native_rate_hz') or '-'):>6}  {r.get('description', '')}")
    return 0


def _fetch(args: argparse.Namespace) -> int:
    bar = tqdm(unit="B", unit_scale=True, desc=f"fetch {args.name}", disable=None)

    def progress(done: int, total: int | None) -> None:
        bar.total = total
        bar.update(done - bar.n)

    try:
        result = fetch(args.name, from_path=args.from_path, data_dir=args.data_dir, progress=progress)
    finally:
        bar.close()
    print(f"{result.name}: {result.n_recordings} recordings at {result.path}")
    print(f"sha256 seen: {result.sha256} ({'matches the pinned hash' if result.sha256_pinned else 'no pinned hash; structure verified'})")
    if result.drops:
        print("dropped: " + ", ".join(f"{k}={v}" for k, v in result.drops.items()))
    return 0


def _inspect(args: argparse.Namespace) -> int:
    info = inspect(args.name, args.data_dir)
    if args.json:
        print(json.dumps(info, indent=2, default=str))
        return 0
    for key, value in info.items():
        if isinstance(value, dict):
            print(f"{key}:")
            for k, v in value.items():
                print(f"  {k:<24} {v}")
        else:
            print(f"{key:<26} {value}")
    return 0
