"""`tcnvae data fetch csv` on one big CSV: the columnar reader vs the row-by-row parser.

    python benchmarks/csv_import.py --mb 200 --reference-mb 20

Writes a CSV folder of real UCI HAPT raw recordings (acc in g, gyro in rad/s, 50 Hz, a `t`
and a `label` column; experiments repeated end to end until the file has the asked size),
then times the whole `tcnvae data fetch csv` command (verify + parse + resample + cache) in
a fresh process per run, with its peak RSS from the kernel (wait4). The reference is the same
command with the columnar fast path switched off, i.e. the parser before this change; it runs
on a smaller file (`--reference-mb`) because it is two orders of magnitude slower, and is
reported in MB/s, as is the new one on both sizes. The parsed recordings of the reference
size are compared between the two readers (must be identical).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
HAPT = ROOT / ".." / "shared" / "data" / "uci-hapt.zip"
NAMES = ("WALKING", "WALKING_UPSTAIRS", "WALKING_DOWNSTAIRS", "SITTING", "STANDING", "LAYING")
SLOW = "import tcnvae.data.csv_table as t; t._fast = lambda data: None\n"  # the row-by-row parser only
RUN = """import json, sys
{patch}from tcnvae.cli import main
code = main(["data", "--data-dir", sys.argv[2], "fetch", "csv", "--from", sys.argv[1]])
sys.exit(code)
"""
# The reader alone: CsvFolder.parse_with_report (read, parse, convert, resample), after the imports.
PARSE = """import json, resource, sys, time
from pathlib import Path
{patch}from tcnvae.data.sources.csv_folder import CsvFolder
import pyarrow.csv, scipy.signal  # imports (the resampler's too) are not the parser's time
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t0 = time.perf_counter()
recs, _ = CsvFolder().parse_with_report(Path(sys.argv[1]))
seconds = time.perf_counter() - t0
print(json.dumps({{"seconds": seconds, "rss_before": before,
                  "rss_peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def hapt_rows(zip_path: Path) -> list[np.ndarray]:
    """[T, 7] (acc g, gyro rad/s, label index or -1) per raw HAPT experiment."""
    out = []
    with zipfile.ZipFile(zip_path) as zf:
        table = np.loadtxt(zf.open("RawData/labels.txt"), dtype=np.int64)
        for name in sorted(n for n in zf.namelist() if n.startswith("RawData/acc_")):
            stem = name[len("RawData/acc_"):-4]
            acc = np.loadtxt(zf.open(name))
            gyro = np.loadtxt(zf.open(f"RawData/gyro_{stem}.txt"))
            lab = np.full(len(acc), -1.0)
            exp = int(stem[3:5])
            for e, _u, act, a, b in table[table[:, 0] == exp]:
                if act <= len(NAMES):
                    lab[a - 1:b] = act - 1
            out.append(np.c_[acc, gyro, lab])
    return out


def write_csv(folder: Path, experiments: list[np.ndarray], mb: float) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path, target, t0, k = folder / "recording.csv", mb * 1e6, 0.0, 0
    with open(path, "w") as f:
        f.write("t,ax,ay,az,gx,gy,gz,label\n")
        while f.tell() < target:
            x = experiments[k % len(experiments)]
            k += 1
            t = t0 + np.arange(len(x)) / 50.0
            t0 = t[-1] + 1 / 50.0
            labels = np.array([""] + list(NAMES), dtype=object)[(x[:, 6] + 1).astype(int)]
            f.writelines(f"{ti:.2f},{r[0]:.6f},{r[1]:.6f},{r[2]:.6f},{r[3]:.6f},{r[4]:.6f},{r[5]:.6f},{lab}\n"
                         for ti, r, lab in zip(t, x, labels))
    (folder / "meta.json").write_text(json.dumps({"units": {"acc": "g"}, "subjects": {"recording.csv": "s1"}}))
    return path


def fetch(folder: Path, data_dir: Path, slow: bool) -> tuple[float, float]:
    """(seconds, peak RSS MB) of one `tcnvae data fetch csv` in a fresh process."""
    code = RUN.format(patch=SLOW if slow else "")
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code, str(folder), str(data_dir)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"fetch failed: {proc.stderr.read().decode()[-2000:]}")
    return seconds, usage.ru_maxrss / 1024


def parse(folder: Path, slow: bool) -> dict:
    """Seconds and RSS (MB: after the imports, peak) of parsing the folder in a fresh process."""
    out = subprocess.run([sys.executable, "-c", PARSE.format(patch=SLOW if slow else ""), str(folder)],
                         capture_output=True, text=True, cwd=ROOT, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def same_recordings(folder: Path) -> bool:
    from tcnvae.data import csv_table
    from tcnvae.data.sources.csv_folder import CsvFolder

    fast, _ = CsvFolder().parse_with_report(folder)
    keep, csv_table._fast = csv_table._fast, lambda data: None
    try:
        slow, _ = CsvFolder().parse_with_report(folder)
    finally:
        csv_table._fast = keep
    return len(fast) == len(slow) and all(np.array_equal(a.signals, b.signals) and np.array_equal(a.labels, b.labels)
                                          for a, b in zip(fast, slow))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mb", type=float, default=200.0, help="size of the big CSV (default 200 MB)")
    ap.add_argument("--reference-mb", type=float, default=20.0, help="size both readers parse (default 20 MB)")
    ap.add_argument("--from", dest="zip", type=Path, default=HAPT)
    ap.add_argument("--no-append", action="store_true")
    args = ap.parse_args()
    experiments = hapt_rows(args.zip)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        small = write_csv(tmp / "small", experiments, args.reference_mb)
        big = write_csv(tmp / "big", experiments, args.mb)
        identical = same_recordings(small.parent)
        for name, path, slow in (("row-by-row (before)", small, True), ("columnar", small, False),
                                 ("columnar", big, False)):
            mb = path.stat().st_size / 1e6
            p = parse(path.parent, slow)
            seconds, rss = fetch(path.parent, tmp / f"data-{len(rows)}", slow)
            grown = p["rss_peak"] - p["rss_before"]
            rows.append((name, mb, p["seconds"], mb / p["seconds"], grown, grown / mb, seconds, rss))
            print(rows[-1], flush=True)
    load = os.getloadavg()
    lines = ["| reader | file MB | parse s | parse MB/s | parse peak RSS growth MB | growth / file "
             "| whole `data fetch csv` s | its peak RSS MB |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {r[0]} | {r[1]:.1f} | {r[2]:.2f} | {r[3]:.2f} | {r[4]:.0f} | {r[5]:.2f} | {r[6]:.1f} | {r[7]:.0f} |"
              for r in rows]
    speedup = rows[1][3] / rows[0][3]
    text = "\n".join(lines) + (
        f"\n\nParse = `CsvFolder.parse_with_report` (read, parse, SI units, plausibility, resample to 100 Hz) in a "
        f"fresh process after its imports (scipy.signal included); RSS growth = peak RSS minus RSS after the imports. The whole command "
        f"also verifies (a second parse), writes the recording cache and imports the CLI. Columnar vs row-by-row "
        f"on the same {rows[0][1]:.0f} MB file: **{speedup:.0f}x**; parsed recordings identical: {identical}. "
        f"Load average at the end: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}.")
    print(text)
    if not args.no_append:
        stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        with open(ROOT / "BENCHMARKS.md", "a") as f:
            f.write(f"\n## CSV import: `tcnvae data fetch csv` of one big CSV, columnar vs row-by-row\n\n"
                    f"_{stamp}_\n\n```bash\npython benchmarks/csv_import.py --mb {args.mb:g} "
                    f"--reference-mb {args.reference_mb:g}\n```\n\n{text}\n")


if __name__ == "__main__":
    main()
