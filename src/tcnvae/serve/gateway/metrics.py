"""Prometheus metrics of the gateway, in its own registry (never the global default).

The attribute names match `serve.sidecar.metrics.Metrics`, so the shared `serve.http.metrics.MetricsMiddleware` records them.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from tcnvae.serve.gateway.breaker import STATE_VALUES
from tcnvae.serve.stream.metrics import StreamMetrics


class GatewayMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("tcnvae_gateway_requests_total", "HTTP requests by route and status",
                                ["endpoint", "status"], registry=self.registry)
        self.duration = Histogram("tcnvae_gateway_request_duration_seconds", "HTTP request duration",
                                  ["endpoint"], registry=self.registry,
                                  buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
        self.inflight = Gauge("tcnvae_gateway_inflight_requests", "requests being served",
                               registry=self.registry)
        self.fallbacks = Counter("tcnvae_gateway_fallbacks_total", "stub answers given instead of the model",
                                 ["reason"], registry=self.registry)
        self.breaker_state = Gauge("tcnvae_gateway_breaker_state",
                                   "sidecar circuit breaker: 0 closed, 1 half-open, 2 open",
                                   registry=self.registry)
        self.stream = StreamMetrics(self.registry, "tcnvae_gateway")  # /api/v1/analysis/stream
        self.sessions = Counter("tcnvae_gateway_sessions_total", "sessions by final status",
                                ["status"], registry=self.registry)

    def set_breaker(self, state: str) -> None:
        self.breaker_state.set(STATE_VALUES[state])
