"""`/api/v1/analysis/stream` with real processes: `tcnvae gateway` in front of a real sidecar.

A HAPT recording streamed through the gateway equals `tcnvae analyze`; the sidecar is
SIGKILLed mid-stream and the stream goes on with marked stub answers, then real answers
resume after a restart; `?record=true` keeps what a client sent before it vanished as a
session with its ethogram PNG.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx
import numpy as np
import orjson
import pytest
import websockets

from tcnvae.cli import main as tcnvae_main
from tests.analysis.hapt_recording import RATE_HZ, UNITS, hapt_signals, write_csv
from tests.serve.server import ServerProcess, gateway_stack
from tests.serve.stream_helpers import (
    CHANNELS6, assert_same_as_offline, assert_stream_metrics, by_type, csv_rows, run, send_and_collect,
    stream_metrics_scenario)

API = "/api/v1/analysis"
DEADLINE_S = 60.0


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, registry_root: Path):
    # the sidecar restart may take long on a busy machine: the stream must not idle out meanwhile
    with gateway_stack(tmp_path_factory.mktemp("gateway-stream"), registry_root,
                       GATEWAY_STREAM_IDLE_TIMEOUT_S="600") as procs:
        procs["ws"] = procs["gateway"].url.replace("http://", "ws://") + f"{API}/stream"
        yield procs


@pytest.fixture(scope="module")
def hapt(stack, registry_root: Path) -> tuple[Path, dict]:
    csv = write_csv(stack["tmp"] / "hapt_exp01.csv", hapt_signals(seconds=60))
    out = stack["tmp"] / "analysis"
    assert tcnvae_main(["analyze", str(csv), "--model", "tcn_encoder@champion", "--models", str(registry_root),
                        "--units", "acc:g", "--temporal", "majority", "--out", str(out)]) == 0
    return csv, json.loads((out / "results.json").read_text())  # the live rule: majority, not the offline HMM


def test_gateway_stream_equals_tcnvae_analyze(stack, hapt) -> None:
    csv, results = hapt
    msgs = run(send_and_collect(stack["ws"], csv_rows(csv)))
    assert msgs[0]["type"] == "opened" and msgs[-1]["sources"] == {"model": 119}
    assert_same_as_offline(msgs, results)


def test_gateway_stream_metrics_on_metrics(stack, hapt) -> None:
    csv, _ = hapt
    got = run(stream_metrics_scenario(stack["ws"], stack["gateway"].url, "tcnvae_gateway", csv_rows(csv)[:600]))
    assert_stream_metrics(got)
    assert got["windows"] == 3 * 23


def wait_session(client: httpx.Client, sid: str) -> httpx.Response:
    end = time.monotonic() + DEADLINE_S
    while time.monotonic() < end:
        r = client.get(f"{API}/sessions/{sid}")
        if r.status_code != 202:
            return r
        time.sleep(0.1)  # paced poll of a background job on a server known to be up, bounded
    raise AssertionError(f"session {sid} not done within {DEADLINE_S} s")


def test_record_keeps_what_arrived_when_the_client_vanishes(stack, hapt) -> None:
    csv, _ = hapt
    rows = csv_rows(csv)[:1500]  # 30 s, then the client disconnects without "end"

    async def vanish() -> str:
        async with websockets.connect(stack["ws"] + "?record=true") as ws:
            await ws.send(orjson.dumps({"type": "open", "rate_hz": RATE_HZ, "channels": CHANNELS6,
                                        "units": UNITS}).decode())
            opened = orjson.loads(await ws.recv())
            for i in range(0, len(rows), 37):
                await ws.send(orjson.dumps({"type": "samples", "samples": rows[i:i + 37].tolist()}).decode())
            return opened["session"]

    sid = run(vanish())
    with httpx.Client(base_url=stack["gateway"].url, timeout=30.0) as client:
        res = wait_session(client, sid)
        assert res.status_code == 200, res.text
        body = res.json()
        assert body["source"] == "model" and body["recording"]["samples"] == 3000
        assert body["n_windows"] == 59
        png = client.get(f"{API}/sessions/{sid}/ethogram.png")
        assert png.status_code == 200 and png.content[:4] == b"\x89PNG"


def test_stream_survives_a_sidecar_sigkill_with_marked_stub_answers(stack, hapt) -> None:
    csv, results = hapt
    rows = csv_rows(csv)
    async def windows_so_far(msgs: list[dict], pred, what: str) -> None:
        end = time.monotonic() + DEADLINE_S
        while not pred([m for m in msgs if m["type"] == "window"]):  # msgs grows as they arrive
            assert time.monotonic() < end, f"never saw {what}"
            await asyncio.sleep(0.02)  # waiting on our own receiver task, bounded by the deadline

    async def pace(k: int, msgs: list[dict]) -> None:
        if k == 20:  # real answers are flowing: kill the sidecar without a goodbye
            await windows_so_far(msgs, lambda w: len(w) >= 10, "10 model windows")
            stack["sidecar"].kill()
        elif k == 45:  # stub answers are flowing: bring the sidecar back on the same port
            await windows_so_far(msgs, lambda w: any(x["source"] == "stub" for x in w), "a stub window")
            stack["sidecar"] = ServerProcess(stack["models"], log=stack["tmp"] / "sidecar2.log",
                                             port=stack["side_port"])
            await asyncio.to_thread(stack["sidecar"].wait_ready, 400)
        elif k > 45:
            await asyncio.sleep(0.05)  # slower than the breaker's 1 s cool-down in total

    msgs = run(send_and_collect(stack["ws"], rows, pace=pace))
    windows = by_type(msgs, "window")
    assert [w["index"] for w in windows] == list(range(119))  # the stream never broke
    sources = [w["source"] for w in windows]
    first_stub, last_stub = sources.index("stub"), len(sources) - 1 - sources[::-1].index("stub")
    assert sources[:first_stub] == ["model"] * first_stub and "model" in sources[last_stub:]
    for w in windows:
        if w["source"] == "stub":
            assert w["reason"] in ("connect", "breaker_open") and w["activity"] is None
            assert len(w["motif_scores"]) == 12
        else:
            assert "reason" not in w and w["activity"] in results["labels"]
    first = results["labels"][0]
    assert np.allclose([w["activity_probs"][first] for w in windows if w["source"] == "model"],
                       [o["activity_probs"][first] for o, w in zip(results["timeline"], windows)
                        if w["source"] == "model"], atol=1e-3)
    assert msgs[-1]["type"] == "end" and set(msgs[-1]["sources"]) == {"model", "stub"}
