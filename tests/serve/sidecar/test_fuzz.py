"""Fuzz the running server: never a 5xx, every refusal a JSON {"error": ...}.

Schemathesis drives the operations of /openapi.json that take no body (generating 100x9
arrays from JSON Schema is far too slow for a test); the body routes get hypothesis bodies
aimed at the edges: near-miss shapes, NaN/Inf/huge numbers, wrong types, junk bytes.
"""

from __future__ import annotations

import json

import httpx
import numpy as np
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

FUZZ = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=32), st.integers(-10**6, 10**6))
cells = st.one_of(numbers, numbers, st.none(), st.text(max_size=3), st.booleans())
json_junk = st.recursive(st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=5)),
                         lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                 st.dictionaries(st.text(max_size=4), inner, max_size=3)),
                         max_leaves=10)


@st.composite
def near_windows(draw) -> list:
    rows, cols = draw(st.sampled_from([100, 100, 100, 99, 101, 0])), draw(st.sampled_from([9, 9, 9, 8, 10]))
    base = np.zeros((rows, cols)).tolist()
    for _ in range(draw(st.integers(0, 3))):
        if rows and cols:
            base[draw(st.integers(0, rows - 1))][draw(st.integers(0, cols - 1))] = draw(cells)
    return base


bodies = st.one_of(
    st.builds(lambda w: {"x": w}, near_windows()),
    st.builds(lambda ws: {"windows": ws}, st.lists(near_windows(), max_size=3)),
    st.builds(lambda w: {"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 100, 9], "data": w}]},
              near_windows()),
    st.builds(lambda req, inp, out: {
        "parameters": req, "outputs": [{"name": "latent", "parameters": out}],
        "inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 100, 9], "data": [0.0] * 900, "parameters": inp}]},
        st.one_of(json_junk, st.fixed_dictionaries({"binary_data_output": json_junk})),
        st.one_of(json_junk, st.fixed_dictionaries({"binary_data_size": json_junk})),
        st.one_of(json_junk, st.fixed_dictionaries({"binary_data": json_junk}))),  # OIP `parameters`
    json_junk,
)


def _check(response: httpx.Response | object, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code} {response.text[:300]}"
    if response.status_code >= 400:
        assert "error" in response.json(), response.text[:300]


def test_body_routes_never_5xx(server):
    with httpx.Client(base_url=server.url, timeout=30.0) as client:
        @given(path=st.sampled_from(["/infer", "/infer/batch", "/v2/models/tcn_encoder/infer"]),
               body=st.one_of(bodies.map(lambda b: json.dumps(b, allow_nan=True).encode()),
                              st.binary(max_size=64)))
        @FUZZ
        def check(path: str, body: bytes) -> None:
            r = client.post(path, content=body, headers={"content-type": "application/json"})
            _check(r, f"POST {path} {body[:80]!r}")

        check()
        assert client.get("/healthz").status_code == 200


def test_schema_operations_never_5xx(server):
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {"/infer", "/infer/batch", "/v2/models/{model}/infer", "/healthz"} <= {op.path for op in operations}
    for op in operations:
        if op.method.upper() != "GET":
            continue

        @given(case=op.as_strategy())
        @settings(FUZZ, max_examples=5)
        def check(case) -> None:
            _check(case.call(timeout=30), f"{case.method} {case.formatted_path}")

        check()
