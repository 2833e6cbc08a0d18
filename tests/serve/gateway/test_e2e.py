"""End to end with real processes: `tcnvae gateway` in front of a real `tcnvae serve` sidecar.

A real recording (a UCI-HAPT slice as a user CSV) is analysed through the sidecar and offline
with `tcnvae analyze`; then the sidecar is killed (answers stay valid, marked stub; the breaker
opens) and restarted (the breaker half-opens, real answers resume). The fixture model is
random until a real training lands, so nothing here depends on which activities come out.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from tcnvae.cli import main as tcnvae_main
from tests.analysis.hapt_recording import hapt_signals, write_csv
from tests.serve.server import ServerProcess, gateway_stack

API = "/api/v1/analysis"
CONFORMANCE = Path(__file__).resolve().parents[3] / ".." / "shared" / "conformance"
DEADLINE_S = 60.0


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, registry_root: Path):
    with gateway_stack(tmp_path_factory.mktemp("gateway-e2e"), registry_root) as procs:
        with httpx.Client(base_url=procs["gateway"].url, timeout=30.0) as client:
            procs["client"] = client
            yield procs


def wait_session(client: httpx.Client, sid: str) -> httpx.Response:
    end = time.monotonic() + DEADLINE_S
    while time.monotonic() < end:
        r = client.get(f"{API}/sessions/{sid}")
        if r.status_code != 202:
            return r
        time.sleep(0.1)  # paced poll of a background job (the server is known up), bounded
    raise AssertionError(f"session {sid} not done within {DEADLINE_S} s")


def wait_breaker(client: httpx.Client, state: str) -> dict:
    """Poll the gateway's /healthz until the breaker reports `state` (deadline)."""
    end = time.monotonic() + DEADLINE_S
    while time.monotonic() < end:
        health = client.get("/healthz").json()
        if health["backend"]["breaker"]["state"] == state:
            return health
        time.sleep(0.1)
    raise AssertionError(f"breaker never became {state}: {health}")


def upload(client: httpx.Client, csv_path: Path) -> dict:
    r = client.post(f"{API}/sessions", params={"units": "acc:g", "filename": csv_path.name},
                    content=csv_path.read_bytes(), headers={"Content-Type": "text/csv"})
    assert r.status_code == 202, r.text
    done = wait_session(client, r.json()["id"])
    assert done.status_code == 200, done.text
    return done.json()


def check_model_results(res: dict, labels: list[str]) -> None:
    assert res["source"] == "model" and res["labels"] == labels
    assert res["config"]["temporal"] == "hmm"  # a whole recording: Viterbi, in the gateway as offline
    assert res["n_windows"] == len(res["timeline"]) == (6000 - 100) // 50 + 1  # 60 s at 100 Hz
    for w in res["timeline"][:5]:
        assert w["activity"] in labels and abs(sum(w["activity_probs"].values()) - 1) < 1e-3
        assert len(w["motif_scores"]) == 12 and w["top_motif"] == int(np.argmax(w["motif_scores"]))
    segs = res["ethogram"]["activity"]
    assert segs[0]["t_start"] == 0.0 and segs[-1]["t_end"] == pytest.approx(60.0)
    assert sum(res["time_per_activity"].values()) == pytest.approx(60.0, abs=0.01)


@pytest.fixture(scope="module")
def hapt_csv(stack) -> Path:
    return write_csv(stack["tmp"] / "hapt_exp01.csv", hapt_signals(seconds=60))


def test_real_model_through_the_gateway_and_offline(stack, hapt_csv: Path, tmp_path: Path) -> None:
    client = stack["client"]
    health = client.get("/healthz").json()
    assert health["backend"]["reachable"] is True and health["backend"]["breaker"]["state"] == "closed"
    body = json.loads((CONFORMANCE / "realistic_imu_sample.json").read_text())
    r = client.post(f"{API}/infer", json=body)
    assert r.status_code == 200 and r.json()["source"] == "model" and r.headers["X-Tcnvae-Source"] == "model"
    bad = json.loads((CONFORMANCE / "static_imu_sample_105rows.json").read_text())
    assert 400 <= client.post(f"{API}/infer", json=bad).status_code < 500

    labels = json.loads((stack["models"] / "tcn_encoder" / "v1.0.0" / "labels.json").read_text())["labels"]
    res = upload(client, hapt_csv)
    check_model_results(res, labels)
    png = client.get(f"{API}/sessions/{res['id']}/ethogram.png")
    assert png.status_code == 200 and png.content[:4] == b"\x89PNG"
    motifs = client.get(f"{API}/motifs", params={"session": res["id"]}).json()
    assert motifs["useReal"] is True and len(motifs["motifs"]) == 12

    out = tmp_path / "offline"
    code = tcnvae_main(["analyze", str(hapt_csv), "--model", "tcn_encoder@champion",
                        "--models", str(stack["models"]), "--out", str(out), "--units", "acc:g"])
    assert code == 0
    offline = json.loads((out / "results.json").read_text())
    check_model_results(offline, labels)
    assert (out / "ethogram.png").read_bytes()[:4] == b"\x89PNG"
    assert "data:image/png;base64," in (out / "report.html").read_text()
    gw_scores = np.array([w["motif_scores"] for w in res["timeline"]])
    off_scores = np.array([w["motif_scores"] for w in offline["timeline"]])
    np.testing.assert_allclose(gw_scores, off_scores, atol=2e-3)  # same model, same windows


def test_sidecar_killed_and_restarted(stack, hapt_csv: Path) -> None:
    client = stack["client"]
    body = json.loads((CONFORMANCE / "random_imu_sample.json").read_text())
    assert client.post(f"{API}/infer", json=body).json()["source"] == "model"
    stack["sidecar"].kill()
    answers = [client.post(f"{API}/infer", json=body) for _ in range(4)]
    for r in answers:
        assert r.status_code == 200 and r.headers["X-Tcnvae-Source"] == "stub"
        assert len(r.json()["latent"]) == 64 and abs(sum(r.json()["motif_scores"]) - 1) < 1e-5
    assert answers[0].json() == answers[-1].json()  # the stub is deterministic
    health = client.get("/healthz").json()
    assert health["status"] == "degraded" and health["backend"]["reachable"] is False
    assert health["backend"]["breaker"]["state"] in ("open", "half_open")
    metrics = client.get("/metrics").text
    assert 'tcnvae_gateway_fallbacks_total{reason="connect"}' in metrics

    res = upload(client, hapt_csv)  # a session while the model is down: marked stub, no activity
    assert res["source"] == "stub" and res["time_per_activity"] is None
    assert len(res["timeline"]) == res["n_windows"]

    stack["sidecar"] = ServerProcess(stack["models"], log=stack["tmp"] / "sidecar2.log",
                                     port=stack["side_port"]).wait_ready()
    wait_breaker(client, "half_open")
    r = client.post(f"{API}/infer", json=body)
    assert r.json()["source"] == "model" and r.headers["X-Tcnvae-Source"] == "model"
    assert client.get("/healthz").json()["backend"]["breaker"]["state"] == "closed"
