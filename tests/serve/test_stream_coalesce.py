"""The window coalescer in front of the real stub model: windows of streams that ask while a
call is in flight share the next call, each stream gets exactly its own rows back, and a
refused input closes only the stream that sent it."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from tcnvae.analysis.outputs import check_outputs, concat_outputs
from tcnvae.analysis.stub import stub_outputs
from tcnvae.serve.stream import protocol as p
from tcnvae.serve.stream.coalesce import WindowCoalescer
from tcnvae.serve.stream.session import Answered


class StubModel:
    """The deterministic stub, asynchronously, refusing any window whose first value is 99."""

    def __init__(self) -> None:
        self.sizes: list[int] = []

    async def answer(self, x: np.ndarray) -> Answered:
        self.sizes.append(len(x))
        await asyncio.sleep(0.01)  # a model call takes a while: others arrive meanwhile
        if (x[:, 0, 0] == 99).any():
            raise p.StreamError(p.BAD_SAMPLES, "window beyond the limits")
        return Answered(concat_outputs([check_outputs(stub_outputs(x), len(x))], (), "stub"), "disabled")


def windows(seed: int, n: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, 100, 9)).astype(np.float32)


def test_windows_asked_meanwhile_share_one_call_and_get_their_own_rows() -> None:
    model = StubModel()
    coalescer = WindowCoalescer(model, max_batch=8)
    xs = [windows(i, n=1 + i % 2) for i in range(10)]

    async def scenario() -> list[Answered]:
        first = asyncio.create_task(coalescer.answer(xs[0]))
        await asyncio.sleep(0.001)  # its call is in flight when the others ask
        return [await first] + await asyncio.gather(*(coalescer.answer(x) for x in xs[1:]))

    answers = asyncio.run(scenario())
    assert model.sizes[0] == 1 and sum(model.sizes) == sum(len(x) for x in xs)  # the first alone, at once
    assert max(model.sizes) <= 8 and len(model.sizes) < len(xs)
    for x, a in zip(xs, answers):  # a batched row may differ from the row alone by an ulp (BLAS kernels by size)
        assert a.reason == "disabled" and a.outputs.source == "stub"
        np.testing.assert_allclose(a.outputs.motif_scores, stub_outputs(x)["motif_scores"], rtol=1e-5, atol=1e-7)


def test_a_refused_window_closes_only_its_own_stream() -> None:
    model = StubModel()
    coalescer = WindowCoalescer(model, max_batch=32)
    bad = windows(1)
    bad[0, 0, 0] = 99
    xs = [windows(0), windows(2), bad, windows(3)]

    async def scenario() -> list:
        return await asyncio.gather(*(coalescer.answer(x) for x in xs), return_exceptions=True)

    got = asyncio.run(scenario())
    assert isinstance(got[2], p.StreamError) and got[2].code == p.BAD_SAMPLES
    for x, a in zip(xs[:2] + xs[3:], got[:2] + got[3:]):
        assert isinstance(a, Answered)
        np.testing.assert_allclose(a.outputs.latent, stub_outputs(x)["latent"], rtol=1e-5, atol=1e-7)


def test_other_failures_reach_every_stream_in_the_call() -> None:
    class Broken(StubModel):
        async def answer(self, x: np.ndarray) -> Answered:
            await asyncio.sleep(0)
            raise p.StreamError(p.TRY_AGAIN, "the model cannot keep up")

    coalescer = WindowCoalescer(Broken())

    async def scenario() -> list:
        return await asyncio.gather(*(coalescer.answer(windows(i)) for i in range(3)), return_exceptions=True)

    assert all(isinstance(e, p.StreamError) and e.code == p.TRY_AGAIN for e in asyncio.run(scenario()))


@pytest.mark.parametrize("n", [0, 1])
def test_model_outputs_rows(n: int) -> None:
    out = concat_outputs([check_outputs(stub_outputs(windows(5, 3)), 3)], (), "stub")
    part = out.rows(n, n + 2)
    assert len(part) == 2 and part.activity_probs is None
    np.testing.assert_array_equal(part.latent, out.latent[n:n + 2])
