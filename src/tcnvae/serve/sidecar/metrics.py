"""The sidecar's Prometheus metric families, in their own registry (several apps may share a process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from tcnvae.serve.http.metrics import BATCH_BUCKETS, LATENCY_BUCKETS


class Metrics:
    """The sidecar's metric families in their own registry (several apps may share a process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter("tcnvae_requests", "HTTP requests by route and status",
                                ["endpoint", "status"], registry=r)
        self.duration = Histogram("tcnvae_request_duration_seconds", "HTTP request latency by route",
                                  ["endpoint"], buckets=LATENCY_BUCKETS, registry=r)
        self.batch_size = Histogram("tcnvae_batch_size", "windows per backend call (micro-batch)",
                                    buckets=BATCH_BUCKETS, registry=r)
        self.inflight = Gauge("tcnvae_inflight_requests", "HTTP requests being handled", registry=r)
        self.model_info = Gauge("tcnvae_model_info", "the loaded model", ["model", "version", "sha256",
                                                                           "backend"], registry=r)

    def set_model(self, model: str, version: str, sha256: str, backend: str) -> None:
        self.model_info.clear()
        self.model_info.labels(model=model, version=version, sha256=sha256, backend=backend).set(1)

    def render(self) -> bytes:
        return generate_latest(self.registry)
