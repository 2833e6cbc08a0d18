"""Sidecar settings: defaults <- TCNVAE_SERVE_* environment <- CLI flags, validated and frozen.

Unsafe values are refused rather than clamped: a non-loopback bind without API keys, short
keys, unbounded batches, bodies or queues, and waits long enough to hide a stall.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from tcnvae.contract import N_CHANNELS
from tcnvae.serve.http.network import is_loopback
from tcnvae.serve.stream.limits import StreamLimits

MIN_KEY_LENGTH = 16


def usable_cores() -> int:
    """Cores this process may run on (a taskset or cgroup cpuset counts, not the machine's total)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class ServeSettings(BaseSettings):
    """Everything `tcnvae serve` can be told; see docs/serving.md, "Settings", for the table."""

    model_config = SettingsConfigDict(env_prefix="TCNVAE_SERVE_", extra="forbid", frozen=True,
                                      populate_by_name=True)

    ref: str = "tcn_encoder@champion"
    models: Path | None = None  # None: user-models/ plus the shipped models/ (registry.store)
    host: str = "127.0.0.1"
    port: int = Field(9000, ge=1, le=65535)
    backend: Literal["onnx", "torch", "hailo"] = "onnx"
    threads: int = Field(1, ge=1, le=64, description="intra-op threads of the backend")
    device: str = Field("cpu", pattern=r"^(auto|cpu|cuda(:\d+)?|mps)$",
                        description="where the torch backend runs: auto, cpu, cuda, cuda:N or mps")
    workers: int = Field(1, ge=1, le=32, description="server processes sharing the port, one engine each; "
                         "'auto': one per usable core")
    precision: Literal["fp32", "int8"] = Field("fp32", description="int8 serves export/encoder_int8.onnx "
                                               "when export/parity.json holds its bounds (onnx backend)")
    max_batch: int = Field(32, ge=1, le=1024, description="windows per micro-batch; 1 turns batching off")
    batch_wait_ms: float = Field(2.0, ge=0.0, le=20.0, description="longest wait to fill a micro-batch")
    inference_thread: bool | None = Field(None, description="run the engine in a worker thread (False: on "
                                          "the event-loop thread, no hand-off); None: a thread only when "
                                          "there is one worker (see engine_thread)")
    gc_freeze: bool = Field(True, description="gc.freeze() after start-up: the loaded model's objects "
                            "leave the collector's scans (a full collection took 340 ms here)")
    max_queue: int = Field(256, ge=1, le=10_000, description="requests waiting before 503")
    max_inflight: int | None = Field(None, ge=1, le=10_000, description="requests one worker holds at once "
                                     "(read, queued or running) before it answers 503 on arrival; None: no limit")
    max_windows: int = Field(256, ge=1, le=4096, description="windows per /infer/batch or /v2 request")
    max_body_bytes: int = Field(8 << 20, ge=64 << 10, le=256 << 20)
    request_timeout_s: float = Field(10.0, gt=0.0, le=300.0)
    header_timeout_s: float = Field(10.0, gt=0.0, le=600.0, description="deadline for a request's headers")
    body_timeout_s: float = Field(30.0, gt=0.0, le=600.0, description="deadline for a request's body")
    drain_timeout_s: float = Field(30.0, ge=0.0, le=600.0)
    check_limits: bool = True
    limits: tuple[float, ...] | None = Field(None, description="per-channel |value| limits in SI units; "
                                             "default contract.channel_limits()")
    api_keys: Annotated[tuple[str, ...], NoDecode] = Field(
        (), validation_alias=AliasChoices("api_keys", "TCNVAE_API_KEYS"))
    allow_remote_without_keys: bool = False
    stream_max_streams: int = Field(256, ge=1, le=10_000, description="open /v2/stream streams; more -> close 1013")
    stream_idle_timeout_s: float = Field(30.0, gt=0.0, le=3600.0, description="a stream silent this long is closed")
    stream_max_pending_windows: int = Field(64, ge=1, le=4096, description="windows queued per stream "
                                            "before its reader pauses (backpressure)")
    stream_max_chunk_rows: int = Field(10_000, ge=1, le=1_000_000, description="rows per stream chunk")

    @field_validator("workers", mode="before")
    @classmethod
    def _auto_workers(cls, v: object) -> object:
        if isinstance(v, str) and v.strip().lower() == "auto":
            return min(32, usable_cores())
        if isinstance(v, str) and not v.strip().isdigit():
            raise ValueError(f"must be a number of processes from 1 to 32 or 'auto', got {v!r}")
        return v

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_keys(cls, v: object) -> object:
        if isinstance(v, str):
            return tuple(k.strip() for k in v.split(",") if k.strip())
        return v

    @field_validator("api_keys")
    @classmethod
    def _strong_keys(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        short = [i for i, k in enumerate(v) if len(k) < MIN_KEY_LENGTH or not k.isprintable()]
        if short:
            raise ValueError(f"API key(s) at position {short} are shorter than {MIN_KEY_LENGTH} "
                             "printable characters")
        return v

    @field_validator("limits")
    @classmethod
    def _nine_limits(cls, v: tuple[float, ...] | None) -> tuple[float, ...] | None:
        if v is not None and (len(v) != N_CHANNELS or any(not 0 < x < float("inf") for x in v)):
            raise ValueError(f"limits must be {N_CHANNELS} positive finite numbers")
        return v

    @model_validator(mode="after")
    def _safe_exposure(self) -> "ServeSettings":
        if not is_loopback(self.host) and not self.api_keys and not self.allow_remote_without_keys:
            raise ValueError(f"refusing to listen on {self.host} without API keys; set --api-key / "
                             "TCNVAE_API_KEYS, or TCNVAE_SERVE_ALLOW_REMOTE_WITHOUT_KEYS=1 behind a proxy")
        return self

    @property
    def engine_thread(self) -> bool:
        """Whether the engine runs in its own thread. Unset: with one worker yes (the loop keeps
        parsing while a batch runs); with several no — each worker then has a core and the
        thread hand-offs were the c=8 tail (BENCHMARKS.md, "where the c=8 tail comes from")."""
        return self.inference_thread if self.inference_thread is not None else self.workers == 1

    def stream_limits(self) -> StreamLimits:
        return StreamLimits(self.stream_max_streams, self.stream_idle_timeout_s,
                            self.stream_max_pending_windows, self.stream_max_chunk_rows)

    @property
    def config_version(self) -> str:
        """A short digest of the effective settings (keys excluded), to spot configuration drift."""
        blob = self.model_dump_json(exclude={"api_keys"}).encode()
        return hashlib.sha256(blob).hexdigest()[:12]
