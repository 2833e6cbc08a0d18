"""Fuzz a running `tcnvae gateway`: generated uploads (CSV, JSON, multipart) and query options,
seed-contract bodies and junk ids; never a 5xx, every refusal a JSON {"error": ...}, and no
session left `processing` once the fuzzing stops. Bounded examples keep it quick in CI."""

from __future__ import annotations

import json
import time
from urllib.parse import quote

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.serve.server import Process, free_port
from tests.serve.sidecar.test_fuzz import FUZZ, _check, bodies, json_junk, numbers

API = "/api/v1/analysis"
DEADLINE_S = 120.0

columns = st.lists(st.sampled_from(["t", "ax", "ay", "az", "gx", "label", "subject", "speed", ""]),
                   min_size=1, max_size=5)
cell = st.one_of(numbers.map(repr), st.sampled_from(["", "nan", "inf", "-0", "1e999", "9" * 400, '"a,b"', "true"]),
                 st.text(alphabet="0123456789.-e,\"", max_size=8))


@st.composite
def csv_bodies(draw) -> bytes:
    header = draw(columns)
    n = draw(st.sampled_from([0, 1, 50, 150, 250]))
    base = draw(st.lists(cell, min_size=len(header), max_size=len(header)))
    rows = [",".join(base) for _ in range(n)]
    for _ in range(draw(st.integers(0, 3))):
        if rows:
            rows[draw(st.integers(0, len(rows) - 1))] = ",".join(draw(st.lists(cell, max_size=6)))
    return ("\n".join([",".join(header), *rows]) + "\n").encode()


recordings = st.fixed_dictionaries(
    {"rate_hz": st.one_of(numbers, st.none(), st.text(max_size=3)),
     "channels": st.one_of(st.just(["ax", "ay", "az"]), st.lists(st.text(max_size=3), max_size=3), json_junk),
     "samples": st.one_of(st.lists(st.lists(numbers, min_size=3, max_size=3), min_size=0, max_size=150),
                          json_junk)},
    optional={"units": st.one_of(st.just({"acc": "g"}), json_junk), "extra": json_junk})
json_uploads = st.one_of(recordings.map(lambda d: json.dumps(d, allow_nan=True).encode()),
                         json_junk.map(lambda d: json.dumps(d).encode()), st.binary(max_size=64))
options = st.fixed_dictionaries({}, optional={
    "rate_hz": st.one_of(st.sampled_from(["50", "0.01", "1e9", "nan", "-1", "", "abc"]), numbers.map(repr)),
    "units": st.sampled_from(["acc:g", "acc:furlong", "acc", "acc:g,gyro:deg/s", ":", "a:b:c"]),
    "filename": st.text(max_size=10)})


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("gateway-fuzz")
    env = {"USE_REAL_MODEL": "false", "SESSIONS_DIR": str(tmp / "sessions"), "GATEWAY_MAX_UPLOAD_BYTES": "200000"}
    gw = Process(["gateway"], free_port(), tmp / "gateway.log", env=env)
    try:
        gw.wait_ready()
        with httpx.Client(base_url=gw.url, timeout=60.0) as client:
            yield client
    finally:
        gw.stop()


def test_upload_routes_never_5xx(gateway) -> None:
    @given(kind=st.sampled_from(["csv", "json", "multipart"]), csv=csv_bodies(), js=json_uploads, params=options)
    @FUZZ
    def check(kind: str, csv: bytes, js: bytes, params: dict) -> None:
        if kind == "multipart":
            r = gateway.post(f"{API}/sessions", params=params, files={"file": ("rec.csv", csv, "text/csv")})
        else:
            ctype = "text/csv" if kind == "csv" else "application/json"
            r = gateway.post(f"{API}/sessions", params=params, content=csv if kind == "csv" else js,
                             headers={"Content-Type": ctype})
        _check(r, f"POST sessions {kind} {params} {(csv if kind == 'csv' else js)[:80]!r}")

    check()
    end = time.monotonic() + DEADLINE_S
    while time.monotonic() < end:
        sessions = gateway.get(f"{API}/sessions").json()["sessions"]
        if all(s["status"] != "processing" for s in sessions):
            break
        time.sleep(0.2)  # paced poll of background jobs, bounded by the deadline
    assert all(s["status"] != "processing" for s in sessions), sessions


def test_infer_and_lookup_routes_never_5xx(gateway) -> None:
    @given(body=st.one_of(bodies.map(lambda b: json.dumps(b, allow_nan=True).encode()), st.binary(max_size=64)),
           sid=st.text(max_size=40))
    @FUZZ
    def check(body: bytes, sid: str) -> None:
        _check(gateway.post(f"{API}/infer", content=body, headers={"content-type": "application/json"}),
               f"POST infer {body[:80]!r}")
        _check(gateway.get(f"{API}/motifs", params={"session": sid}), f"GET motifs {sid!r}")
        _check(gateway.get(f"{API}/sessions/{quote(sid, safe='') or 'x'}"), f"GET session {sid!r}")

    check()
    assert gateway.get("/healthz").status_code == 200
