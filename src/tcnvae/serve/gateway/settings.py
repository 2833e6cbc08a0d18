"""Gateway configuration from the environment, as EdgeInfer reads it; unsafe values are refused.

EdgeInfer's names are kept (`USE_REAL_MODEL`, `MODEL_BACKEND_URL`, `MODEL_BACKEND_API_KEY`,
`SESSIONS_DIR`, `API_KEY`); the gateway's own knobs are prefixed `GATEWAY_` (e.g.
`GATEWAY_BACKEND_TIMEOUT_S`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tcnvae.contract import WINDOW
from tcnvae.errors import TcnvaeError
from tcnvae.serve.http.network import is_loopback
from tcnvae.serve.stream.limits import StreamLimits

MIN_API_KEY_LEN = 16


class UnsafeSettings(TcnvaeError):
    """A setting combination the gateway refuses to run with (e.g. a public bind without API_KEY)."""


def _env(name: str, default, **kw):
    return Field(default, validation_alias=AliasChoices(name, name.lower()), **kw)


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="forbid", frozen=True,
                                      populate_by_name=True)

    use_real_model: bool = _env("USE_REAL_MODEL", True)
    model_backend_url: str = _env("MODEL_BACKEND_URL", "http://127.0.0.1:9000")
    model_backend_api_key: str | None = _env("MODEL_BACKEND_API_KEY", None, repr=False)
    sessions_dir: Path = _env("SESSIONS_DIR", Path("sessions"))
    api_key: str | None = _env("API_KEY", None, repr=False)

    backend_timeout_s: float = Field(5.0, gt=0, le=120)
    breaker_failures: int = Field(3, ge=1, le=100)
    breaker_cooldown_s: float = Field(10.0, gt=0, le=3600)
    health_probe_timeout_s: float = Field(0.5, gt=0, le=10)
    max_upload_bytes: int = Field(50 * 1024 * 1024, ge=1024, le=2 * 1024**3)
    stride: int = Field(50, ge=1, le=WINDOW)
    batch_size: int = Field(64, ge=1, le=1024)
    smooth_windows: int = Field(5, ge=1, le=101)
    min_dwell_s: float = Field(2.0, ge=0, le=3600)
    confidence_threshold: float = Field(0.5, ge=0, le=1)
    # Uploaded recordings are whole: the HMM (Viterbi) segments them as `tcnvae analyze` does;
    # live streams keep the causal majority rule whatever this says.
    temporal: Literal["hmm", "majority"] = "hmm"
    mean_dwell_s: float = Field(10.0, ge=0.5, le=3600)
    session_timeout_s: float = Field(300.0, gt=0, le=24 * 3600)
    max_samples: int = Field(2_160_000, ge=WINDOW, le=100_000_000)  # 6 h at 100 Hz
    header_timeout_s: float = Field(10.0, gt=0, le=600)
    body_timeout_s: float = Field(120.0, gt=0, le=3600)
    stream_max_streams: int = Field(256, ge=1, le=10_000)
    stream_idle_timeout_s: float = Field(30.0, gt=0, le=3600)
    stream_max_pending_windows: int = Field(64, ge=1, le=4096)
    stream_max_chunk_rows: int = Field(10_000, ge=1, le=1_000_000)

    @field_validator("model_backend_url")
    @classmethod
    def _url(cls, v: str) -> str:
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"MODEL_BACKEND_URL must be an http(s) URL with a host, got {v!r}")
        if parts.username or parts.password:
            raise ValueError("MODEL_BACKEND_URL must not carry credentials")
        return v.rstrip("/")

    @field_validator("model_backend_api_key")
    @classmethod
    def _backend_key(cls, v: str | None) -> str | None:
        if v is not None and (not v or not v.isprintable()):
            raise ValueError("MODEL_BACKEND_API_KEY must be printable characters (or unset)")
        return v

    @field_validator("api_key")
    @classmethod
    def _key(cls, v: str | None) -> str | None:
        if v is not None and len(v) < MIN_API_KEY_LEN:
            raise ValueError(f"API_KEY must be at least {MIN_API_KEY_LEN} characters (or unset)")
        return v

    @field_validator("smooth_windows")
    @classmethod
    def _odd(cls, v: int) -> int:
        if v % 2 == 0:
            raise ValueError("GATEWAY_SMOOTH_WINDOWS must be odd")
        return v

    @model_validator(mode="after")
    def _sessions_dir(self) -> "GatewaySettings":
        if self.sessions_dir.exists() and not self.sessions_dir.is_dir():
            raise ValueError(f"SESSIONS_DIR {self.sessions_dir} exists and is not a directory")
        return self

    def stream_limits(self) -> StreamLimits:
        return StreamLimits(self.stream_max_streams, self.stream_idle_timeout_s,
                            self.stream_max_pending_windows, self.stream_max_chunk_rows)

    def check_bind(self, host: str) -> None:
        """Refuse to listen beyond loopback without an API key."""
        if self.api_key is None and not is_loopback(host):
            raise UnsafeSettings(f"refusing to bind {host} without API_KEY; set API_KEY "
                                 "(>= 16 characters) or bind 127.0.0.1")
