"""The sidecar's Prometheus metric families, in their own registry (several apps may share a process).

Under `--workers N` (PROMETHEUS_MULTIPROC_DIR set by the supervisor) every worker writes its
values to that folder and render() sums all workers: counters and histograms add up, the
in-flight gauge sums the live workers, the model-info gauge is the same in all of them.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from tcnvae.serve.http.metrics import BATCH_BUCKETS, LATENCY_BUCKETS
from tcnvae.serve.stream.metrics import StreamMetrics


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
        self.stream = StreamMetrics(r, "tcnvae")  # /v2/stream: open, windows, latency, closes
        self.derived: list[Collector] = []  # families computed from these at scrape time (compat aliases)

    def add_derived(self, collector: Collector) -> None:
        """Render `collector` beside our families, in one process and under --workers alike."""
        self.registry.register(collector)
        self.derived.append(collector)

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
        for collector in self.derived:
            merged.register(collector)
        return generate_latest(merged)

    def families(self, *names: str) -> list[Metric]:
        """Our families called `names`, as a scrape sees them (summed over workers under --workers)."""
        folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if folder:
            found = multiprocess.MultiProcessCollector(None, folder).collect()
        else:  # our own families only: the registry also holds the derived collectors, which call this
            own = (self.requests, self.duration, self.batch_size, self.inflight, self.model_info)
            found = (family for metric in own for family in metric.collect())
        return [f for f in found if f.name in names]

    def close(self) -> None:
        """A worker leaving: its live gauges stop counting (multi-process mode only)."""
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            multiprocess.mark_process_dead(os.getpid())
