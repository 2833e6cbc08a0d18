"""A drop-in for the old HailoRT sidecar: `GET /` service discovery and its `hailo_*` metric names.

Deployments of the old system probe `GET /` to find the service and scrape four metric names.
They are served here as aliases computed from our own families at scrape time, so they can
never disagree with them:

- `hailo_inference_requests_total{status="success|error", model}`: `tcnvae_requests_total`
  over the inference routes (`/infer`, `/infer/batch`, `/v2/models/{m}/infer`), 2xx = success;
- `hailo_inference_duration_seconds{model}`: `tcnvae_request_duration_seconds` over the same routes;
- `hailo_model_loaded{model, version}`: 1 while the model answers (`/healthz` 200), else 0;
- `hailo_sidecar_start_time_seconds`: Unix time the server started (`/healthz` `uptime_s` counts from it).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from importlib.metadata import PackageNotFoundError, version as package_version

import orjson
from fastapi import APIRouter, Request
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString
from starlette.responses import Response

from tcnvae.serve.http.metrics import LATENCY_BUCKETS
from tcnvae.serve.sidecar.state import ServeState, get_state

SERVICE = "tcnvae inference sidecar"
OLD_SERVICE = "HailoRT TCN Inference Sidecar"  # what the old `GET /` called itself
ENDPOINTS = {"health": "/healthz", "inference": "/infer", "batch": "/infer/batch", "metrics": "/metrics",
             "status": "/status", "docs": "/docs", "openapi": "/openapi.json", "oip": "/v2"}

router = APIRouter(tags=["operations"])


def is_inference(endpoint: str) -> bool:
    """The routes that run the model (route templates, as the metrics label them)."""
    return endpoint in ("/infer", "/infer/batch") or (endpoint.startswith("/v2/models/") and endpoint.endswith("/infer"))


def _model(state: ServeState) -> tuple[str, str]:
    if state.engine is not None:
        return state.engine.info.name, state.engine.info.version
    name, _, tag = state.settings.ref.partition("@")
    return name, tag


@router.get("/", response_model=None, summary="service discovery (as the old HailoRT sidecar's GET /)")
async def root(request: Request) -> Response:
    state = get_state(request)
    model, version = _model(state)
    body = {"service": SERVICE, "compatible_with": OLD_SERVICE, "version": _package_version(),
            "model": model, "model_version": version, "model_ready": state.ready,
            "backend": state.engine.backend.name if state.engine else state.settings.backend,
            "endpoints": ENDPOINTS}
    return Response(orjson.dumps(body), media_type="application/json")


def _package_version() -> str:
    try:
        return package_version("tcnvae")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


class LegacyMetrics(Collector):
    """The old sidecar's four metric names, derived from our families whenever /metrics is scraped."""

    def __init__(self, state: ServeState) -> None:
        self.state = state
        self.start_time = time.time() - (time.monotonic() - state.started)

    def collect(self) -> Iterator[Metric]:
        state, (model, version) = self.state, _model(self.state)
        counts: dict[str, float] = {"success": 0.0, "error": 0.0}
        for family in state.metrics.families("tcnvae_requests"):
            for s in family.samples:
                if s.name.endswith("_total") and is_inference(s.labels["endpoint"]):
                    counts["success" if s.labels["status"].startswith("2") else "error"] += s.value
        requests = CounterMetricFamily("hailo_inference_requests", "alias: tcnvae_requests_total over the "
                                       "inference routes (2xx = success)", labels=["status", "model"])
        for status, value in counts.items():
            requests.add_metric([status, model], value)
        yield requests

        buckets: dict[str, float] = defaultdict(float)
        total = 0.0
        for family in state.metrics.families("tcnvae_request_duration_seconds"):
            for s in family.samples:
                if not is_inference(s.labels.get("endpoint", "")):
                    continue
                if s.name.endswith("_bucket"):
                    buckets[s.labels["le"]] += s.value
                elif s.name.endswith("_sum"):
                    total += s.value
        edges = [floatToGoString(b) for b in LATENCY_BUCKETS] + ["+Inf"]
        duration = HistogramMetricFamily("hailo_inference_duration_seconds", "alias: "
                                         "tcnvae_request_duration_seconds over the inference routes",
                                         labels=["model"])
        duration.add_metric([model], [(le, buckets[le]) for le in edges], total)
        yield duration

        loaded = GaugeMetricFamily("hailo_model_loaded", "alias: 1 while the model answers (/healthz 200)",
                                   labels=["model", "version"])
        loaded.add_metric([model, version], 1.0 if state.ready else 0.0)
        yield loaded
        yield GaugeMetricFamily("hailo_sidecar_start_time_seconds", "alias: Unix time the sidecar started",
                                value=self.start_time)
