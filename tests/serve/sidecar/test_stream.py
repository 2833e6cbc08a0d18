"""`/v2/stream` on a real sidecar process with the real `websockets` client: a HAPT recording
replayed in uneven chunks gives `tcnvae analyze`'s windows and segments; limits and bad input
close the stream with their documented code and a JSON reason."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
import orjson
import pytest
import websockets

from tcnvae.cli import main as tcnvae_main
from tests.analysis.hapt_recording import hapt_signals, write_csv
from tests.serve.conftest import API_KEYS
from tests.serve.server import ServerProcess
from tests.serve.stream_helpers import (
    CHANNELS6, assert_same_as_offline, assert_stream_metrics, by_type, csv_rows, run, scrape, send_and_collect,
    stream_metrics_scenario)

OPEN = {"type": "open", "rate_hz": 50, "channels": CHANNELS6, "units": {"acc": "g"}}


def ws_url(server) -> str:
    return server.url.replace("http://", "ws://") + "/v2/stream"


@pytest.fixture(scope="module")
def hapt(tmp_path_factory, registry_root: Path) -> tuple[Path, dict]:
    """60 s of HAPT exp01 as a user CSV, and `tcnvae analyze` of it (onnx, in-process)."""
    tmp = tmp_path_factory.mktemp("stream")
    csv = write_csv(tmp / "hapt_exp01.csv", hapt_signals(seconds=60))
    out = tmp / "analysis"
    assert tcnvae_main(["analyze", str(csv), "--model", "tcn_encoder@champion", "--models", str(registry_root),
                        "--units", "acc:g", "--temporal", "majority", "--out", str(out)]) == 0
    return csv, json.loads((out / "results.json").read_text())  # the live rule: majority, not the offline HMM


def test_replay_in_uneven_chunks_equals_tcnvae_analyze(server, hapt) -> None:
    csv, results = hapt
    msgs = run(send_and_collect(ws_url(server), csv_rows(csv)))
    opened, end = msgs[0], msgs[-1]
    assert opened["type"] == "opened" and opened["model"] == results["model"]
    assert opened["labels"] == results["labels"]
    assert end["type"] == "end" and end["samples"] == 3000 and end["windows"] == 119
    assert_same_as_offline(msgs, results)
    assert all(w["source"] == "model" and "latent" not in w for w in by_type(msgs, "window"))


def test_binary_float32_chunks_and_the_latent_on_request(server, hapt) -> None:
    csv, results = hapt
    msgs = run(send_and_collect(ws_url(server), csv_rows(csv), binary=True, latent=True))
    windows = by_type(msgs, "window")
    assert len(windows) == 119 and all(len(w["latent"]) == 64 for w in windows)
    for w, o in zip(windows, results["timeline"]):  # float32 on the wire: close, not bitwise
        assert w["activity_probs"] == pytest.approx(o["activity_probs"], abs=1e-3)


async def refused(url: str, frames: list, headers: dict | None = None) -> tuple[int, dict]:
    """Send frames (dicts as JSON text, bytes as binary); return (close code, the error message)."""
    async with websockets.connect(url, additional_headers=headers) as ws:
        for f in frames:
            try:
                await ws.send(f if isinstance(f, bytes) else orjson.dumps(f).decode())
            except websockets.ConnectionClosed:  # refused on arrival (limit, key): the reason is queued
                break
        msgs, code = await drain(ws)
        return code, msgs[-1]


async def drain(ws) -> tuple[list[dict], int | None]:
    """Every message until the server closes, and the close code it sent."""
    msgs: list[dict] = []
    try:
        async for m in ws:
            msgs.append(orjson.loads(m))
    except websockets.ConnectionClosedError as exc:  # any code but 1000/1001 ends the loop this way
        return msgs, exc.rcvd.code if exc.rcvd else None
    return msgs, ws.close_code


ROW = [0.0, 0.0, 1.0, 0.0, 0.0, 0.0]


@pytest.mark.parametrize("frames,code,words", [
    ([{**OPEN, "channels": ["ax", "wobble"]}], 4400, "wobble"),
    ([{**OPEN, "units": {"acc": "furlong"}}], 4400, "unknown unit"),
    ([{"type": "samples", "samples": [ROW]}], 4400, "open"),
    ([{**OPEN, "stride": "50"}], 4400, "stride must be an integer"),
    ([OPEN, {"type": "samples", "samples": [ROW, ROW[:5]]}], 4422, "samples[1] must be 6 numbers"),
    ([OPEN, {"type": "samples", "samples": [ROW[:5] + ["x"]]}], 4422, "samples[0][5] is not a number: 'x'"),
    ([OPEN, {"type": "samples", "samples": [ROW[:2] + [20.0] + ROW[3:]]}], 4422, "exceeds the physical limit"),
    ([OPEN, {"type": "samples", "samples": [ROW] * 50, "t": 10.0},
      {"type": "samples", "samples": [ROW], "t": 10.5}], 4422, "time going backwards"),
    ([OPEN, b"\x00" * 10], 4422, "whole rows of 6"),
    ([OPEN, {"type": "samples", "samples": [ROW] * 10_001}], 1009, "at most 10000 rows"),
])
def test_bad_input_closes_with_its_code_and_a_json_reason(server, frames, code, words) -> None:
    got, last = run(refused(ws_url(server), frames))
    assert got == code and last["type"] == "error" and last["code"] == code
    assert words in last["error"]


def test_api_key_is_required_when_configured(servers) -> None:
    url = ws_url(servers["torch"])
    code, last = run(refused(url, [OPEN]))
    assert code == 1008 and "X-API-Key" in last["error"]
    msgs = run(send_and_collect(url, np.tile(ROW, (200, 1)), headers={"X-API-Key": API_KEYS[0]}))
    assert len(by_type(msgs, "window")) == 7


@pytest.fixture(scope="module")
def tight(serve_models: Path):
    """A sidecar with small stream limits: 2 streams, 1.5 s idle, 2 pending windows, and a 1 s
    deadline on HTTP request headers (which must not touch a WebSocket once it is open)."""
    env = {"TCNVAE_SERVE_STREAM_MAX_STREAMS": "2", "TCNVAE_SERVE_STREAM_IDLE_TIMEOUT_S": "1.5",
           "TCNVAE_SERVE_STREAM_MAX_PENDING_WINDOWS": "2", "TCNVAE_SERVE_HEADER_TIMEOUT_S": "1"}
    proc = ServerProcess(serve_models, env=env)
    try:
        yield proc.wait_ready()
    finally:
        proc.stop()


def test_stream_limit_idle_timeout_and_no_drops_under_backpressure(tight, hapt) -> None:
    url = ws_url(tight)

    async def scenario() -> None:
        async with websockets.connect(url) as a, websockets.connect(url) as b:
            for ws in (a, b):
                await ws.send(orjson.dumps(OPEN).decode())
                assert orjson.loads(await ws.recv())["type"] == "opened"
            code, last = await refused(url, [OPEN])  # the third stream
            assert code == 1013 and "2 streams are open" in last["error"]
            msgs, code = await drain(a)  # silent: closed after the idle timeout
            assert code == 4408 and "nothing received for 1.5 s" in msgs[-1]["error"]

    run(scenario())
    csv, results = hapt
    # Sent as fast as possible with only 2 windows allowed in flight: the reader is slowed, nothing dropped.
    msgs = run(send_and_collect(url, csv_rows(csv)))
    assert [w["index"] for w in by_type(msgs, "window")] == list(range(119))
    assert_same_as_offline(msgs, results)


def test_a_stream_outlives_the_http_header_deadline(tight, hapt) -> None:
    """The header deadline (1 s here) is for HTTP requests: a live stream that runs longer keeps
    going (it used to get an HTTP 408 written into its WebSocket bytes and die at 10 s)."""
    csv, results = hapt

    async def pace(k: int, msgs: list) -> None:
        if k < 12:  # 12 x 0.2 s: the first 2.4 s at a device's pace, then the rest at once
            await asyncio.sleep(0.2)

    msgs = run(send_and_collect(ws_url(tight), csv_rows(csv), pace=pace))
    assert [w["index"] for w in by_type(msgs, "window")] == list(range(119))
    assert_same_as_offline(msgs, results)


def test_stream_metrics_on_metrics(server, hapt) -> None:
    """Open streams, windows answered, per-window latency and closes by code, as /metrics shows
    them to a scraper, for three concurrent real streams and one refused."""
    csv, _ = hapt
    got = run(stream_metrics_scenario(ws_url(server), server.url, "tcnvae", csv_rows(csv)[:600]))
    assert_stream_metrics(got)
    assert got["windows"] == 3 * 23


def test_a_refused_stream_is_counted_by_its_close_code(tight) -> None:
    async def scenario() -> None:
        async with websockets.connect(ws_url(tight)) as a, websockets.connect(ws_url(tight)) as b:
            for ws in (a, b):
                await ws.send(orjson.dumps(OPEN).decode())
                await ws.recv()
            before = await asyncio.to_thread(scrape, tight.url)
            code, _ = await refused(ws_url(tight), [OPEN])
            for ws in (a, b):  # not idle (1.5 s here) while we look
                await ws.send(orjson.dumps({"type": "samples", "samples": [ROW]}).decode())
            after = await asyncio.to_thread(scrape, tight.url)
        key = 'tcnvae_streams_closed_total{code="1013",reason="try again later"}'
        assert code == 1013 and after[key] - before.get(key, 0.0) == 1
        assert after["tcnvae_streams_open"] == 2

    run(scenario())


def test_tcnvae_stream_replays_a_csv_and_prints_the_live_ethogram(server, hapt, capsys) -> None:
    csv, results = hapt
    assert tcnvae_main(["stream", str(csv), "--url", ws_url(server), "--speed", "0", "--units", "acc:g",
                        "--chunk-s", "0.37"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("stream ") and "3000 samples at 50 Hz (60.0 s)" in out[0]
    assert out[-1] == "119 windows (model 119)"
    printed = [line.split() for line in out[1:-1]]
    expected = results["ethogram"]["activity"] + results["ethogram"]["motifs"]
    assert len(printed) == len(expected)
    assert sorted(p[5] for p in printed) == sorted(k for k in ("activity", "motifs")
                                                   for _ in results["ethogram"][k])


def test_tcnvae_stream_says_in_one_line_when_it_cannot_connect(hapt, capsys) -> None:
    csv, _ = hapt
    assert tcnvae_main(["stream", str(csv), "--url", "ws://127.0.0.1:9/v2/stream", "--units", "acc:g"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot stream to ws://127.0.0.1:9/v2/stream" in err[0]
