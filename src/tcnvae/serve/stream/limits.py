"""Per-server stream limits and the count of open streams (one event loop, no locks needed)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StreamLimits:
    max_streams: int = 256  # open streams; one more is closed with 1013 (try again later)
    idle_timeout_s: float = 30.0  # no frame for this long -> closed with 4408
    max_pending_windows: int = 64  # windows waiting for the model before the reader pauses
    max_chunk_rows: int = 10_000  # rows per chunk; more -> closed with 1009


class StreamSlots:
    """How many streams are open, against the limit."""

    def __init__(self, limit: int) -> None:
        self.limit, self.active, self.opened_total = limit, 0, 0

    def acquire(self) -> bool:
        if self.active >= self.limit:
            return False
        self.active += 1
        self.opened_total += 1
        return True

    def release(self) -> None:
        self.active = max(0, self.active - 1)
