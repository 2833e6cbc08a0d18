"""Training throughput: windows/s and FLOP per window, against the CPU's peak, per set-up.

    .venv/bin/python benchmarks/train_throughput.py [--steps 30] [--preset deep_bn_micro_lags] [--no-append]

Rows (all the real training step: augmentation, normalization, forward, losses, backward,
clipping, AdamW, EMA, on real `watch` windows, default batch 64):
  1 process x 1 thread fp32 | 1 x 2 threads fp32 | 2 gloo processes x 1 thread (real torchrun,
  32 windows each per step, same effective batch) | bf16 autocast at 1 and 2 threads |
  1 GPU fp32 / bf16 when CUDA is present.
FLOP per window: torch.utils.flop_counter over one step (forward + backward of the batch; the
decoder runs on recon_fraction of it), divided by the batch. The reference is 1 process x 2
threads fp32 (today's default on this machine); peak = cores x clock x FLOP/cycle of the widest
SIMD the CPU reports (AVX-512: 64, AVX2+FMA: 32 fp32 FLOP/cycle/core), an upper bound.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def cpu_peak_gflops(cores: int) -> tuple[float, str]:
    """Upper-bound fp32 GFLOP/s of `cores` cores, and how it was derived."""
    text = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").is_file() else ""
    flags = next((ln.split(":", 1)[1].split() for ln in text.splitlines() if ln.startswith("flags")), [])
    mhz = [float(ln.split(":", 1)[1]) for ln in text.splitlines() if ln.startswith("cpu MHz")]
    ghz = (max(mhz) / 1000.0) if mhz else 2.0
    per_cycle = 64 if "avx512f" in flags else 32 if ("avx2" in flags and "fma" in flags) else 8
    simd = "AVX-512" if per_cycle == 64 else "AVX2+FMA" if per_cycle == 32 else "SSE"
    return cores * ghz * per_cycle, f"{cores} core(s) x {ghz:.2f} GHz x {per_cycle} FLOP/cycle ({simd})"


def _trainer(preset: str, batch: int, precision: str, world=None):
    from tcnvae.train.config import build_config
    from tcnvae.train.distributed import SINGLE
    from tcnvae.train.loop import Trainer
    from tcnvae.train.prepare import prepare

    cfg = build_config(data="watch", preset=preset, batch_size=batch, epochs=1000, max_train_windows=4096,
                       val_subjects=1)
    data = prepare(cfg)
    device = "cuda" if precision.startswith("cuda") else "cpu"
    return Trainer(cfg, data, tempfile.mkdtemp(), device=device, precision=precision.split("-")[-1],
                   world=world or SINGLE)


def _weights(tr, step: int) -> dict:
    from tcnvae.train.losses import beta_at

    return {"recon": tr.cfg.recon_weight, "cls": tr.cfg.cls_weight, "domain": tr.cfg.domain_weight,
            "beta": beta_at(step / tr.steps_per_epoch, tr.cfg.beta, tr.cfg.beta_warmup_epochs)}


def time_steps(tr, steps: int, warmup: int = 3) -> float:
    """Windows per second of this process over `steps` training steps (after `warmup`)."""
    import torch

    tr.net.train()
    batches = tr._device_batches(0)
    n, t0 = 0, 0.0
    for i in range(warmup + steps):
        if i == warmup:
            if tr.device.type == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
        try:
            x, y, d, t = next(batches)
        except StopIteration:
            batches = tr._device_batches(i)
            x, y, d, t = next(batches)
        tr._step(x, y, d, t, _weights(tr, i))
        tr._update_ema(i)
        if i >= warmup:
            n += len(y)
    if tr.device.type == "cuda":
        torch.cuda.synchronize()
    return n / (time.perf_counter() - t0)


def flop_per_window(preset: str, batch: int) -> float:
    from torch.utils.flop_counter import FlopCounterMode

    tr = _trainer(preset, batch, "fp32")
    x, y, d, t = next(tr._device_batches(0))
    with FlopCounterMode(display=False) as counter:
        tr._step(x, y, d, t, _weights(tr, 0))
    return counter.get_total_flops() / len(y)


def single(preset: str, batch: int, threads: int, precision: str, steps: int) -> float:
    import torch

    torch.set_num_threads(threads)
    return time_steps(_trainer(preset, batch, precision), steps)


def worker(args: argparse.Namespace) -> None:
    """One torchrun rank: time its steps; rank 0 prints the sum of the ranks' windows/s."""
    import torch
    import torch.distributed as dist

    from tcnvae.train.distributed import init_from_env

    torch.set_num_threads(1)
    world, _ = init_from_env(torch.device("cpu"))
    tr = _trainer(args.preset, args.batch, "fp32", world)
    rate = torch.tensor([time_steps(tr, args.steps)], dtype=torch.float64)
    dist.all_reduce(rate)
    if world.main:
        print(json.dumps({"windows_per_s": float(rate)}), flush=True)
    dist.destroy_process_group()


def ddp_rate(args: argparse.Namespace, nproc: int) -> float:
    torchrun = Path(sys.executable).with_name("torchrun")
    cmd = [str(torchrun), "--standalone", "--nproc-per-node", str(nproc), __file__, "--worker",
           "--preset", args.preset, "--batch", str(args.batch), "--steps", str(args.steps)]
    out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"},
                         timeout=3600, check=True)
    return json.loads([ln for ln in out.stdout.splitlines() if ln.startswith("{")][-1])["windows_per_s"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="deep_bn_micro_lags")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--repeats", type=int, default=3, help="median of this many timings per row")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--no-append", action="store_true")
    ap.add_argument("--note", default="", help="what else was running (goes under the table)")
    args = ap.parse_args()
    if args.worker:
        return worker(args)
    import statistics

    import torch

    from benchmarks._report import publish

    flop = flop_per_window(args.preset, args.batch)
    med = lambda f: statistics.median(f() for _ in range(args.repeats))  # noqa: E731
    rows = [("1 process x 1 thread", "fp32", 1, med(lambda: single(args.preset, args.batch, 1, "fp32", args.steps))),
            ("1 process x 2 threads", "fp32", 2, med(lambda: single(args.preset, args.batch, 2, "fp32", args.steps))),
            ("2 gloo processes x 1 thread (torchrun)", "fp32", 2, med(lambda: ddp_rate(args, 2))),
            ("1 process x 1 thread", "bf16", 1, med(lambda: single(args.preset, args.batch, 1, "bf16", args.steps))),
            ("1 process x 2 threads", "bf16", 2, med(lambda: single(args.preset, args.batch, 2, "bf16", args.steps)))]
    gpu_note = "No GPU rows: no CUDA device was available to this run."
    if torch.cuda.is_available():
        name = torch.cuda.get_device_name(0)
        for prec in ("fp32", "bf16"):
            rows.append((f"1 GPU ({name})", prec, 0, med(lambda: single(args.preset, args.batch, 1, f"cuda-{prec}",
                                                                       args.steps))))
        gpu_note = "GPU rows: fraction of peak not computed (vendor peak differs per precision)."
    ref = rows[1][3]
    lines = [f"Preset `{args.preset}`, batch {args.batch} (effective), {args.steps} timed steps after 3 warm-up, "
             f"median of {args.repeats}; {flop / 1e6:.1f} MFLOP per training window "
             "(torch.utils.flop_counter, forward + backward).", "",
             "| set-up | precision | windows/s | vs 1 x 2 threads fp32 | achieved GFLOP/s | fraction of CPU peak |",
             "|---|---|---:|---:|---:|---:|"]
    for name, prec, cores, rate in rows:
        gflops = rate * flop / 1e9
        frac = f"{gflops / cpu_peak_gflops(cores)[0]:.0%}" if cores else "-"
        lines.append(f"| {name} | {prec} | {rate:,.0f} | {rate / ref:.2f}x | {gflops:.1f} | {frac} |")
    lines += ["", f"CPU peak per core: {cpu_peak_gflops(1)[1]} = {cpu_peak_gflops(1)[0]:.0f} GFLOP/s (an upper bound). "
              "bf16 is counted at the same FLOP as fp32.", gpu_note]
    if args.note:
        lines.append(args.note)
    publish("Training throughput: threads, torchrun processes, bf16 (CPU)", "\n".join(lines),
            append=not args.no_append)


if __name__ == "__main__":
    main()
