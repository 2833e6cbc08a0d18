"""Issue 17's reproductions against a real `tcnvae gateway`: every bad upload is a 4xx JSON that
names the problem, the upload stays in its session folder with the reason, and no session is
ever left `processing` (unexpected errors and jobs past their budget are marked failed)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from tcnvae.serve.gateway.app import create_app
from tests.analysis.hapt_recording import hapt_signals, write_csv
from tests.serve.fake_sidecar import FakeSidecar
from tests.serve.gateway.test_app import settings, wait_done
from tests.serve.server import Process, free_port

API = "/api/v1/analysis"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("gateway-bad")
    env = {"USE_REAL_MODEL": "false", "SESSIONS_DIR": str(tmp / "sessions")}
    gw = Process(["gateway"], free_port(), tmp / "gateway.log", env=env)
    try:
        gw.wait_ready()
        with httpx.Client(base_url=gw.url, timeout=60.0) as client:
            yield {"client": client, "sessions": tmp / "sessions", "proc": gw}
    finally:
        gw.stop()


def deep_json(depth: int) -> bytes:
    return b'{"rate_hz": 50, "channels": ["ax"], "samples": ' + b"[" * depth + b"]" * depth + b"}"


def json_upload(samples: list, **extra) -> bytes:
    return json.dumps({"rate_hz": 50, "channels": ["ax", "ay", "az"], "samples": samples, **extra}).encode()


ROWS = [[0.1, 0.2, 9.8]] * 200
CASES = {
    "csv_cell_over_131072": ("text/csv", b"ax,ay,az\n" + b"1" * 200_000 + b",1,2\n", {"rate_hz": "100"},
                             "131072"),
    "json_nested_3000": ("application/json", deep_json(3000), {}, "nested too deeply"),
    "units_not_a_string": ("application/json", json_upload(ROWS, units={"acc": ["g"]}), {}, "unknown unit"),
    "integer_of_401_digits": ("application/json",
                              json_upload([[10**400, 0, 0]] + ROWS),
                              {}, "401 digits"),
    "t_steps_1e-9_s": ("text/csv", ("t,ax,ay,az\n" + "".join(f"{i * 1e-9:.12f},0,0,9.8\n" for i in range(300))
                                    ).encode(), {}, "supported rates are 1 to 2000 Hz"),
    "t_steps_1e6_s": ("text/csv", ("t,ax,ay,az\n" + "".join(f"{i * 1e6:.1f},0,0,9.8\n" for i in range(300))
                                   ).encode(), {}, "supported rates are 1 to 2000 Hz"),
    "t_goes_back": ("text/csv", ("t,ax\n" + "".join(f"{t:.2f},1\n" for t in [0.0, 0.01, 0.02, 0.01] * 80)
                                 ).encode(), {}, "must increase on every row"),
    "more_samples_than_upload_bytes_allow": ("text/csv", b"ax\n" + b"1\n" * 400, {"rate_hz": "1"},
                                             "would become 40000 samples"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_upload_is_a_4xx_and_the_session_keeps_its_upload_and_reason(gateway, case: str) -> None:
    ctype, body, params, needle = CASES[case]
    client = gateway["client"]
    r = client.post(f"{API}/sessions", params=params, content=body, headers={"Content-Type": ctype})
    assert r.status_code == 422 and r.headers["content-type"] == "application/json", r.text
    assert needle in r.json()["error"], r.json()
    sid = r.json()["id"]
    folder = gateway["sessions"] / sid
    assert next(folder.glob("upload.*")).read_bytes() == body  # kept exactly as received
    assert needle in json.loads((folder / "error.json").read_text())["error"]
    again = client.get(f"{API}/sessions/{sid}")
    assert again.status_code == 422 and again.json()["status"] == "failed"


@pytest.mark.parametrize("rate", ["0.01", "0", "5000", "nan", "-3"])
def test_declared_rate_outside_the_physical_range_is_refused(gateway, rate: str) -> None:
    r = gateway["client"].post(f"{API}/sessions", params={"rate_hz": rate}, content=b"ax\n" + b"1\n" * 300,
                               headers={"Content-Type": "text/csv"})
    assert r.status_code == 422 and "rate_hz" in r.json()["error"], r.text


def test_the_gateway_still_serves_after_the_bad_uploads(gateway, tmp_path: Path) -> None:
    csv = write_csv(tmp_path / "ok.csv", hapt_signals(seconds=10)).read_bytes()
    client = gateway["client"]
    r = client.post(f"{API}/sessions", params={"units": "acc:g"}, content=csv, headers={"Content-Type": "text/csv"})
    assert r.status_code == 202, r.text
    end = time.monotonic() + 60
    while (done := client.get(f"{API}/sessions/{r.json()['id']}")).status_code == 202 and time.monotonic() < end:
        time.sleep(0.1)  # paced poll of a background job, bounded by the deadline
    assert done.status_code == 200 and done.json()["status"] == "done"
    statuses = {s["status"] for s in client.get(f"{API}/sessions").json()["sessions"]}
    assert "processing" not in statuses
    assert "Traceback" not in gateway["proc"].output()


@pytest.fixture(scope="module")
def hapt_csv(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return write_csv(tmp_path_factory.mktemp("hapt") / "hapt.csv", hapt_signals(seconds=20)).read_bytes()


def test_a_job_past_its_budget_is_failed_by_the_watchdog(tmp_path: Path, hapt_csv: bytes) -> None:
    with FakeSidecar("hang") as fake, TestClient(create_app(settings(
            tmp_path, use_real_model=True, model_backend_url=fake.url, backend_timeout_s=60.0,
            session_timeout_s=1.0))) as client:
        r = client.post(f"{API}/sessions", params={"units": "acc:g"}, content=hapt_csv,
                        headers={"Content-Type": "text/csv"})
        assert r.status_code == 202, r.text
        done = wait_done(client, r.json()["id"])
        assert done.status_code == 422 and "budget of 1 s" in done.json()["error"]
        assert 'tcnvae_gateway_sessions_total{status="failed"} 1.0' in client.get("/metrics").text


def test_an_unexpected_error_in_a_job_fails_the_session(tmp_path: Path, hapt_csv: bytes,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args, **_kw):  # fault injection: a bug in the analysis step
        raise ZeroDivisionError("injected")

    monkeypatch.setattr("tcnvae.serve.gateway.jobs.summarize", broken)
    with TestClient(create_app(settings(tmp_path))) as client:
        r = client.post(f"{API}/sessions", params={"units": "acc:g"}, content=hapt_csv,
                        headers={"Content-Type": "text/csv"})
        done = wait_done(client, r.json()["id"])
        assert done.status_code == 422 and "ZeroDivisionError: injected" in done.json()["error"]


def test_an_unexpected_error_while_reading_the_upload_is_a_4xx(tmp_path: Path, hapt_csv: bytes,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args, **_kw):
        raise MemoryError("injected")

    monkeypatch.setattr("tcnvae.serve.gateway.sessions_api.checked_windows", broken)
    with TestClient(create_app(settings(tmp_path))) as client:
        r = client.post(f"{API}/sessions", params={"units": "acc:g"}, content=hapt_csv,
                        headers={"Content-Type": "text/csv"})
        assert r.status_code == 422 and "MemoryError: injected" in r.json()["error"]
        assert client.get(f"{API}/sessions/{r.json()['id']}").json()["status"] == "failed"


def test_a_processing_session_without_a_job_is_queued_again(tmp_path: Path, hapt_csv: bytes) -> None:
    with TestClient(create_app(settings(tmp_path))) as client:
        store = client.app.state.store
        tmp = store.incoming_file()
        tmp.write_bytes(hapt_csv)
        sid = store.commit(tmp, "csv", {"rate_hz": None, "units": {"acc": "g"}})  # as if its job was lost
        assert not client.app.state.runner.tracked(sid)
        assert wait_done(client, sid).status_code == 200
