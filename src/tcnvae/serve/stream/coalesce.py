"""Windows of every open stream, answered by one model call at a time.

Each stream's worker asks for its own few windows (usually one: a 100 Hz stream completes a
window every stride, 0.5 s). Asked one by one, 200 streams make 400 model calls a second,
each paying the per-call costs (input check, a batcher job and its future, the thread
hand-off, the output check) for one window. The coalescer keeps one call in flight: windows
that arrive while it runs wait for the next call, which takes all of them (up to
`max_batch`). An idle server answers a lone window at once; a busy one answers in bigger
batches, so the per-call cost shrinks exactly when it matters, and no timer adds latency.

A call refused for the input (a stream's window beyond the model's limits, `BAD_SAMPLES`)
is retried stream by stream, so only the stream that sent it is closed; any other failure
reaches every stream in the call, as it would have one by one.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque

import numpy as np

from tcnvae.serve.stream import protocol as p
from tcnvae.serve.stream.session import Answered, StreamModel

log = logging.getLogger(__name__)


class WindowCoalescer:
    """A StreamModel shared by all streams of one server, in front of the real one."""

    def __init__(self, model: StreamModel, max_batch: int = 32) -> None:
        self.model, self.max_batch = model, max(1, max_batch)
        self._pending: deque[tuple[np.ndarray, asyncio.Future]] = deque()
        self._task: asyncio.Task | None = None
        self.calls = 0  # model calls made (for tests and logs)

    async def answer(self, x: np.ndarray) -> Answered:
        future = asyncio.get_running_loop().create_future()
        self._pending.append((x, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain(), name="tcnvae-stream-coalescer")
        return await future

    async def _drain(self) -> None:
        while self._pending:
            jobs, n = [], 0
            while self._pending and (not jobs or n + len(self._pending[0][0]) <= self.max_batch):
                x, future = self._pending.popleft()
                if not future.done():  # a stream that went away meanwhile is skipped
                    jobs.append((x, future))
                    n += len(x)
            if jobs:
                await self._call(jobs)

    async def _call(self, jobs: list[tuple[np.ndarray, asyncio.Future]]) -> None:
        x = jobs[0][0] if len(jobs) == 1 else np.concatenate([j[0] for j in jobs])
        self.calls += 1
        try:
            answered = await self.model.answer(x)
        except p.StreamError as exc:
            if exc.code == p.BAD_SAMPLES and len(jobs) > 1:
                for job in jobs:  # find the stream whose window was refused; the others go on
                    await self._call([job])
                return
            _fail(jobs, exc)
            return
        except Exception as exc:  # noqa: BLE001 - every waiting stream hears of it
            _fail(jobs, exc)
            return
        offset = 0
        for x_job, future in jobs:
            k = len(x_job)
            if not future.done():
                future.set_result(Answered(answered.outputs.rows(offset, offset + k), answered.reason))
            offset += k


def _fail(jobs: list[tuple[np.ndarray, asyncio.Future]], exc: BaseException) -> None:
    for _, future in jobs:
        if not future.done():
            future.set_exception(exc)
