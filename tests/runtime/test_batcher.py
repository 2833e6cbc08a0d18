"""MicroBatcher: concurrent requests share backend calls, results stay per request, limits hold."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest

from tcnvae.runtime import InferenceTimeout, MicroBatcher, Overloaded, ShuttingDown


seen_threads: set[int] = set()


def fake_run(x: np.ndarray) -> dict[str, np.ndarray]:
    seen_threads.add(threading.get_ident())
    return {"latent": x.mean(axis=(1, 2))[:, None] * np.ones((1, 4), np.float32)}


def _windows(n: int) -> list[np.ndarray]:
    return [np.full((k % 3 + 1, 100, 9), float(k), np.float32) for k in range(n)]


@pytest.mark.parametrize("max_batch, inline", [(1, False), (8, False), (8, True)])
def test_results_stay_with_their_request(max_batch, inline):
    seen_threads.clear()

    async def main():
        b = MicroBatcher(fake_run, max_batch=max_batch, max_wait_s=0.002, inline=inline)
        b.start()
        jobs = _windows(20)
        outs = await asyncio.gather(*(b.submit(x, 5.0) for x in jobs))
        await b.close()
        return jobs, outs, b.stats

    jobs, outs, stats = asyncio.run(main())
    for x, out in zip(jobs, outs):
        assert out["latent"].shape == (len(x), 4) and (out["latent"] == x[0, 0, 0]).all()
    assert stats.requests == 20 and stats.windows == sum(len(x) for x in jobs)
    if inline:  # the engine ran on the loop's own thread
        assert threading.main_thread().ident in seen_threads and len(seen_threads) == 1
    if max_batch == 1:
        assert stats.batches == 20
    else:
        assert stats.batches < 20 and max(stats.batch_sizes) <= max_batch


async def _blocked(**limits) -> tuple[MicroBatcher, threading.Event, np.ndarray, asyncio.Future]:
    """A started batcher whose worker is blocked inside its first request until the gate opens."""
    gate = threading.Event()

    def slow(x):
        gate.wait(5)
        return fake_run(x)

    b = MicroBatcher(slow, max_batch=1, **limits)
    b.start()
    w = _windows(1)[0]
    first = asyncio.ensure_future(b.submit(w, 5.0))
    while b.running == 0:
        await asyncio.sleep(0.001)
    return b, gate, w, first


def test_queue_full_timeout_and_shutdown():
    async def main():
        b, gate, w, first = await _blocked(max_queue=2)
        with pytest.raises(InferenceTimeout):
            await b.submit(w, 0.01)  # abandoned, but it still holds a queue slot until skipped
        queued = asyncio.ensure_future(b.submit(w, 5.0))
        await asyncio.sleep(0)
        with pytest.raises(Overloaded):
            await b.submit(w, 5.0)
        gate.set()
        closing = asyncio.ensure_future(b.close(5.0))
        await asyncio.sleep(0)
        with pytest.raises(ShuttingDown):
            await b.submit(w, 5.0)
        await closing
        return await asyncio.gather(first, queued), b.stats

    results, stats = asyncio.run(main())
    assert len(results) == 2 and stats.requests == 2  # accepted requests finished during the drain
    assert stats.timeouts == 1 and stats.rejected == 1


def test_max_inflight_refuses_on_arrival_and_frees_the_slot_after():
    async def main():
        b, gate, _, first = await _blocked(max_inflight=2)
        with b.arriving():  # a second request being read: two held
            assert b.inflight == 2
            with pytest.raises(Overloaded, match="limit 2"):
                with b.arriving():
                    pass
        gate.set()
        await first
        with b.arriving():  # the finished request released its slot
            assert b.inflight == 1
        await b.close(5.0)
        return b.stats

    stats = asyncio.run(main())
    assert stats.rejected == 1 and stats.requests == 1
