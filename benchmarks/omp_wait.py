"""OpenMP wait policy: one real training epoch with PyTorch's default (spinning) vs PASSIVE waits.

    .venv/bin/python benchmarks/omp_wait.py [--repeats 3] [--windows 1536] [--neighbour] [--no-append]

Each measurement is a fresh process (the policy is read once, when torch loads libgomp) that
trains one epoch of the default recipe on `windows` real `watch` training windows at the default
thread count, and reports wall and CPU seconds. Runs alternate between policies. With
--neighbour, a second process runs the same training on 2 threads in a loop throughout (the
"another 2-thread job" of a shared machine). Reports medians and the PASSIVE/default ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import append_section  # noqa: E402

_EPOCH = """
import json, os, sys, tempfile, time
import torch
from tcnvae.train.config import build_config
from tcnvae.train.loop import Trainer
from tcnvae.train.prepare import prepare
cfg = build_config(data="watch", epochs=1, max_train_windows=int(sys.argv[1]))
trainer = Trainer(cfg, prepare(cfg), tempfile.mkdtemp())
w0, c0 = time.perf_counter(), time.process_time()
trainer._train_epoch(0)
print(json.dumps({"wall": time.perf_counter() - w0, "cpu": time.process_time() - c0,
                  "threads": torch.get_num_threads(), "load": os.getloadavg()[0]}))
"""


def one_epoch(policy: str, windows: int) -> dict:
    # "default": unset, and torch is imported before tcnvae (which would set PASSIVE)
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if policy != "default":
        env["OMP_WAIT_POLICY"] = policy
    out = subprocess.run([sys.executable, "-c", _EPOCH, str(windows)], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def neighbour(windows: int) -> subprocess.Popen:
    """Another 2-thread training job, looping, with libgomp's default policy (a typical other job)."""
    loop = f"while True:\n    exec(compile({_EPOCH!r}, 'epoch', 'exec'))\n"
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    env["OMP_NUM_THREADS"] = "2"
    return subprocess.Popen([sys.executable, "-c", "import sys; sys.argv=['x', %r]\n" % str(windows) + loop],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--windows", type=int, default=1536)
    ap.add_argument("--neighbour", action="store_true", help="run another 2-thread training job throughout")
    ap.add_argument("--no-append", action="store_true")
    args = ap.parse_args()

    other = neighbour(args.windows) if args.neighbour else None
    rows: dict[str, list[dict]] = {"default": [], "PASSIVE": []}
    try:
        if other:
            time.sleep(20)  # let the neighbour reach its training steps
        for _ in range(args.repeats):
            for policy in rows:
                r = one_epoch(policy, args.windows)
                rows[policy].append(r)
                print(f"{policy:8s} wall {r['wall']:6.1f} s  cpu {r['cpu']:6.1f} s  load {r['load']:.1f}", flush=True)
    finally:
        if other:
            other.terminate()
            other.wait()

    med = {p: {k: statistics.median(r[k] for r in rs) for k in ("wall", "cpu", "load")} for p, rs in rows.items()}
    lines = ["| OMP_WAIT_POLICY | epoch wall s (median) | CPU s (median) | load avg | wall vs default |",
             "|---|---|---|---|---|"]
    for p, m in med.items():
        lines.append(f"| {'unset (libgomp spins, then sleeps)' if p == 'default' else 'PASSIVE (tcnvae default)'} "
                     f"| {m['wall']:.1f} | {m['cpu']:.1f} | {m['load']:.1f} | "
                     f"{m['wall'] / med['default']['wall']:.2f}x |")
    table = "\n".join(lines)
    print(table)
    if not args.no_append:
        cond = "beside another 2-thread training job" if args.neighbour else "no neighbour job started"
        append_section(f"OpenMP wait policy ({cond})",
                       f"One epoch of {args.windows} real `watch` windows, {args.repeats} alternating runs "
                       f"per policy, {rows['default'][0]['threads']} threads.\n\n{table}")


if __name__ == "__main__":
    main()
