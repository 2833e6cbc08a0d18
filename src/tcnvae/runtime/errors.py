"""Errors raised by the inference runtime; each subclasses TcnvaeError so the CLI prints one line."""

from __future__ import annotations

from tcnvae.errors import TcnvaeError


class EngineError(TcnvaeError):
    """The engine cannot be built or failed its own start-up checks (names the file or backend)."""


class BackendUnavailable(EngineError):
    """A backend's runtime library or compiled artifact is not installed on this machine."""


class Overloaded(TcnvaeError):
    """The request queue is full; the caller should retry after `retry_after_s`."""

    def __init__(self, message: str, retry_after_s: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class InferenceTimeout(TcnvaeError):
    """A request waited longer than its deadline for the engine."""


class ShuttingDown(TcnvaeError):
    """The engine is draining and accepts no new work."""
