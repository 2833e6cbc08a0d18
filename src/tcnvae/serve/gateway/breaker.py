"""A circuit breaker for the model sidecar: closed -> open -> half-open -> closed.

Closed: calls go through; `failures` consecutive failures open it. Open: no calls until
`cooldown_s` has passed, then it is half-open and lets ONE probe through: success closes it,
failure re-opens it for another cool-down. Single-threaded use on the event loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"
STATE_VALUES = {CLOSED: 0, HALF_OPEN: 1, OPEN: 2}


class CircuitBreaker:
    def __init__(self, failures: int, cooldown_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.threshold = failures
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._state = CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probe_in_flight = False
        self.opened_total = 0

    @property
    def state(self) -> str:
        if self._state == OPEN and self._clock() - self._opened_at >= self.cooldown_s:
            return HALF_OPEN
        return self._state

    def allow(self) -> bool:
        """May a call go to the backend now? In half-open only one probe at a time."""
        state = self.state
        if state == CLOSED:
            return True
        if state == HALF_OPEN and not self._probe_in_flight:
            self._state = HALF_OPEN
            self._probe_in_flight = True
            return True
        return False

    def record_success(self) -> None:
        self._state, self._failures, self._probe_in_flight = CLOSED, 0, False

    def record_failure(self) -> None:
        self._failures += 1
        if self._state == HALF_OPEN or self._failures >= self.threshold:
            if self._state != OPEN:
                self.opened_total += 1
            self._state, self._opened_at, self._probe_in_flight = OPEN, self._clock(), False

    def release_probe(self) -> None:
        """Forget an in-flight probe that ended without a verdict (e.g. a cancelled request)."""
        self._probe_in_flight = False

    def snapshot(self) -> dict:
        return {"state": self.state, "consecutive_failures": self._failures,
                "failure_threshold": self.threshold, "cooldown_s": self.cooldown_s,
                "opened_total": self.opened_total}
