"""The sidecar's Prometheus metric families, in their own registry (several apps may share a process).

Under `--workers N` (PROMETHEUS_MULTIPROC_DIR set by the supervisor) every worker writes its
values to that folder and render() sums all workers: counters and histograms add up, the
in-flight gauge sums the live workers, the model-info gauge is the same in all of them.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess

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
        self.inflight = Gauge("tcnvae_inflight_requests", "HTTP requests being handled", registry=r,
                              multiprocess_mode="livesum")
        self.model_info = Gauge("tcnvae_model_info", "the loaded model and the graph it runs",
                                ["model", "version", "sha256", "backend", "precision", "graph"], registry=r,
                                multiprocess_mode="max")

    def set_model(self, model: str, version: str, sha256: str, backend: str, precision: str = "fp32",
                  graph: str = "") -> None:
        if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # one set per worker there; clear() is unsupported
            self.model_info.clear()
        self.model_info.labels(model=model, version=version, sha256=sha256, backend=backend,
                               precision=precision, graph=graph).set(1)

    def render(self) -> bytes:
        folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if not folder:
            return generate_latest(self.registry)
        merged = CollectorRegistry()
        multiprocess.MultiProcessCollector(merged, folder)
        return generate_latest(merged)

    def close(self) -> None:
        """A worker leaving: its live gauges stop counting (multi-process mode only)."""
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            multiprocess.mark_process_dead(os.getpid())
