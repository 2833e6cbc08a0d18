"""Load-test the inference sidecar with wrk on loopback, beside the seed-style server, in one run.

    .venv/bin/python benchmarks/serve_load.py --models models --ref tcn_encoder@champion

Servers, all started first and then measured interleaved (for each concurrency, each server in
turn, so a change in the machine's load hits every server alike):

- seed-style: benchmarks/naive_server.py (FastAPI + pydantic per-element validators + PyTorch
  eager, batch 1), the reference every ratio is taken against;
- `tcnvae serve` with its defaults (one process), and with `--workers 2` for fp32 /infer,
  `--precision int8` /infer and /v2 binary (Open Inference Protocol binary tensors), and
  `--workers 2 --max-inflight 8` (load shedding: 503 + Retry-After on arrival beyond 8 held
  requests per worker);
- or, with `--variants "FLAGS" ...`, the seed-style server beside `tcnvae serve FLAGS` for
  each design to compare (workers, engine thread, batcher wait, ...).

wrk shares the cores with the servers; `--client-cpus` / `--server-cpus` pin them with taskset.
- a real tritonserver (PyTriton binding the Engine, `python -m tcnvae.serve.triton_python`)
  with the same /v2 binary body, where nvidia-pytriton is installed.

Per run: p50 / p99 (wrk --latency, over every answer), an upper bound on the p99 of the 200
answers alone (the slowest ok/total % of all answers: 503s answered on arrival are fast and
would otherwise flatter the p99 of a server that sheds load), requests/s, the ratio to the seed-style server at the same
concurrency, statuses (503 with Retry-After counted apart from any other non-200), and the
server's CPU milliseconds per request (utime + stime of its whole process tree, from /proc),
which depends far less on what else the machine runs than wall-clock numbers do.
Prints a markdown table and appends it to BENCHMARKS.md with the command, date, machine and load.
Needs `wrk` on PATH.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
LUA = ROOT / "benchmarks" / "post.lua"
SAMPLE = ROOT / ".." / "shared" / "conformance" / "realistic_imu_sample.json"
TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(cmd: list[str], ready_url: str, deadline_s: float = 300.0) -> subprocess.Popen:
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}")
        try:
            if httpx.get(ready_url, timeout=1.0).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        try:
            proc.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            pass
    proc.kill()
    raise SystemExit(f"{' '.join(cmd)} not ready in {deadline_s} s")


def tree_cpu_s(pid: int) -> float:
    """utime + stime (s) of pid and every descendant (workers, tritonserver, the python stub)."""
    children: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(d.name))
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICK
        except (OSError, IndexError, ValueError):
            pass
        todo.extend(children.get(p, []))
    return total


def wrk(url: str, body: Path, conns: int, seconds: int, pid: int, env: dict[str, str],
        pin: list[str] = ()) -> dict:
    cpu0 = tree_cpu_s(pid)
    out = subprocess.run([*pin, "wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--timeout", "10s", "--latency", "-s",
                          str(LUA), url], capture_output=True, text=True,
                         env={**os.environ, "TCNVAE_BODY": str(body), **env}, check=True).stdout
    cpu = tree_cpu_s(pid) - cpu0

    def ms(label: str) -> float:
        m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        return float(m[1]) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[m[2]] if m else float("nan")
    st = re.search(r"statuses ok=(\d+) busy_retry_after=(\d+) busy_no_retry=(\d+) other=(\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    ok, busy, busy_bare, other = (int(g) for g in st.groups())
    ok99 = re.search(r"p99_ok_bound_us=(\d+)", out)
    return {"p50": ms("50"), "p99": ms("99"), "p99_ok": int(ok99[1]) / 1e3 if ok99 else float("nan"),
            "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1]),
            "ok": ok, "503": busy, "bad": busy_bare + other + (sum(map(int, sock.groups())) if sock else 0),
            "cpu_ms": cpu * 1e3 / max(1, ok + busy + busy_bare + other)}


def oip_binary_body(path: Path, x: list) -> str:
    """An Open Inference Protocol request with the window as a binary tensor; returns the header length."""
    raw = np.asarray([x], dtype="<f4").tobytes()
    header = json.dumps({"inputs": [{"name": "x", "shape": [1, 100, 9], "datatype": "FP32",
                                     "parameters": {"binary_data_size": len(raw)}}],
                         "outputs": [{"name": n, "parameters": {"binary_data": True}}
                                     for n in ("latent", "motif_scores", "activity_probs")]}).encode()
    path.write_bytes(header + raw)
    return str(len(header))


def taskset(cpus: str | None) -> list[str]:
    return ["taskset", "-c", cpus] if cpus else []


def servers(a: argparse.Namespace) -> list[dict]:
    tcnvae = str(Path(sys.executable).with_name("tcnvae"))
    base = [*taskset(a.server_cpus), tcnvae, "serve", a.ref, "--models", a.models]
    out = [{"name": "seed-style", "cmd": [*taskset(a.server_cpus), sys.executable,
                                           str(ROOT / "benchmarks" / "naive_server.py"),
                                           "--models", a.models, "--ref", a.ref, "--port"], "ready": "/healthz"}]
    if a.variants:  # compare server designs: each variant is extra `tcnvae serve` flags
        out += [{"name": f"tcnvae serve {v}".strip(), "cmd": [*base, *v.split(), "--port"], "ready": "/healthz",
                 "variant": True} for v in a.variants]
    else:
        out += [{"name": "tcnvae serve (1 process)", "cmd": [*base, "--port"], "ready": "/healthz"},
                {"name": f"tcnvae serve --workers {a.workers}", "cmd": [*base, "--workers", str(a.workers), "--port"],
                 "ready": "/healthz"},
                {"name": f"tcnvae serve --workers {a.workers} --max-inflight {a.max_inflight}",
                 "cmd": [*base, "--workers", str(a.workers), "--max-inflight", str(a.max_inflight), "--port"],
                 "ready": "/healthz"},
                {"name": f"tcnvae serve --workers {a.workers} --precision int8",
                 "cmd": [*base, "--workers", str(a.workers), "--precision", "int8", "--port"], "ready": "/healthz"}]
    if not a.variants and importlib.util.find_spec("pytriton") is not None and not a.skip_triton:
        out.append({"name": "tritonserver (PyTriton + Engine)", "triton": True, "ready": "/v2/models/tcn_encoder/ready",
                    "cmd": [sys.executable, "-m", "tcnvae.serve.triton_python", a.ref, "--models", a.models]})
    for s in out:
        s["port"] = free_port()
        s["cmd"] = (s["cmd"] + ["--http-port", str(s["port"]), "--grpc-port", str(free_port()),
                                "--metrics-port", str(free_port())]) if s.get("triton") else s["cmd"] + [str(s["port"])]
    return out


def plan(s: dict, a: argparse.Namespace, oip_len: str, tmp: Path) -> list[tuple[str, str, Path, dict]]:
    """(label, path, body, extra env) runs for one server."""
    oip = ("/v2 binary", "/v2/models/tcn_encoder/infer", tmp / "oip.bin",
           {"TCNVAE_CTYPE": "application/octet-stream", "TCNVAE_HEADER_LEN": oip_len})
    if s.get("triton"):
        return [oip]
    runs = [("/infer", "/infer", SAMPLE, {})]
    if s["name"] == f"tcnvae serve --workers {a.workers}":
        runs.append(oip)
    return runs


def run_all(a: argparse.Namespace, tmp: Path) -> list[dict]:
    oip_len = oip_binary_body(tmp / "oip.bin", json.loads(SAMPLE.read_text())["x"])
    procs, rows = [], []
    todo = servers(a)
    try:
        for s in todo:  # one at a time: start-up (torch import, parity) is the heaviest part
            s["proc"] = start(s["cmd"], f"http://127.0.0.1:{s['port']}{s['ready']}")
            procs.append(s["proc"])
        for c in a.concurrency:
            for s in todo:
                for label, path, body, env in plan(s, a, oip_len, tmp):
                    r = wrk(f"http://127.0.0.1:{s['port']}{path}", body, c, a.duration, s["proc"].pid, env,
                            taskset(a.client_cpus))
                    rows.append({"server": s["name"], "route": label, "c": c, **r})
                    print(f"{s['name']} {label} c={c}: {r}", file=sys.stderr)
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGINT if "tcnvae.serve.triton_python" in p.args else signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
    return rows


def table(rows: list[dict]) -> str:
    seed = {r["c"]: r["rps"] for r in rows if r["server"] == "seed-style"}
    lines = ["| server | route | c | p50 ms | p99 ms | p99 of 200s ms (≤) | req/s | × seed-style | CPU ms/req | 200 "
             "| 503+Retry-After | other errors |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ratio = r["rps"] / seed[r["c"]] if seed.get(r["c"]) else float("nan")
        lines.append(f"| {r['server']} | {r['route']} | {r['c']} | {r['p50']:.2f} | {r['p99']:.2f} | {r['p99_ok']:.2f} "
                     f"| {r['rps']:.0f} "
                     f"| {ratio:.2f} | {r['cpu_ms']:.2f} | {r['ok']} | {r['503']} | {r['bad']} |")
    return "\n".join(lines)


def pinning(a: argparse.Namespace) -> str:
    if not (a.client_cpus or a.server_cpus):
        return ""
    return (f"Pinned with taskset: wrk on CPU {a.client_cpus or 'any'}, servers on CPU "
            f"{a.server_cpus or 'any'}.\n\n")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", default="models")
    p.add_argument("--ref", default="tcn_encoder@champion")
    p.add_argument("--duration", type=int, default=8, help="seconds per wrk run")
    p.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 64])
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--max-inflight", type=int, default=8,
                   help="the load-shedding server's per-worker limit (requests held before 503 on arrival)")
    p.add_argument("--skip-triton", action="store_true")
    p.add_argument("--variants", nargs="+", default=None, metavar="FLAGS",
                   help='instead of the standard servers, compare `tcnvae serve` designs, e.g. '
                        '"--workers 1" "--workers 2 --no-inference-thread" (each beside the seed-style server)')
    p.add_argument("--client-cpus", default=None, help="taskset CPU list for wrk, e.g. 1")
    p.add_argument("--server-cpus", default=None, help="taskset CPU list for every server, e.g. 0")
    p.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    a = p.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install -y wrk)")
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        rows = run_all(a, Path(tmp))
    text = table(rows)
    print(text)
    machine = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {platform.platform()}; "
               f"1-min load average {load0:.1f} at the start, {os.getloadavg()[0]:.1f} at the end "
               "(other jobs share the machine)")
    cmd = shlex.join(["python", "benchmarks/serve_load.py", *sys.argv[1:]])
    with open(a.out, "a") as fh:
        fh.write(f"\n## Inference servers under load (wrk, loopback) — {dt.date.today().isoformat()}\n\n"
                 f"Command: `{cmd}`  \nMachine: {machine}; wrk -t1, {a.duration} s per run, servers measured "
                 f"interleaved in one run; CPU ms/req = the server process tree's utime+stime per request.\n\n"
                 f"{pinning(a)}{text}\n")


if __name__ == "__main__":
    main()
