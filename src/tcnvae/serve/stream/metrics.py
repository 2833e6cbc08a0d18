"""Stream metric families, the same four on the sidecar (`tcnvae_stream_*`) and the gateway
(`tcnvae_gateway_stream_*`), registered in the server's own registry.

- `<prefix>_streams_open`: streams open now (under `--workers N` the live workers' sum).
- `<prefix>_stream_windows_total{source}`: windows answered, by who answered (model or stub).
- `<prefix>_stream_window_latency_seconds`: per window, from receiving the frame that
  completed it to sending its result: the server's share of a device's end-to-end latency.
- `<prefix>_streams_closed_total{code,reason}`: streams ended, by WebSocket close code (1000
  after a clean end, 1013 refused at the limit, 4422 bad samples ...; "client gone" when the
  client left without ending: code 1006 or whatever it sent).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from tcnvae.serve.http.metrics import LATENCY_BUCKETS
from tcnvae.serve.stream.protocol import CLOSE_CODES

CLIENT_GONE = "client gone"


class StreamMetrics:
    def __init__(self, registry: CollectorRegistry, prefix: str) -> None:
        self.open = Gauge(f"{prefix}_streams_open", "live streams open now", registry=registry,
                          multiprocess_mode="livesum")
        self.windows = Counter(f"{prefix}_stream_windows", "stream windows answered, by source (model or stub)",
                               ["source"], registry=registry)
        self.latency = Histogram(f"{prefix}_stream_window_latency_seconds",
                                 "frame completing a window received -> its result sent",
                                 buckets=LATENCY_BUCKETS, registry=registry)
        self.closed = Counter(f"{prefix}_streams_closed", "streams ended, by WebSocket close code",
                              ["code", "reason"], registry=registry)

    def answered(self, source: str, n: int, latencies_s: list[float]) -> None:
        self.windows.labels(source=source).inc(n)
        for value in latencies_s:
            self.latency.observe(value)

    def ended(self, code: int, client_gone: bool = False) -> None:
        reason = CLIENT_GONE if client_gone else CLOSE_CODES.get(code, "other")
        self.closed.labels(code=str(code), reason=reason).inc()
