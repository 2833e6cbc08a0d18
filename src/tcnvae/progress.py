"""Throttled progress for long library steps: a log line at most every `every` seconds.

Library code never prints (STYLE.md rule 5); it logs. A run whose output goes to a file or a
CI log has no progress bar, so each long loop (parsing files, windowing, training steps)
reports through a Ticker: one line when the step starts and then one every 30 s with the
share done, the rate and the time left.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

PROGRESS_EVERY_S = 30.0
_IMPORTED = time.perf_counter()


def seconds_since_start() -> float:
    """Seconds since this process started (Linux /proc; since this module's import elsewhere)."""
    try:
        ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return uptime - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return time.perf_counter() - _IMPORTED


def eta_text(seconds: float) -> str:
    """'1h02m', '3m05s', '12s' for a number of seconds (a dash when unknown)."""
    if not seconds == seconds or seconds < 0 or seconds == float("inf"):
        return "-"
    s = int(round(seconds))
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


class Ticker:
    """Log `what` with done/total, items per second and ETA, at most every `every` seconds."""

    def __init__(self, log: logging.Logger, what: str, total: int, unit: str = "items",
                 every: float = PROGRESS_EVERY_S) -> None:
        self.log, self.what, self.total, self.unit, self.every = log, what, max(int(total), 0), unit, every
        self.t0 = self.last = time.perf_counter()
        # One item (e.g. the one-file folder `analyze` reads) is no progress worth a line on stderr.
        self.log.log(logging.INFO if self.total > 1 else logging.DEBUG, "%s: %d %s", what, self.total, unit)

    def tick(self, done: int) -> None:
        """Report progress when `every` seconds passed since the last line."""
        now = time.perf_counter()
        if now - self.last < self.every:
            return
        self.last = now
        rate = done / max(now - self.t0, 1e-9)
        share = 100.0 * done / self.total if self.total else 100.0
        left = (self.total - done) / rate if rate > 0 else float("nan")
        self.log.info("%s: %d/%d %s (%.0f%%), %.0f %s/s, ETA %s", self.what, done, self.total, self.unit,
                      share, rate, self.unit, eta_text(left))
