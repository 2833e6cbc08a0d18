"""The gateway app in-process (TestClient): stub mode, misbehaving sidecars, uploads and refusals."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tcnvae.serve.gateway.app import create_app
from tcnvae.serve.gateway.settings import GatewaySettings
from tests.analysis.hapt_recording import hapt_signals, write_csv
from tests.serve.fake_sidecar import FakeSidecar

CONFORMANCE = Path(__file__).resolve().parents[3] / ".." / "shared" / "conformance"
API = "/api/v1/analysis"
DEADLINE_S = 60.0


def settings(tmp_path: Path, **kw) -> GatewaySettings:
    base = dict(use_real_model=False, sessions_dir=tmp_path / "sessions", backend_timeout_s=0.5,
                breaker_failures=2, breaker_cooldown_s=30.0, max_upload_bytes=2_000_000)
    return GatewaySettings(**{**base, **kw})


def conformance(name: str) -> dict:
    return json.loads((CONFORMANCE / f"{name}.json").read_text())


def wait_done(client: TestClient, sid: str) -> object:
    """Poll a session until it leaves `processing`, within a deadline (Retry-After paced)."""
    end = time.monotonic() + DEADLINE_S
    while time.monotonic() < end:
        r = client.get(f"{API}/sessions/{sid}")
        if r.status_code != 202:
            return r
        assert r.headers["Retry-After"]
        time.sleep(0.05)  # paced poll of a job in this process, bounded by the deadline
    raise AssertionError(f"session {sid} still processing after {DEADLINE_S} s")


@pytest.fixture(scope="module")
def hapt_csv(tmp_path_factory: pytest.TempPathFactory) -> str:
    return write_csv(tmp_path_factory.mktemp("hapt") / "hapt.csv", hapt_signals(seconds=30)).read_text()


def test_stub_mode_is_deterministic_and_marked(tmp_path: Path) -> None:
    with TestClient(create_app(settings(tmp_path))) as client:
        body = conformance("realistic_imu_sample")
        a, b = client.post(f"{API}/infer", json=body), client.post(f"{API}/infer", json=body)
        assert a.status_code == 200 and a.headers["X-Tcnvae-Source"] == "stub"
        assert a.json() == b.json() and a.json()["source"] == "stub"
        assert len(a.json()["latent"]) == 64 and len(a.json()["motif_scores"]) == 12
        assert abs(sum(a.json()["motif_scores"]) - 1) < 1e-5
        other = client.post(f"{API}/infer", json=conformance("random_imu_sample")).json()
        assert other["latent"] != a.json()["latent"]
        metrics = client.get("/metrics").text
        assert 'tcnvae_gateway_fallbacks_total{reason="disabled"} 3.0' in metrics
        assert "_created" not in metrics  # no creation-time series beside the counters


@pytest.mark.parametrize("body, needle", [
    ("static_imu_sample_105rows", "105"),
    ({"x": [[0.0] * 9] * 99 + [[0.0] * 8]}, "x[0]"),
    ({"x": [[0.0] * 9] * 99 + [[float("nan")] + [0.0] * 8]}, "sample 99"),
    ({"y": 1}, "'x'"),
])
def test_bad_windows_get_a_4xx_naming_the_problem(tmp_path: Path, body, needle: str) -> None:
    with TestClient(create_app(settings(tmp_path))) as client:
        payload = conformance(body) if isinstance(body, str) else body
        r = client.post(f"{API}/infer", content=json.dumps(payload), headers={"Content-Type": "application/json"})
        assert 400 <= r.status_code < 500 and needle in r.json()["error"], r.text


@pytest.mark.parametrize("mode, reason", [("garbage", "malformed"), ("notjson", "malformed"),
                                          ("error", "status_5xx"), ("hang", "timeout")])
def test_misbehaving_sidecar_gives_marked_stub_and_opens_the_breaker(tmp_path: Path, mode, reason) -> None:
    body = conformance("random_imu_sample")
    with FakeSidecar(mode) as fake, \
            TestClient(create_app(settings(tmp_path, use_real_model=True, model_backend_url=fake.url))) as client:
        for _ in range(3):
            r = client.post(f"{API}/infer", json=body)
            assert r.status_code == 200 and r.json()["source"] == "stub"
            assert r.headers["X-Tcnvae-Source"] == "stub"
        assert r.headers["X-Tcnvae-Fallback-Reason"] == "breaker_open"
        assert fake.calls == 2  # the open breaker stopped calling the sidecar
        assert client.get("/healthz").json()["backend"]["breaker"]["state"] == "open"
        metrics = client.get("/metrics").text
        assert f'tcnvae_gateway_fallbacks_total{{reason="{reason}"}} 2.0' in metrics
        assert "tcnvae_gateway_breaker_state 2.0" in metrics


def test_breaker_half_opens_and_closes_when_the_sidecar_recovers(tmp_path: Path) -> None:
    body = conformance("random_imu_sample")
    with FakeSidecar("error") as fake, \
            TestClient(create_app(settings(tmp_path, use_real_model=True, model_backend_url=fake.url))) as client:
        breaker = client.app.state.model.breaker
        now = [0.0]
        breaker._clock = lambda: now[0]
        for _ in range(2):
            client.post(f"{API}/infer", json=body)
        assert breaker.state == "open"
        fake.mode = "ok"
        now[0] = 31.0
        assert client.get("/healthz").json()["backend"]["breaker"]["state"] == "half_open"
        r = client.post(f"{API}/infer", json=body)
        assert r.json()["source"] == "model" and r.headers["X-Tcnvae-Source"] == "model"
        assert breaker.state == "closed"


def test_sidecar_4xx_passes_through(tmp_path: Path) -> None:
    with FakeSidecar("reject") as fake, \
            TestClient(create_app(settings(tmp_path, use_real_model=True, model_backend_url=fake.url))) as client:
        r = client.post(f"{API}/infer", json=conformance("random_imu_sample"))
        assert r.status_code == 422 and "window 0" in r.json()["error"]
        assert client.app.state.model.breaker.state == "closed"


def test_session_upload_csv_in_stub_mode(tmp_path: Path, hapt_csv: str) -> None:
    with TestClient(create_app(settings(tmp_path))) as client:
        r = client.post(f"{API}/sessions?units=acc:g", content=hapt_csv, headers={"Content-Type": "text/csv"})
        assert r.status_code == 202 and r.json()["status"] == "processing", r.text
        sid = r.json()["id"]
        assert r.headers["Location"].endswith(sid)
        done = wait_done(client, sid)
        assert done.status_code == 200 and done.json()["source"] == "stub"
        res = done.json()
        assert res["time_per_activity"] is None and res["ethogram"]["activity"] is None
        assert res["n_windows"] == len(res["timeline"]) == (3000 - 100) // 50 + 1
        png = client.get(f"{API}/sessions/{sid}/ethogram.png")
        assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"
        motifs = client.get(f"{API}/motifs").json()
        assert motifs["session"] == sid and motifs["useReal"] is False
        scores = [m["score"] for m in motifs["motifs"]]
        assert scores == sorted(scores, reverse=True)
        assert [s["id"] for s in client.get(f"{API}/sessions").json()["sessions"]] == [sid]
        assert (tmp_path / "sessions" / sid / "upload.csv").read_text() == hapt_csv


def test_session_upload_multipart_and_json(tmp_path: Path) -> None:
    sig = hapt_signals(seconds=5)
    with TestClient(create_app(settings(tmp_path))) as client:
        csv_text = write_csv(tmp_path / "x.csv", sig).read_text()
        r = client.post(f"{API}/sessions", params={"units": "acc:g"},
                        files={"file": ("walk.csv", csv_text, "text/csv")})
        assert r.status_code == 202, r.text
        assert wait_done(client, r.json()["id"]).status_code == 200
        payload = {"rate_hz": 50, "channels": ["ax", "ay", "az"], "samples": sig[:, :3].tolist(),
                   "units": {"acc": "g"}}
        r = client.post(f"{API}/sessions", json=payload)
        assert r.status_code == 202, r.text
        assert wait_done(client, r.json()["id"]).json()["recording"]["channels_present"] == ["ax", "ay", "az"]


@pytest.mark.parametrize("content, ctype, params, status, needle", [
    ("t,ax,foo\n0,1,2\n", "text/csv", {}, 422, "foo"),
    ("ax,ay,az\n" + "0,0,1\n" * 40, "text/csv", {"rate_hz": "50", "units": "acc:g"}, 422, "80 samples"),
    ("ax,ay,az\n0,0,1\n", "text/csv", {}, 422, "rate"),
    ("ax,ay,az\n" + "0,0,1\n" * 300, "text/csv", {"rate_hz": "50", "units": "acc:furlongs"}, 422, "furlongs"),
    ("ax,ay,az\n" + "0,0,1\n" * 300, "text/csv", {"rate_hz": "50", "units": "acc:g"}, 202, ""),
    ("ax,ay,az\n" + "0,0,1\n" * 100 + "0,,1\n" * 50 + "0,0,1\n" * 100, "text/csv", {"rate_hz": "50", "units": "acc:g"},
     422, "gap"),
    ("ax,ay,az\n" + "0,0,999\n" * 300, "text/csv", {"rate_hz": "50", "units": "acc:g"}, 422, "channel az"),
    ("hello", "application/xml", {}, 415, "Content-Type"),
    ('{"rate_hz": 50, "channels": ["ax", "bogus"], "samples": [[1, 2]]}', "application/json", {}, 422, "bogus"),
])
def test_bad_uploads_get_a_clear_4xx(tmp_path: Path, content, ctype, params, status, needle) -> None:
    with TestClient(create_app(settings(tmp_path))) as client:
        r = client.post(f"{API}/sessions", content=content, params=params, headers={"Content-Type": ctype})
        assert r.status_code == status and needle in r.text, r.text


def test_short_nan_gaps_are_interpolated(tmp_path: Path) -> None:
    rows = ["ax,ay,az"] + ["0,0,1"] * 150 + [",,", "0,,1"] + ["0,0,1"] * 150
    with TestClient(create_app(settings(tmp_path))) as client:
        r = client.post(f"{API}/sessions?rate_hz=50&units=acc:g", content="\n".join(rows),
                        headers={"Content-Type": "text/csv"})
        assert r.status_code == 202 and wait_done(client, r.json()["id"]).status_code == 200


def test_oversized_upload_is_413_and_leaves_nothing(tmp_path: Path) -> None:
    s = settings(tmp_path, max_upload_bytes=4096)
    with TestClient(create_app(s)) as client:
        r = client.post(f"{API}/sessions?rate_hz=50", content="ax\n" + "1.0\n" * 5000,
                        headers={"Content-Type": "text/csv"})
        assert r.status_code == 413
        r = client.post(f"{API}/sessions?rate_hz=50", files={"file": ("big.csv", "ax\n" + "1.0\n" * 5000)})
        assert r.status_code == 413
        assert client.get(f"{API}/sessions").json()["sessions"] == []


def test_unknown_and_failed_sessions(tmp_path: Path) -> None:
    with TestClient(create_app(settings(tmp_path))) as client:
        assert client.get(f"{API}/sessions/{'0' * 32}").status_code == 404
        assert client.get(f"{API}/sessions/../../etc").status_code == 404
        assert client.get(f"{API}/motifs").status_code == 404
        r = client.post(f"{API}/sessions?rate_hz=50", content="ax\n1\n", headers={"Content-Type": "text/csv"})
        sid = r.json()["id"]
        failed = client.get(f"{API}/sessions/{sid}")
        assert failed.status_code == 422 and "samples" in failed.json()["error"]
        assert (tmp_path / "sessions" / sid / "upload.csv").is_file()  # the upload is kept


def test_unfinished_sessions_are_processed_after_a_restart(tmp_path: Path, hapt_csv: str) -> None:
    s = settings(tmp_path)
    folder = s.sessions_dir / ("a" * 32)
    folder.mkdir(parents=True)
    (folder / "upload.csv").write_text(hapt_csv)
    (folder / "request.json").write_text(json.dumps({"format": "csv", "units": {"acc": "g"}, "created": 1.0}))
    with TestClient(create_app(s)) as client:
        assert wait_done(client, "a" * 32).status_code == 200


def test_api_key_guards_the_api_but_not_health(tmp_path: Path) -> None:
    key = "k" * 20
    with TestClient(create_app(settings(tmp_path, api_key=key))) as client:
        body = conformance("random_imu_sample")
        assert client.post(f"{API}/infer", json=body).status_code == 401
        assert client.post(f"{API}/infer", json=body, headers={"X-API-Key": key}).status_code == 200
        assert client.get("/healthz").status_code == 200
