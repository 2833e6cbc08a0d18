"""The seed contract and the refusals, against a real uvicorn process."""

from __future__ import annotations

import json

import httpx
import numpy as np
import pytest

JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.url, timeout=30.0) as c:
        yield c


def post(client, path: str, body, headers=JSON) -> httpx.Response:
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(path, content=data, headers=headers)


@pytest.mark.parametrize("name", ["realistic_imu_sample", "random_imu_sample"])
def test_conformance_windows_get_latent_and_motifs(client, conformance, name):
    r = post(client, "/infer", conformance[name])
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["latent"]) == 64 and len(body["motif_scores"]) == 12
    assert all(0.0 <= s <= 1.0 for s in body["motif_scores"])
    assert body["activity"] in body["activity_probs"]
    assert abs(sum(body["activity_probs"].values()) - 1.0) < 1e-4
    assert body["model_version"] == "v1.0.0"


def test_105_rows_refused_naming_the_shape(client, conformance):
    r = post(client, "/infer", conformance["static_imu_sample_105rows"])
    assert r.status_code == 422
    assert "105" in r.json()["error"] and "100" in r.json()["error"]


def test_batch_matches_single(client, windows):
    r = post(client, "/infer/batch", {"windows": windows.tolist()})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["n"] == len(windows) and np.shape(body["latent"]) == (len(windows), 64)
    assert len(body["activity"]) == len(windows) and len(body["activity_probs"]) == len(windows)
    one = post(client, "/infer", {"x": windows[3].tolist()}).json()
    np.testing.assert_allclose(body["latent"][3], one["latent"], atol=1e-5)


@pytest.mark.parametrize("mutate, words", [
    (lambda w: w.__setitem__((5, 2), float("nan")), ["non-finite", "sample 5", "az"]),
    (lambda w: w.__setitem__((7, 3), float("inf")), ["non-finite", "sample 7", "gx"]),
    (lambda w: w.__setitem__((9, 0), 1000.0), ["physical limit", "sample 9", "ax"]),
])
def test_bad_values_name_the_index(client, windows, mutate, words):
    w = windows[0].copy()
    mutate(w)
    # Python's json writes NaN / Infinity literals, which orjson refuses: both must reach the check.
    r = post(client, "/infer", json.dumps({"x": w.tolist()}))
    assert r.status_code == 422, r.text
    assert all(word in r.json()["error"] for word in words), r.json()


def test_a_json_boolean_in_a_window_is_refused_not_read_as_one(client, windows):
    rows = windows[0].tolist()
    rows[4][1] = True
    r = post(client, "/infer", json.dumps({"x": rows}))
    assert r.status_code == 422 and "boolean" in r.json()["error"], r.text
    rows = [windows[0].tolist(), windows[1].tolist()]
    rows[1][0][0] = False
    r = post(client, "/infer/batch", json.dumps({"windows": rows}))
    assert r.status_code == 422 and "boolean" in r.json()["error"], r.text


def test_bad_window_in_a_batch_is_named(client, windows):
    batch = windows.tolist()
    batch[5] = batch[5][:99]
    r = post(client, "/infer/batch", {"windows": batch})
    assert r.status_code == 422 and "windows[5]" in r.json()["error"]
    bad = windows.copy()
    bad[6, 10, 4] = np.nan
    r = post(client, "/infer/batch", json.dumps({"windows": bad.tolist()}))
    assert r.status_code == 422 and "window 6, sample 10, channel gy" in r.json()["error"]


@pytest.mark.parametrize("body, status, word", [
    (b'{"x": [[1, 2', 400, "malformed"),
    (b"", 400, "empty"),
    (b"[1, 2, 3]", 422, "object"),
    (b'{"y": 1}', 422, "'x'"),
    (b'{"x": "abc"}', 422, "numbers"),
    (b'{"x": 5}', 422, "one window"),
    (b'{"x": [["1"] * 9]}', 400, "malformed"),
    (json.dumps({"x": [["a"] * 9] * 100}).encode(), 422, "numbers"),
    (json.dumps({"x": [[None] * 9] * 100}).encode(), 422, "numbers"),
    (json.dumps({"x": [[1.0] * 9] * 99 + [[1.0] * 8]}).encode(), 422, "ragged"),
    (json.dumps({"x": [[[0.0] * 9] * 100]}).encode(), 422, "one window"),
])
def test_malformed_bodies_are_4xx(client, body, status, word):
    r = post(client, "/infer", body)
    assert r.status_code == status, r.text
    assert word in r.json()["error"]


def test_wrong_content_type_is_415(client, conformance):
    r = post(client, "/infer", conformance["realistic_imu_sample"], headers={"content-type": "text/plain"})
    assert r.status_code == 415


def test_oversized_body_is_413_by_header_and_by_stream(client):
    big = b'{"x": [' + b"0.0," * (3 << 20) + b"0.0]}"
    assert post(client, "/infer", big).status_code == 413

    def chunks():  # no Content-Length: the streaming limit must catch it
        yield b'{"windows": ['
        for _ in range(600):
            yield b"0.0," * 4000
    r = client.post("/infer/batch", content=chunks(), headers=JSON)
    assert r.status_code == 413


def test_too_many_windows_is_413_naming_the_limit(client, windows):
    r = post(client, "/infer/batch", {"windows": [windows[0].tolist()] * 300})
    assert r.status_code == 413 and "256" in r.json()["error"]


def test_server_keeps_serving_after_abuse(client, conformance):
    assert post(client, "/infer", conformance["realistic_imu_sample"]).status_code == 200


def test_healthz_and_status(client):
    h = client.get("/healthz").json()
    assert {"ok", "model", "version", "uptime_s", "config_version", "model_sha256", "device",
            "latency_ms"} <= set(h) and h["ok"] is True and len(h["model_sha256"]) == 64
    s = client.get("/status").json()
    assert s["backend"] == "onnx" and s["threads"] == 1 and s["batching"]["max_batch"] == 32
    assert "queue_depth" in s and s["counts"]["requests"] >= 1


def test_metrics_exposed(client, conformance):
    post(client, "/infer", conformance["realistic_imu_sample"])
    text = client.get("/metrics").text
    assert 'tcnvae_requests_total{endpoint="/infer",status="200"}' in text
    assert 'tcnvae_requests_total{endpoint="/infer",status="422"}' in text
    for name in ("tcnvae_request_duration_seconds_bucket", "tcnvae_batch_size_bucket",
                 "tcnvae_inflight_requests", 'tcnvae_model_info{backend="onnx"'):
        assert name in text
