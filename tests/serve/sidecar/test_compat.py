"""The old HailoRT sidecar's contract on a real `tcnvae serve`: `GET /` and its `hailo_*` metrics.

The old system's own checks probe `/` for service discovery and scrape four metric names; they
are aliases of our families and must carry the same values in the same scrape.
"""

from __future__ import annotations

import time

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tcnvae.serve.sidecar.compat import is_inference

OLD_NAMES = ("hailo_inference_requests", "hailo_inference_duration_seconds", "hailo_model_loaded",
             "hailo_sidecar_start_time_seconds")


def _scrape(url: str) -> dict[str, list]:
    text = httpx.get(f"{url}/metrics").text
    return {f.name: f.samples for f in text_string_to_metric_families(text)}


def test_root_answers_service_discovery(server) -> None:
    r = httpx.get(f"{server.url}/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    body = r.json()
    health = httpx.get(f"{server.url}/healthz").json()
    assert body["service"] == "tcnvae inference sidecar"
    assert body["compatible_with"] == "HailoRT TCN Inference Sidecar"
    assert (body["model"], body["model_version"]) == (health["model"], health["version"]) == ("tcn_encoder", "v1.0.0")
    assert body["model_ready"] is True and body["version"]
    assert body["endpoints"]["health"] == "/healthz" and body["endpoints"]["inference"] == "/infer"
    for path in body["endpoints"].values():  # every advertised endpoint exists
        assert httpx.get(f"{server.url}{path}").status_code != 404, path


def test_hailo_metric_aliases_carry_our_values(server, conformance) -> None:
    url = server.url
    assert httpx.post(f"{url}/infer", json=conformance["realistic_imu_sample"]).status_code == 200
    assert httpx.post(f"{url}/infer", json=conformance["static_imu_sample_105rows"]).status_code == 422
    health = httpx.get(f"{url}/healthz").json()
    families = _scrape(url)
    assert set(OLD_NAMES) <= set(families)

    ours = {"success": 0.0, "error": 0.0}
    for s in families["tcnvae_requests"]:
        if s.name == "tcnvae_requests_total" and is_inference(s.labels["endpoint"]):
            ours["success" if s.labels["status"].startswith("2") else "error"] += s.value
    old = {s.labels["status"]: s.value for s in families["hailo_inference_requests"]
           if s.name == "hailo_inference_requests_total"}
    assert old == ours and old["success"] >= 1 and old["error"] >= 1
    assert {s.labels["model"] for s in families["hailo_inference_requests"]} == {"tcn_encoder"}

    def count(family: str, name: str) -> float:
        return sum(s.value for s in families[family] if s.name == name
                   and is_inference(s.labels.get("endpoint", "/infer")))
    assert count("hailo_inference_duration_seconds", "hailo_inference_duration_seconds_count") == \
        count("tcnvae_request_duration_seconds", "tcnvae_request_duration_seconds_count") == sum(ours.values())

    loaded = families["hailo_model_loaded"]
    assert [(s.labels["model"], s.labels["version"], s.value) for s in loaded] == [("tcn_encoder", "v1.0.0", 1.0)]
    (start,) = families["hailo_sidecar_start_time_seconds"]
    assert abs(start.value - (time.time() - health["uptime_s"])) < 5.0


def test_metrics_have_no_created_series(server) -> None:
    names = [s.name for samples in _scrape(server.url).values() for s in samples]
    assert names and not [n for n in names if n.endswith("_created")]
