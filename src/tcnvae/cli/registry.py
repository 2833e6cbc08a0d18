"""`tcnvae registry list|show|verify|promote|pack|unpack`: look after released models."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tcnvae.cli.common import MODELS_HELP


def register(sub) -> None:
    p = sub.add_parser("registry", help="list, show, verify, promote, pack and unpack releases")
    rsub = p.add_subparsers(dest="registry_cmd", metavar="COMMAND", required=True)

    def cmd(name: str, func, help_text: str, json_flag: bool = False) -> argparse.ArgumentParser:
        c = rsub.add_parser(name, help=help_text)
        c.add_argument("--models", type=Path, default=None, help=MODELS_HELP)
        if json_flag:
            c.add_argument("--json", action="store_true", help="machine-readable output")
        c.set_defaults(func=func)
        return c

    cmd("list", _list, "every release: version, aliases, test metrics, date", json_flag=True)
    cmd("show", _show, "one release: files, metrics, model card", json_flag=True).add_argument(
        "ref", metavar="REF", help="name, name@vX.Y.Z or name@alias")
    verify = cmd("verify", _verify, "recompute every checksum (all releases without REF)", json_flag=True)
    verify.add_argument("ref", metavar="REF", nargs="?", help="one release (default: every release)")
    verify.add_argument("--fix", action="store_true",
                        help="also remove staging folders left by killed releases and write CHANGELOG "
                             "entries that are missing (never touches a release)")
    promote = cmd("promote", _promote, "point an alias (e.g. champion) at a verified release")
    promote.add_argument("ref", metavar="REF", help="name, name@vX.Y.Z or name@alias")
    promote.add_argument("alias", metavar="ALIAS", help="e.g. champion or candidate")
    pack = cmd("pack", _pack, "write NAME-vX.Y.Z.tar.gz and its .sha256")
    pack.add_argument("ref", metavar="REF", help="name, name@vX.Y.Z or name@alias")
    pack.add_argument("--out", type=Path, default=Path("."), help="output folder (default: .)")
    cmd("unpack", _unpack, "install a packed release after checking it").add_argument(
        "tarball", type=Path, metavar="TARBALL", help="a NAME-vX.Y.Z.tar.gz written by pack")


def _registry(args: argparse.Namespace):
    from tcnvae.registry.store import Registry

    return Registry(args.models)


def _list(args: argparse.Namespace) -> int:
    from tcnvae.registry.release import describe

    reg = _registry(args)
    rows = [describe(reg, name, v) for name in reg.names() for v in reg.versions(name)]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print(f"no releases in {reg.root}")
        return 0
    table = [("name", "version", "aliases", "data", "labels", "test macro-F1", "accuracy", "created", "registry")]
    table += [(r["name"], r["version"], ",".join(r["aliases"]) or "-", ",".join(r["datasets"]) or "-",
               str(r["n_labels"]) if r["n_labels"] is not None else "-", _num(r["test_macro_f1"]),
               _num(r["test_accuracy"]), (r["created"] or "-")[:10], r["registry"]) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    return 0


def _num(v: object) -> str:
    return f"{v:.4f}" if isinstance(v, (int, float)) and not isinstance(v, bool) else "-"


def _show(args: argparse.Namespace) -> int:
    from tcnvae.registry.checksums import read_sums
    from tcnvae.registry.release import describe

    reg = _registry(args)
    release = reg.open(args.ref)
    info = {**describe(reg, release.name, release.version), "path": str(release.path),
            "labels": release.labels, "files": read_sums(release.path),
            "eval_metrics": release.read_json("eval_metrics.json")}
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        print((release.path / "model_card.md").read_text())
        print(f"files ({len(info['files'])}, verified):")
        for rel, digest in info["files"].items():
            print(f"  {digest[:16]}  {rel}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    reg = _registry(args)
    if args.fix:
        for folder in reg.clean_staging():
            print(f"removed stale staging folder {folder}", file=sys.stderr)
        for ref in reg.sync_changelog():
            print(f"added the missing CHANGELOG entry of {ref}", file=sys.stderr)
    refs = [args.ref] if args.ref else [f"{n}@{v}" for n in reg.names() for v in reg.versions(n)]
    if not refs:
        print(f"tcnvae registry verify: error: no releases in {reg.root}", file=sys.stderr)
        return 1
    results = []
    for ref in refs:
        release, report = reg.verify(ref)
        results.append({"ref": release.ref, "path": str(release.path), "ok": report.ok,
                         "problems": report.problems()})
    if args.json:
        print(json.dumps(results, indent=2))
    for r in results if not args.json else []:
        print(f"{'OK    ' if r['ok'] else 'FAILED'} {r['ref']}  {r['path']}")
        for problem in r["problems"]:
            print(f"         {problem}")
    bad = [r["ref"] for r in results if not r["ok"]]
    if bad:
        print(f"tcnvae registry verify: error: {len(bad)} release(s) failed verification: {', '.join(bad)}",
              file=sys.stderr)
    return 1 if bad else 0


def _promote(args: argparse.Namespace) -> int:
    reg = _registry(args)
    version = reg.promote(args.ref, args.alias)
    print(f"{args.ref.partition('@')[0]}@{args.alias} -> {version}")
    return 0


def _pack(args: argparse.Namespace) -> int:
    from tcnvae.registry.pack import pack

    tarball, sha = pack(_registry(args), args.ref, args.out)
    print(f"{tarball}\n{sha}")
    return 0


def _unpack(args: argparse.Namespace) -> int:
    from tcnvae.registry.pack import unpack

    release = unpack(_registry(args), args.tarball)
    print(f"unpacked {release.ref} into {release.path} (verified)")
    return 0
