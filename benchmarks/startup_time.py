"""Time from `tcnvae train` to its first training step, without and with the window cache.

    .venv/bin/python benchmarks/startup_time.py --data-dir DIR [--strides 50,25] [--no-append]

DIR must hold a fetched uci-hapt (`tcnvae data fetch uci-hapt --from ../shared/data/uci-hapt.zip
--data-dir DIR`; the parsed recordings are cached by the fetch). Per stride: the window cache
entries are removed, then `tcnvae train` runs twice (cold: cuts and caches the windows; warm:
memory-maps them); each run is stopped at its "first training step N s after the command
started" line, which measures from process start (imports included). Reference: the cold run.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
FIRST = re.compile(r"first training step ([0-9.]+) s after the command started")


def first_step(data_dir: Path, stride: int) -> tuple[float, int]:
    """(seconds to the first training step, training windows) of one `tcnvae train` start."""
    tmp = Path(tempfile.mkdtemp())
    config = tmp / "c.json"
    config.write_text(json.dumps({"stride": stride, "preset": "deep_bn_micro_lags"}))
    cmd = [str(Path(sys.executable).with_name("tcnvae")), "train", "--data", "uci-hapt", "--config", str(config),
           "--out", str(tmp / "run"), "--data-dir", str(data_dir), "--epochs", "1", "--threads", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seconds, windows, lines = None, 0, []
    try:
        for line in proc.stdout:
            lines.append(line)
            m = re.search(r"windows: train (\d+)", line)
            if m:
                windows = int(m.group(1))
            m = FIRST.search(line)
            if m:
                seconds = float(m.group(1))
                break
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    if seconds is None:
        raise SystemExit("no first-step line:\n" + "".join(lines[-30:]))
    return seconds, windows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--strides", default="50,25")
    ap.add_argument("--no-append", action="store_true")
    ap.add_argument("--note", default="")
    args = ap.parse_args()
    from benchmarks._report import publish

    rows = []
    for stride in (int(s) for s in args.strides.split(",")):
        for entry in (args.data_dir / "uci-hapt" / "cache").glob("windows-*"):
            shutil.rmtree(entry)
        cold, n = first_step(args.data_dir, stride)
        warm, _ = first_step(args.data_dir, stride)
        rows.append((stride, n, cold, warm))
        time.sleep(0)
    lines = ["| data | training windows | cold: windows cut (s) | warm: window cache (s) | warm / cold |",
             "|---|---:|---:|---:|---:|"]
    for stride, n, cold, warm in rows:
        lines.append(f"| uci-hapt, stride {stride} | {n:,} | {cold:.1f} | {warm:.1f} | {warm / cold:.2f} |")
    lines += ["", "Seconds from process start to the first training step (imports, data, model build), "
              "preset deep_bn_micro_lags, 2 threads. Recordings were already parsed (cached by the fetch) in both."]
    if args.note:
        lines.append(args.note)
    publish("Training start-up: time to the first training step, window cache cold vs warm", "\n".join(lines),
            append=not args.no_append)


if __name__ == "__main__":
    main()
