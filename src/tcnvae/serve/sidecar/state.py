"""What the sidecar holds while it runs: settings, engine, batcher, metrics; kept on app.state."""

from __future__ import annotations

import time
from pathlib import Path
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from tcnvae.runtime.batcher import MicroBatcher
from tcnvae.runtime.engine import Engine
from tcnvae.serve.http.auth import ApiKeyCheck
from tcnvae.serve.http.errors import ApiError
from tcnvae.serve.sidecar.metrics import Metrics
from tcnvae.serve.sidecar.settings import ServeSettings
from tcnvae.serve.stream.limits import StreamSlots


@dataclass
class ServeState:
    settings: ServeSettings
    metrics: Metrics = field(default_factory=Metrics)
    engine: Engine | None = None
    batcher: MicroBatcher | None = None
    started: float = field(default_factory=time.monotonic)
    warmup_ms: float = 0.0
    draining: bool = False
    stream_model: Any = None  # the WindowCoalescer all /v2/stream streams share (made at the first stream)

    def __post_init__(self) -> None:
        self.auth = ApiKeyCheck(self.settings.api_keys)
        self.stream_slots = StreamSlots(self.settings.stream_max_streams)

    @property
    def ready(self) -> bool:
        return self.engine is not None and self.batcher is not None and not self.draining

    def parts(self) -> tuple[Engine, MicroBatcher]:
        """Engine and batcher, or 503 while loading or draining."""
        if not self.ready:
            raise ApiError(503, "shutting down" if self.draining else "model not loaded yet",
                           {"Retry-After": "1"})
        return self.engine, self.batcher  # type: ignore[return-value]


def graph_name(engine: Engine) -> str:
    """The file the backend runs (encoder.onnx, encoder_int8.onnx, ...), or its description."""
    artifact = str(engine.backend.artifact)
    return Path(artifact).name if Path(artifact).suffix in (".onnx", ".hef") else artifact


def get_state(request: Request) -> ServeState:
    return request.app.state.serve


def require_key(request: Request) -> None:
    """FastAPI dependency for inference routes: X-API-Key when keys are configured."""
    request.app.state.serve.auth(request)
