"""torch vs onnx agree, batching on vs off agree, and API keys guard the inference routes."""

from __future__ import annotations

import asyncio

import httpx
import numpy as np

from tests.serve.conftest import API_KEYS


def _batch(url: str, windows: np.ndarray, key: str | None = None) -> dict:
    headers = {"X-API-Key": key} if key else {}
    r = httpx.post(f"{url}/infer/batch", json={"windows": windows.tolist()}, headers=headers, timeout=30.0)
    assert r.status_code == 200, r.text
    return r.json()


def test_torch_and_onnx_agree(servers, windows):
    onnx = _batch(servers["onnx"].url, windows)
    torch = _batch(servers["torch"].url, windows, API_KEYS[0])
    for key in ("latent", "motif_scores"):
        np.testing.assert_allclose(onnx[key], torch[key], atol=1e-4)
    assert onnx["activity"] == torch["activity"]


async def _concurrent_singles(url: str, windows: np.ndarray, key: str | None) -> list[list[float]]:
    headers = {"X-API-Key": key} if key else {}
    async with httpx.AsyncClient(base_url=url, timeout=30.0, headers=headers) as c:
        rs = await asyncio.gather(*(c.post("/infer", json={"x": w.tolist()}) for w in windows))
    assert all(r.status_code == 200 for r in rs)
    return [r.json()["latent"] for r in rs]


def test_batching_on_and_off_give_the_same_results(servers, windows):
    batched = asyncio.run(_concurrent_singles(servers["onnx"].url, windows, None))
    unbatched = asyncio.run(_concurrent_singles(servers["torch"].url, windows, API_KEYS[1]))
    np.testing.assert_allclose(batched, unbatched, atol=1e-4)
    one_by_one = _batch(servers["onnx"].url, windows)["latent"]
    np.testing.assert_allclose(batched, one_by_one, atol=1e-5)
    status = httpx.get(f"{servers['torch'].url}/status").json()
    assert status["batching"]["enabled"] is False and status["auth"] is True


def test_api_keys(servers, conformance):
    url = servers["torch"].url
    body = conformance["realistic_imu_sample"]
    assert httpx.post(f"{url}/infer", json=body).status_code == 401
    assert httpx.post(f"{url}/infer", json=body, headers={"X-API-Key": "wrong-key-0123456789"}).status_code == 401
    for key in API_KEYS:
        assert httpx.post(f"{url}/infer", json=body, headers={"X-API-Key": key}).status_code == 200
    v2 = {"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 100, 9], "data": body["x"]}]}
    assert httpx.post(f"{url}/v2/models/tcn_encoder/infer", json=v2).status_code == 401
    # health and metrics stay open for probes and scrapers
    assert httpx.get(f"{url}/healthz").status_code == 200
    assert httpx.get(f"{url}/v2/health/ready").status_code == 200
    assert httpx.get(f"{url}/metrics").status_code == 200
