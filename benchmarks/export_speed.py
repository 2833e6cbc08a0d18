"""Single-thread ONNX Runtime speed of the exported encoder (fp32, INT8) beside the seed's v0.1.0 ONNX.

    .venv/bin/python benchmarks/export_speed.py [--ref tcn_encoder@champion] [--models models]

Windows per second at batch 1 and 64 on ONE thread (intra=1, inter=1, sequential, all graph
optimizations), median of --repeats runs. The seed graph has a fixed batch of 1, so its batch-64
row is 64 calls. Without the release in --models, a release of the seed's architecture and
width is built in a temp folder (tests.support), so the comparison stays fair. Prints a markdown
table and appends it to BENCHMARKS.md with the command, date and machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import shlex
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / ".." / "shared" / "legacy" / "tcn_encoder_for_edgeinfer.onnx"


def session(path: Path):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


class Timer:
    """One graph at one batch size; `once()` returns windows/s over a fixed number of windows."""

    def __init__(self, path: Path, batch: int, budget_windows: int = 512) -> None:
        self.sess = session(path)
        inp = self.sess.get_inputs()[0]
        x = np.random.default_rng(0).normal(size=(batch, 100, 9)).astype(np.float32)
        fixed = inp.shape[0] == 1  # the seed graph: batch 64 is 64 calls
        self.feeds = [{inp.name: x[i:i + 1]} for i in range(batch)] if fixed else [{inp.name: x}]
        self.batch, self.calls = batch, max(1, budget_windows // batch)
        for feed in self.feeds * 3:
            self.sess.run(None, feed)  # warm-up

    def once(self) -> float:
        t0 = time.perf_counter()
        for _ in range(self.calls):
            for feed in self.feeds:
                self.sess.run(None, feed)
        return self.calls * self.batch / (time.perf_counter() - t0)


def measure(graphs: dict[str, Path], repeats: int) -> list[tuple[str, int, float]]:
    """Median windows/s per (graph, batch); repeats interleave the graphs so load on a shared
    machine hits all of them alike."""
    timers = {(name, b): Timer(path, b) for name, path in graphs.items() for b in (1, 64)}
    rates: dict[tuple[str, int], list[float]] = {k: [] for k in timers}
    for _ in range(repeats):
        for key, timer in timers.items():
            rates[key].append(timer.once())
    return [(name, b, float(np.median(r))) for (name, b), r in rates.items()]


def open_release(ref: str, models: Path, tmp: Path):
    """The release to benchmark (exported if needed); a fresh seed-width release if `ref` is absent."""
    sys.path.insert(0, str(ROOT))
    from tcnvae.errors import TcnvaeError
    from tcnvae.export import export_release
    from tcnvae.registry.store import Registry

    registry = Registry(models)
    try:
        registry.open(ref)
        note = f"{ref} from {models}"
    except TcnvaeError:
        from tests import support

        run = tmp / "run"
        run.mkdir()
        registry = Registry(support.make_registry(tmp / "models", support.make_run_dir(run)))
        ref, note = "tcn_encoder@champion", f"{ref} not in {models}: fresh seed-width release from tests.support"
    export_release(registry, ref, int8=True)
    return registry.open(ref), note


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def table(rows: list[tuple[str, int, float]], seed: dict[int, float], fp32: dict[int, float]) -> str:
    lines = ["| model | batch | windows/s | ms/window | vs seed | vs fp32 |", "|---|---|---|---|---|---|"]
    for name, batch, rate in rows:
        lines.append(f"| {name} | {batch} | {rate:,.0f} | {1000 / rate:.3f} | {rate / seed[batch]:.2f}x "
                     f"| {rate / fp32[batch]:.2f}x |")
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ref", default="tcn_encoder@champion")
    p.add_argument("--models", type=Path, default=ROOT / "models")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    p.add_argument("--compare", nargs="+", default=[], metavar="LABEL=PATH",
                   help="more graphs measured in the same interleaved run, e.g. an older export's "
                        "'shipped v1.6.0 INT8=models/tcn_encoder/v1.6.0/export/encoder_int8.onnx'")
    args = p.parse_args()
    extra = {}
    for item in args.compare:
        label, sep, path = item.partition("=")
        if not sep or not Path(path).is_file():
            p.error(f"--compare {item!r}: expected LABEL=PATH to an .onnx file")
        extra[label] = Path(path).resolve()
    with tempfile.TemporaryDirectory() as tmp:
        release, note = open_release(args.ref, args.models, Path(tmp))
        graphs = {"seed v0.1.0 fp32 (opset 11, batch fixed 1)": SEED.resolve(),
                  f"{release.ref} encoder.onnx fp32": release.export_dir / "encoder.onnx",
                  f"{release.ref} encoder_int8.onnx INT8 QDQ": release.export_dir / "encoder_int8.onnx", **extra}
        rows = measure(graphs, args.repeats)
    seed = {b: r for n, b, r in rows if n.startswith("seed")}
    fp32 = {b: r for n, b, r in rows if n.endswith("encoder.onnx fp32") and not n.startswith("seed")}
    text = "\n".join([
        f"## Export speed — ONNX Runtime, 1 thread ({dt.date.today().isoformat()})", "",
        f"Command: `.venv/bin/python benchmarks/export_speed.py {shlex.join(sys.argv[1:])}`  ",
        f"Machine: {platform.platform()}, {cpu_model()}, Python {platform.python_version()}, "
        f"onnxruntime {__import__('onnxruntime').__version__}  ",
        f"Release: {note}. Median of {args.repeats} interleaved repeats; intra_op=1, inter_op=1, sequential, "
        "ORT_ENABLE_ALL; the seed's batch-64 row is 64 calls of batch 1.", "",
        table(rows, seed, fp32), ""])
    print(text)
    with open(args.out, "a") as f:
        f.write(("\n" if args.out.exists() and args.out.stat().st_size else "") + text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
