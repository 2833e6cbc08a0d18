"""Model answers for the gateway: the sidecar when it can, else the marked deterministic stub.

`ModelGateway` owns the sidecar client, the circuit breaker and the fallback accounting.
A 4xx from the sidecar about the input is re-raised (`BackendRejected`), everything else that
goes wrong becomes a stub answer, counted by reason. Nothing here raises a 5xx.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from tcnvae.analysis.stub import stub_outputs
from tcnvae.serve.gateway.breaker import CircuitBreaker
from tcnvae.serve.gateway.client import BackendFailure, BackendRejected, SidecarClient
from tcnvae.serve.gateway.metrics import GatewayMetrics
from tcnvae.serve.gateway.settings import GatewaySettings

log = logging.getLogger(__name__)


@dataclass
class Answer:
    outputs: dict[str, np.ndarray]
    source: str  # "model" or "stub"
    labels: tuple[str, ...] = ()
    reason: str | None = None  # why the stub answered


class ModelGateway:
    def __init__(self, settings: GatewaySettings, metrics: GatewayMetrics) -> None:
        self.settings = settings
        self.metrics = metrics
        self.breaker = CircuitBreaker(settings.breaker_failures, settings.breaker_cooldown_s)
        self.client = SidecarClient(settings.model_backend_url, settings.backend_timeout_s,
                                    settings.health_probe_timeout_s, settings.model_backend_api_key)
        metrics.set_breaker(self.breaker.state)

    async def close(self) -> None:
        await self.client.close()

    def _stub(self, x: np.ndarray, reason: str) -> Answer:
        self.metrics.fallbacks.labels(reason=reason).inc()
        return Answer(stub_outputs(x), "stub", (), reason)

    async def infer(self, x: np.ndarray, single: bool = False) -> Answer:
        """Validated raw windows [N, 100, 9] -> the model's answer, or the stub's (marked)."""
        if not self.settings.use_real_model:
            return self._stub(x, "disabled")
        if not self.breaker.allow():
            self.metrics.set_breaker(self.breaker.state)
            return self._stub(x, "breaker_open")
        try:
            outputs, labels = await self._call(x, single)
        except BackendFailure as exc:
            self.breaker.record_failure()
            self.metrics.set_breaker(self.breaker.state)
            log.warning("sidecar failed (%s); answering with the stub", exc)
            return self._stub(x, exc.reason)
        except BackendRejected:
            self.breaker.record_success()  # a 4xx about the input means the sidecar is alive
            self.metrics.set_breaker(self.breaker.state)
            raise
        finally:
            self.breaker.release_probe()  # a cancelled request must not hold the half-open probe
        self.breaker.record_success()
        self.metrics.set_breaker(self.breaker.state)
        return Answer(outputs, "model", labels)

    async def _call(self, x: np.ndarray, single: bool) -> tuple[dict[str, np.ndarray], tuple[str, ...]]:
        try:
            if single:
                return await self.client.infer_one(x[0]), ()
            return await self.client.infer_batch(x)
        except (BackendFailure, BackendRejected):
            raise
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise BackendFailure("malformed", f"{type(exc).__name__}: {exc}") from None

    async def health(self) -> dict:
        """The backend part of /healthz: URL, reachable, credentials, breaker state, and `problem`
        (why the gateway is degraded, None when it is not)."""
        real = self.settings.use_real_model
        reachable = await self.client.healthy() if real else None
        refused = await self.client.credentials_problem() if real and reachable else None
        self.metrics.set_breaker(self.breaker.state)
        breaker = self.breaker.snapshot()
        problem = None
        if real and not reachable:
            problem = f"model backend {self.settings.model_backend_url} is not answering /healthz"
        elif refused:
            problem = refused
        elif real and breaker["state"] != "closed":
            problem = f"circuit breaker is {breaker['state']} after {breaker['consecutive_failures']} failures"
        return {"url": self.settings.model_backend_url, "use_real_model": real, "reachable": reachable,
                "credentials_accepted": (refused is None) if real and reachable else None,
                "sends_api_key": self.client.sends_key, "breaker": breaker, "problem": problem}
