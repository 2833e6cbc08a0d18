"""Operational routes: /healthz (503 until ready), /status, /metrics."""

from __future__ import annotations

import os
import time

import orjson
from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.responses import Response

from tcnvae.serve.sidecar.schemas import Health
from tcnvae.serve.sidecar.state import get_state

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=None, responses={200: {"model": Health}, 503: {"model": Health}})
async def healthz(request: Request) -> Response:
    state = get_state(request)
    s, engine = state.settings, state.engine
    body = {"ok": state.ready, "model": engine.info.name if engine else s.ref,
            "version": engine.info.version if engine else "",
            "uptime_s": round(time.monotonic() - state.started, 3), "config_version": s.config_version,
            "model_sha256": engine.info.sha256 if engine else "",
            "device": f"{engine.backend.name}:{engine.backend.device}" if engine else "",
            "latency_ms": round(state.warmup_ms, 3)}
    return Response(orjson.dumps(body), status_code=200 if state.ready else 503, media_type="application/json")


@router.get("/status", response_model=None)
async def status(request: Request) -> Response:
    state = get_state(request)
    s, engine, batcher = state.settings, state.engine, state.batcher
    stats = batcher.stats if batcher else None
    body = {
        "ready": state.ready, "draining": state.draining, "ref": s.ref,
        "backend": engine.backend.name if engine else s.backend,
        "artifact": engine.backend.artifact if engine else None,
        "precision": engine.precision if engine else s.precision,
        "threads": s.threads, "workers": s.workers, "pid": os.getpid(),
        "inference_thread": s.engine_thread,
        "batching": {"enabled": s.max_batch > 1, "max_batch": s.max_batch, "batch_wait_ms": s.batch_wait_ms,
                     "max_queue": s.max_queue, "max_windows": s.max_windows,
                     "max_inflight": s.max_inflight},
        "queue_depth": batcher.queue_depth if batcher else 0,
        "inflight": batcher.inflight if batcher else 0,
        "running_windows": batcher.running if batcher else 0,
        "counts": None if stats is None else {
            "requests": stats.requests, "windows": stats.windows, "batches": stats.batches,
            "rejected": stats.rejected, "timeouts": stats.timeouts,
            "mean_batch": round(sum(stats.batch_sizes) / len(stats.batch_sizes), 2) if stats.batch_sizes else 0.0},
        "auth": state.auth.enabled, "limits_checked": s.check_limits,
        # max abs diff of each start-up check that ran ("reference": stored outputs, "torch": live PyTorch)
        "startup_parity": dict(engine.parity) if engine else None,
    }
    return Response(orjson.dumps(body), media_type="application/json")


@router.get("/metrics", response_model=None, responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}})
async def metrics(request: Request) -> Response:
    return Response(get_state(request).metrics.render(), media_type=CONTENT_TYPE_LATEST)
