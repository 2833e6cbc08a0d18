"""Open Inference Protocol v2 with the real tritonclient.http client and with raw JSON."""

from __future__ import annotations

import httpx
import numpy as np
import pytest
import tritonclient.http as triton
from tritonclient.utils import InferenceServerException

MODEL = "tcn_encoder"


@pytest.fixture(scope="module")
def tc(server):
    client = triton.InferenceServerClient(server.url.removeprefix("http://"), network_timeout=30.0)
    yield client
    client.close()


@pytest.fixture(scope="module")
def reference(server, windows):
    r = httpx.post(f"{server.url}/infer/batch", json={"windows": windows.tolist()}, timeout=30.0)
    return {k: np.asarray(r.json()[k], dtype=np.float32) for k in ("latent", "motif_scores")}


def test_health_and_metadata(tc):
    assert tc.is_server_live() and tc.is_server_ready() and tc.is_model_ready(MODEL)
    meta = tc.get_model_metadata(MODEL)
    assert meta["inputs"][0] == {"name": "x", "datatype": "FP32", "shape": [-1, 100, 9]}
    assert [o["name"] for o in meta["outputs"]] == ["latent", "motif_scores", "activity_probs"]
    assert "binary_tensor_data" in tc.get_server_metadata()["extensions"]


@pytest.mark.parametrize("binary", [True, False])
def test_tritonclient_infer(tc, windows, reference, binary):
    inp = triton.InferInput("x", list(windows.shape), "FP32")
    inp.set_data_from_numpy(windows, binary_data=binary)
    outs = [triton.InferRequestedOutput(n, binary_data=binary) for n in ("latent", "motif_scores", "activity_probs")]
    result = tc.infer(MODEL, [inp], outputs=outs, request_id="req-42")
    assert result.get_response()["id"] == "req-42"
    np.testing.assert_allclose(result.as_numpy("latent"), reference["latent"], atol=1e-5)
    np.testing.assert_allclose(result.as_numpy("motif_scores"), reference["motif_scores"], atol=1e-5)
    probs = result.as_numpy("activity_probs")
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_tritonclient_errors(tc, windows):
    with pytest.raises(InferenceServerException) as e:
        tc.get_model_metadata("nope")
    assert e.value.status() == "404"
    bad = windows[:2].copy()
    bad[1, 3, 0] = np.nan
    inp = triton.InferInput("x", list(bad.shape), "FP32")
    inp.set_data_from_numpy(bad)
    with pytest.raises(InferenceServerException) as e:
        tc.infer(MODEL, [inp])
    assert e.value.status() == "422" and "window 1, sample 3, channel ax" in e.value.message()


@pytest.mark.parametrize("nested", [True, False])
def test_json_data_flat_or_nested(server, windows, reference, nested):
    data = windows[:2].tolist() if nested else windows[:2].ravel().tolist()
    body = {"id": "j1", "inputs": [{"name": "x", "datatype": "FP32", "shape": [2, 100, 9], "data": data}]}
    r = httpx.post(f"{server.url}/v2/models/{MODEL}/infer", json=body, timeout=30.0)
    assert r.status_code == 200, r.text
    out = {o["name"]: o for o in r.json()["outputs"]}
    assert r.json()["id"] == "j1" and out["latent"]["shape"] == [2, 64]
    np.testing.assert_allclose(np.reshape(out["latent"]["data"], (2, 64)), reference["latent"][:2], atol=1e-5)


@pytest.mark.parametrize("body, status", [
    ({"inputs": [{"name": "y", "datatype": "FP32", "shape": [1, 100, 9], "data": [0.0] * 900}]}, 400),
    ({"inputs": [{"name": "x", "datatype": "INT8", "shape": [1, 100, 9], "data": [0] * 900}]}, 400),
    ({"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 105, 9], "data": [0.0] * 945}]}, 400),
    ({"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 100, 9], "data": [0.0] * 899}]}, 400),
    ({"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 100, 9], "data": ["a"] * 900}]}, 422),
    ({"inputs": []}, 400),
    ({"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 100, 9], "data": [0.0] * 900}],
      "outputs": [{"name": "recon"}]}, 400),
])
def test_oip_bad_requests(server, body, status):
    r = httpx.post(f"{server.url}/v2/models/{MODEL}/infer", json=body, timeout=30.0)
    assert r.status_code == status, r.text
    assert r.json()["error"]


def test_unknown_model_404(server):
    r = httpx.post(f"{server.url}/v2/models/other/infer", json={"inputs": []}, timeout=30.0)
    assert r.status_code == 404 and "other" in r.json()["error"]


def _with_parameters(where: str, value: object) -> dict:
    body = {"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 100, 9], "data": [0.0] * 900}],
            "outputs": [{"name": "latent"}]}
    target = {"request": body, "input": body["inputs"][0], "output": body["outputs"][0]}[where]
    target["parameters"] = value
    return body


@pytest.mark.parametrize("where, named", [("request", "request.parameters"), ("input", "input 'x'.parameters"),
                                          ("output", "output 'latent'.parameters")])
@pytest.mark.parametrize("value", [[1], "x", 3, True])
def test_parameters_that_are_not_an_object_are_a_400_naming_the_field(server, where, named, value):
    r = httpx.post(f"{server.url}/v2/models/{MODEL}/infer", json=_with_parameters(where, value), timeout=30.0)
    assert r.status_code == 400 and r.headers["content-type"] == "application/json", r.text
    assert named in r.json()["error"] and "must be a JSON object" in r.json()["error"]


@pytest.mark.parametrize("where, value, named", [
    ("request", {"binary_data_output": "yes"}, "request.parameters.binary_data_output"),
    ("output", {"binary_data": [True]}, "output 'latent'.parameters.binary_data"),
    ("input", {"binary_data_size": "3600"}, "binary_data_size"),
])
def test_parameter_values_of_the_wrong_type_are_a_400(server, where, value, named):
    r = httpx.post(f"{server.url}/v2/models/{MODEL}/infer", json=_with_parameters(where, value), timeout=30.0)
    assert r.status_code == 400 and named in r.json()["error"], r.text


def test_null_or_empty_parameters_are_accepted(server):
    for value in (None, {}):
        r = httpx.post(f"{server.url}/v2/models/{MODEL}/infer", json=_with_parameters("request", value), timeout=30.0)
        assert r.status_code == 200, r.text
