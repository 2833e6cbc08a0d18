"""Dynamic micro-batching: concurrent requests share one backend call, in a worker thread.

Requests wait in a bounded queue (full -> Overloaded, which the server maps to 503 +
Retry-After). One collector task takes whatever is queued, up to `max_batch` windows, and
runs it in a single worker thread while the event loop keeps accepting requests; whatever
arrives meanwhile forms the next batch. With `inline=True` the batch runs on the event-loop
thread instead (no hand-off to a thread and back: two scheduler wake-ups fewer per batch,
which matters on a busy machine; one process per core then supplies the parallelism). The collector waits up to `max_wait_s` for more
only while other requests are known to be on their way (being read or parsed), so a lone
client never pays the wait; a request still arriving after `ARRIVAL_GRACE_S` is a slow client
and is not waited for, so it never delays the others. `max_batch=1` turns batching off.

`max_inflight` (off by default) bounds the requests this process holds at once — being read,
queued or in the running batch — and refuses the next one as it arrives, before its body is
read or parsed (Overloaded -> 503 + Retry-After). With N connections and throughput R a server
that accepts everything answers in N / R on average (Little's law), however it schedules; a
bound turns the excess into an immediate "retry shortly" instead of a long wait for everyone.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np

from tcnvae.runtime.errors import InferenceTimeout, Overloaded, ShuttingDown

log = logging.getLogger(__name__)
RunFn = Callable[[np.ndarray], dict[str, np.ndarray]]
ARRIVAL_GRACE_S = 0.05  # a body on loopback or a LAN arrives well within this


@dataclass
class _Job:
    x: np.ndarray
    future: asyncio.Future
    abandoned: bool = False


@dataclass
class BatchStats:
    """Counters for /status."""

    requests: int = 0
    windows: int = 0
    batches: int = 0
    rejected: int = 0
    timeouts: int = 0
    batch_sizes: deque = field(default_factory=lambda: deque(maxlen=1024))


class MicroBatcher:
    """Queue + collector + one worker thread around `run(x [N,100,9]) -> {name: [N,...]}`."""

    def __init__(self, run: RunFn, max_batch: int = 32, max_wait_s: float = 0.002,
                 max_queue: int = 256, on_batch: Callable[[int], None] | None = None,
                 inline: bool = False, max_inflight: int | None = None) -> None:
        self._run, self.max_batch, self.max_wait_s = run, max(1, max_batch), max(0.0, max_wait_s)
        self.max_queue, self._on_batch, self.max_inflight = max_queue, on_batch, max_inflight
        self._pending: deque[_Job] = deque()
        self._wakeup = asyncio.Event()
        # inline: run on the event-loop thread (no hand-off); else in one worker thread
        self._executor = None if inline else ThreadPoolExecutor(max_workers=1, thread_name_prefix="tcnvae-engine")
        self._task: asyncio.Task | None = None
        self._closing = False
        self._arrivals: dict[object, float] = {}  # requests being read -> when they started
        self._busy = 0  # windows in the batch that is running now
        self._busy_requests = 0  # requests in that batch
        self.stats = BatchStats()

    @property
    def queue_depth(self) -> int:
        """Requests waiting for the worker (not counting the batch that is running)."""
        return len(self._pending)

    @property
    def running(self) -> int:
        return self._busy

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._collect(), name="tcnvae-batcher")

    @property
    def inflight(self) -> int:
        """Requests held now: being read or parsed, queued, or in the running batch."""
        return len(self._arrivals) + len(self._pending) + self._busy_requests

    @contextmanager
    def arriving(self) -> Iterator[None]:
        """Wrap reading and parsing a request so the collector knows one is on its way.

        Raises Overloaded before anything is read when max_inflight requests are already held."""
        if self.max_inflight is not None and self.inflight >= self.max_inflight:
            self.stats.rejected += 1
            raise Overloaded(f"{self.inflight} requests in progress (limit {self.max_inflight}); retry shortly")
        token = object()
        self._arrivals[token] = time.monotonic()
        try:
            yield
        finally:
            del self._arrivals[token]

    def _expecting(self) -> bool:
        """Is a request on its way that started arriving recently (not a slow client)?"""
        if not self._arrivals:
            return False
        horizon = time.monotonic() - ARRIVAL_GRACE_S
        return any(started >= horizon for started in self._arrivals.values())

    async def submit(self, x: np.ndarray, timeout_s: float | None = None) -> dict[str, np.ndarray]:
        """Queue validated raw windows [n,100,9]; return their outputs (row slices of the batch)."""
        if self._closing:
            raise ShuttingDown("the server is shutting down")
        if len(self._pending) >= self.max_queue:
            self.stats.rejected += 1
            raise Overloaded(f"request queue full ({self.max_queue} waiting); retry shortly")
        job = _Job(x, asyncio.get_running_loop().create_future())
        self._pending.append(job)
        self._wakeup.set()
        try:
            return await asyncio.wait_for(asyncio.shield(job.future), timeout_s)
        except TimeoutError:
            job.abandoned = True
            self.stats.timeouts += 1
            raise InferenceTimeout(f"no result within {timeout_s:g} s") from None

    async def close(self, timeout_s: float = 30.0) -> None:
        """Stop accepting work, finish every queued request, then stop the worker thread."""
        self._closing = True
        self._wakeup.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout_s)
            except TimeoutError:
                log.warning("drain did not finish within %.1f s", timeout_s)
                self._task.cancel()
        if self._executor is not None:
            self._executor.shutdown(wait=True)

    def _take(self, capacity: int, batch: list[_Job]) -> int:
        """Move queued jobs into batch while they fit; the first job always goes. Returns windows taken."""
        taken = 0
        while self._pending:
            job = self._pending[0]
            if job.abandoned:
                self._pending.popleft()
                continue
            if batch and taken + len(job.x) > capacity:
                break
            batch.append(self._pending.popleft())
            taken += len(job.x)
        return taken

    async def _collect(self) -> None:
        while True:
            if not self._pending:
                if self._closing:
                    return
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            batch: list[_Job] = []
            n = self._take(self.max_batch, batch)
            if n < self.max_batch and self.max_wait_s > 0 and self._expecting():
                n += await self._wait_for_more(batch, n)
            if batch:
                await self._execute(batch, n)

    async def _wait_for_more(self, batch: list[_Job], n: int) -> int:
        """Top the batch up for at most max_wait_s while requests are still being parsed."""
        loop = asyncio.get_running_loop()
        deadline, added = loop.time() + self.max_wait_s, 0
        while n + added < self.max_batch and self._expecting():
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            self._wakeup.clear()
            try:
                await asyncio.wait_for(self._wakeup.wait(), remaining)
            except TimeoutError:
                break
            added += self._take(self.max_batch - n - added, batch) if self._pending else 0
        return added

    async def _execute(self, batch: list[_Job], n: int) -> None:
        x = batch[0].x if len(batch) == 1 else np.concatenate([j.x for j in batch])
        self._busy, self._busy_requests = n, len(batch)
        start = time.perf_counter()
        try:
            if self._executor is None:
                out = self._run(x)
            else:
                out = await asyncio.get_running_loop().run_in_executor(self._executor, self._run, x)
        except Exception as e:  # backend failures go to every waiting caller, the loop lives on
            log.exception("batch of %d windows failed", n)
            for job in batch:
                if not job.future.done():
                    job.future.set_exception(e)
            return
        finally:
            self._busy = self._busy_requests = 0
        log.debug("batch of %d requests, %d windows in %.2f ms", len(batch), n,
                  (time.perf_counter() - start) * 1e3)
        self._record(len(batch), n)
        offset = 0
        for job in batch:
            k = len(job.x)
            if not job.future.done():
                job.future.set_result({name: v[offset:offset + k] for name, v in out.items()})
            offset += k

    def _record(self, requests: int, windows: int) -> None:
        self.stats.requests += requests
        self.stats.windows += windows
        self.stats.batches += 1
        self.stats.batch_sizes.append(windows)
        if self._on_batch is not None:
            self._on_batch(windows)
