"""Gateway pieces without HTTP: the circuit breaker, settings refusals, answer checking."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from tcnvae.serve.gateway.breaker import CLOSED, HALF_OPEN, OPEN, CircuitBreaker
from tcnvae.serve.gateway.client import BackendFailure, _checked
from tcnvae.serve.gateway.settings import GatewaySettings, UnsafeSettings


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_breaker_opens_after_n_failures_and_probes_after_cooldown() -> None:
    clock = Clock()
    b = CircuitBreaker(failures=3, cooldown_s=10.0, clock=clock)
    for _ in range(2):
        assert b.allow()
        b.record_failure()
    assert b.state == CLOSED
    b.record_failure()
    assert b.state == OPEN and not b.allow()
    clock.t = 10.0
    assert b.state == HALF_OPEN
    assert b.allow()  # the one probe
    assert not b.allow()  # no second probe while the first is in flight
    b.record_failure()
    assert b.state == OPEN and not b.allow()
    clock.t = 20.0
    assert b.allow()
    b.record_success()
    assert b.state == CLOSED and b.allow()
    assert b.snapshot()["opened_total"] == 2


def test_success_resets_the_failure_count() -> None:
    b = CircuitBreaker(failures=2, cooldown_s=1.0, clock=Clock())
    b.record_failure()
    b.record_success()
    b.record_failure()
    assert b.state == CLOSED


@pytest.mark.parametrize("env, value", [
    ("MODEL_BACKEND_URL", "ftp://example.com"),
    ("MODEL_BACKEND_URL", "http://user:pw@127.0.0.1:9000"),
    ("API_KEY", "short"),
    ("GATEWAY_BACKEND_TIMEOUT_S", "0"),
    ("GATEWAY_BREAKER_FAILURES", "0"),
    ("GATEWAY_MAX_UPLOAD_BYTES", "10"),
    ("GATEWAY_STRIDE", "101"),
    ("USE_REAL_MODEL", "maybe"),
    ("GATEWAY_TEMPORAL", "lstm"),
    ("GATEWAY_MEAN_DWELL_S", "0"),
])
def test_settings_refuse_unsafe_values(monkeypatch: pytest.MonkeyPatch, env: str, value: str) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(ValidationError):
        GatewaySettings()


def test_settings_from_edgeinfer_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("USE_REAL_MODEL", "false")
    monkeypatch.setenv("MODEL_BACKEND_URL", "http://127.0.0.1:9001/")
    monkeypatch.setenv("SESSIONS_DIR", str(tmp_path))
    s = GatewaySettings()
    assert (s.use_real_model, s.model_backend_url, s.sessions_dir) == (False, "http://127.0.0.1:9001", tmp_path)
    with pytest.raises(UnsafeSettings):
        s.check_bind("0.0.0.0")
    s.check_bind("127.0.0.1")


def test_answer_checking_accepts_the_sidecar_form_and_refuses_garbage() -> None:
    good = {"latent": np.zeros((2, 64)).tolist(), "motif_scores": np.full((2, 12), 1 / 12).tolist(),
            "activity_probs": [{"a": 0.2, "b": 0.8}, {"a": 0.6, "b": 0.4}]}
    out = _checked(good, 2)
    assert out["activity_probs"].shape == (2, 2)
    for bad in ({"latent": "x"}, {**good, "motif_scores": np.ones((2, 12)).tolist()},
                {**good, "latent": np.zeros((3, 64)).tolist()}, [1, 2], None):
        with pytest.raises(BackendFailure) as err:
            _checked(bad, 2)
        assert err.value.reason == "malformed"
