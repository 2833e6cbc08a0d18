"""Fuzz every route of the published OpenAPI schema against the real server: never a 5xx.

Schemathesis builds hypothesis strategies from /openapi.json; each operation gets a few
bounded, derandomized examples so the whole fuzz stays well under 30 s.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings

EXAMPLES = 6


def _fuzz(operation) -> int:
    calls = []

    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def check(case) -> None:
        response = case.call(timeout=30)
        calls.append(response.status_code)
        assert response.status_code < 500, (f"{case.method} {case.formatted_path}: {response.status_code} "
                                            f"{response.text[:300]}")
        if response.status_code >= 400 and response.headers.get("content-type", "").startswith("application/json"):
            assert "error" in response.json()

    check()
    return len(calls)


def test_no_server_errors(server):
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    paths = {op.path for op in operations}
    assert {"/infer", "/infer/batch", "/v2/models/{model}/infer", "/healthz"} <= paths
    assert sum(_fuzz(op) for op in operations) >= len(operations)
