"""The EdgeInfer analysis API: app assembly, lifespan, /healthz and /metrics.

Routes live in `gateway_infer` (seed `/infer`, motifs) and `gateway_sessions` (uploads);
the model answers through `gateway_backend.ModelGateway` (sidecar, breaker, marked stub) and
the analysis itself is `tcnvae.analysis`. Nothing is loaded at import: `lifespan` builds it.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from importlib import metadata

from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from tcnvae.analysis.errors import AnalysisInputError
from tcnvae.analysis.pipeline import AnalysisConfig
from tcnvae.contract import ContractError
from tcnvae.serve.http.auth import ApiKeyCheck
from tcnvae.serve.http.errors import install_error_handlers, json_error
from tcnvae.serve.gateway.backend import ModelGateway
from tcnvae.serve.gateway.client import BackendRejected
from tcnvae.serve.gateway.infer import json_response
from tcnvae.serve.gateway.infer import router as infer_router
from tcnvae.serve.gateway.jobs import SessionRunner
from tcnvae.serve.gateway.metrics import GatewayMetrics
from tcnvae.serve.gateway.sessions_api import router as sessions_router
from tcnvae.serve.gateway.stream import router as stream_router
from tcnvae.serve.gateway.settings import GatewaySettings
from tcnvae.serve.http.metrics import MetricsMiddleware
from tcnvae.serve.gateway.store import SessionStore
from tcnvae.serve.stream.limits import StreamSlots

log = logging.getLogger(__name__)


def _version() -> str:
    try:
        return metadata.version("tcnvae")
    except metadata.PackageNotFoundError:
        return "unknown"


__version__ = _version()


def analysis_config(settings: GatewaySettings) -> AnalysisConfig:
    return AnalysisConfig(stride=settings.stride, smooth_windows=settings.smooth_windows,
                          min_dwell_s=settings.min_dwell_s,
                          confidence_threshold=settings.confidence_threshold, batch_size=settings.batch_size,
                          temporal=settings.temporal, mean_dwell_s=settings.mean_dwell_s)


def _install_gateway_errors(app: FastAPI) -> None:
    async def user_error(_req: Request, exc: Exception) -> Response:
        return json_error(422, str(exc))

    async def rejected(_req: Request, exc: BackendRejected) -> Response:
        return json_error(exc.status, f"model backend refused the input: {exc.detail}")

    app.add_exception_handler(ContractError, user_error)
    app.add_exception_handler(AnalysisInputError, user_error)
    app.add_exception_handler(BackendRejected, rejected)


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()
    metrics = GatewayMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.store = SessionStore(settings.sessions_dir)
        app.state.store.clean_incoming()
        app.state.model = ModelGateway(settings, metrics)
        app.state.runner = SessionRunner(app.state.store, app.state.model, app.state.analysis_config, metrics,
                                         settings.session_timeout_s, settings.max_samples)
        recovered = app.state.runner.recover()
        if recovered:
            log.info("re-processing %d unfinished session(s) from %s", recovered, settings.sessions_dir)
        log.info("gateway ready: real model %s at %s", settings.use_real_model, settings.model_backend_url)
        yield
        await app.state.runner.close()
        await app.state.model.close()

    app = FastAPI(title="tcnvae EdgeInfer analysis API", version=__version__, lifespan=lifespan)
    app.state.settings, app.state.metrics = settings, metrics
    app.state.analysis_config = analysis_config(settings)
    install_error_handlers(app)
    _install_gateway_errors(app)
    app.state.auth = ApiKeyCheck((settings.api_key,) if settings.api_key else ())
    app.state.stream_slots = StreamSlots(settings.stream_max_streams)
    auth = [Depends(app.state.auth)]
    app.include_router(infer_router, dependencies=auth)
    app.include_router(sessions_router, dependencies=auth)
    app.include_router(stream_router)  # checks the API key itself (WebSocket)
    app.add_middleware(MetricsMiddleware, metrics=metrics)

    @app.get("/healthz", tags=["ops"])
    async def healthz(request: Request) -> Response:
        backend = await request.app.state.model.health()
        problem = backend.pop("problem")
        return json_response({"status": "degraded" if problem else "ok", "reason": problem,
                               "gateway": {"version": __version__, "use_real_model": settings.use_real_model,
                                           "sessions_dir": str(settings.sessions_dir)},
                               "backend": backend})

    @app.get("/metrics", tags=["ops"])
    async def prometheus(request: Request) -> Response:
        state = request.app.state.model.breaker.state
        metrics.set_breaker(state)
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app
