"""Records every HTTP request into an app's metric families, by a plain ASGI middleware.

A pure ASGI wrapper (not BaseHTTPMiddleware) costs a few microseconds per request; the
endpoint label is the route template, so `/v2/models/{m}/infer` stays one series.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import disable_created_metrics
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# No `*_created` series (each counter's and histogram's creation time, one extra series per label
# set) on either server's /metrics: scrapers do not use them and they double the page. This is
# prometheus_client's process-wide switch; both servers import this module before any metric exists.
disable_created_metrics()

LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25,
                   0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
UNTRACKED = frozenset({"/metrics"})


class MetricsMiddleware:
    """Counts, times and gauges every HTTP request except scrapes of /metrics."""

    def __init__(self, app: ASGIApp, metrics: Any) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNTRACKED:
            await self.app(scope, receive, send)
            return
        status = 500
        start = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        self.metrics.inflight.inc()
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self.metrics.inflight.dec()
            route = scope.get("route")
            endpoint = getattr(route, "path", None) or "unmatched"
            self.metrics.requests.labels(endpoint=endpoint, status=str(status)).inc()
            self.metrics.duration.labels(endpoint=endpoint).observe(time.perf_counter() - start)
