"""The one resampler: chunked input gives bitwise the output of the whole, and it is resample_poly's filter."""

import numpy as np
import pytest
from scipy.signal import resample_poly

from tcnvae.data.resample import StreamResampler, resample_ratio, resample_signals


@pytest.mark.parametrize("src", [20.0, 50.0, 52.0, 128.0, 200.0, 100.0])
def test_chunks_of_any_size_give_the_same_bits_as_the_whole(src: float) -> None:
    rng = np.random.default_rng(int(src))
    x = rng.normal(size=(777, 4)) + 9.8
    whole = resample_signals(x, src, 100.0)
    r = StreamResampler(src, 100.0, 4)
    parts, i = [], 0
    while i < len(x):
        k = int(rng.integers(1, 60))
        parts.append(r.push(x[i:i + k]))
        i += k
    parts.append(r.flush())
    assert np.array_equal(np.concatenate(parts), whole)
    assert r.n_out == len(whole)


@pytest.mark.parametrize("src", [20.0, 50.0, 52.0, 128.0])
def test_it_is_resample_poly_with_edge_padding(src: float) -> None:
    x = np.random.default_rng(1).normal(size=(500, 3))
    up, down = resample_ratio(src, 100.0)
    ref = resample_poly(x, up, down, axis=0, padtype="edge").astype(np.float32)
    np.testing.assert_allclose(resample_signals(x, src, 100.0), ref, atol=1e-6)


def test_outputs_come_as_soon_as_their_filter_support_is_known() -> None:
    r = StreamResampler(50.0, 100.0, 1)
    first = r.push(np.ones((30, 1)))
    assert 0 < len(first) < 60  # the filter looks ahead: the newest samples wait for more
    assert len(first) + len(r.flush()) == 60
    with pytest.raises(ValueError, match="after flush"):
        r.push(np.ones((1, 1)))
