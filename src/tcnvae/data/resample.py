"""Anti-aliased polyphase resampling that works on a whole array or on a live stream alike.

`StreamResampler` is the one implementation: `push(chunk)` returns every output sample whose
filter support is already known, `flush()` the rest once the input has ended. A whole
recording is one push and a flush (`resample_signals`), so a recording and the same samples
streamed in chunks of any size give bitwise-identical output: each output sample is the same
sum, taken in the same order, over the same inputs.

The filter is scipy's `resample_poly` design (a Kaiser-windowed sinc of `10 * max(up, down)`
taps each side, beta 5); its edges are extended with the first and last sample (upfirdn's
`edge` mode), which is causal at the start and needs only the last sample at the end, and
like `line` padding it keeps a gravity offset from drooping at the edges.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from tcnvae.contract import RATE_HZ

KAISER_BETA = 5.0
MAX_DENOMINATOR = 1000


def resample_ratio(src_hz: float, dst_hz: float = RATE_HZ) -> tuple[int, int]:
    """(up, down) integers with up/down == dst/src (to 1e-3 relative)."""
    frac = Fraction(dst_hz / src_hz).limit_denominator(MAX_DENOMINATOR)
    return frac.numerator, frac.denominator


def output_length(n_in: int, up: int, down: int) -> int:
    """Samples out for n_in samples in: ceil(n_in * up / down), as resample_poly."""
    return -(-n_in * up // down)


class StreamResampler:
    """Resample [T, C] float samples from src_hz to dst_hz, chunk by chunk, without seams."""

    def __init__(self, src_hz: float, dst_hz: float, n_channels: int) -> None:
        self.up, self.down = resample_ratio(src_hz, dst_hz)
        self.n_channels = n_channels
        self.n_in = 0  # real input samples received
        self.n_out = 0  # output samples emitted
        self._flushed = False
        if self.passthrough:
            return
        from scipy.signal import firwin, upfirdn  # only when a rate differs: keeps scipy out of servers

        self._upfirdn = upfirdn
        max_rate = max(self.up, self.down)
        half_len = 10 * max_rate
        h = firwin(2 * half_len + 1, 1.0 / max_rate, window=("kaiser", KAISER_BETA)) * self.up
        pre_pad = self.down - half_len % self.down
        self._offset = (half_len + pre_pad) // self.down  # outputs the filter delay removes
        h = np.concatenate([np.zeros(pre_pad), h])
        self._taps = -(-len(h) // self.up)
        self._h = np.concatenate([h, np.zeros(self._taps * self.up - len(h))])
        # The left edge extension sits at negative input indices, down to a multiple of `down`.
        self._lead = max(0, -self._first_needed(0))
        self._buf = np.empty((0, n_channels))
        self._buf_start = -self._lead

    @property
    def passthrough(self) -> bool:
        return self.up == self.down

    def _last_input(self, o: int) -> int:
        """Highest input index output sample o depends on."""
        return (o + self._offset) * self.down // self.up

    def push(self, x: np.ndarray) -> np.ndarray:
        """Append input samples [n, C]; return the newly complete output samples (float32)."""
        if self._flushed:
            raise ValueError("push after flush: the stream has ended")
        x = np.asarray(x, dtype=np.float64).reshape(-1, self.n_channels)
        if self.passthrough:
            self.n_in += len(x)
            self.n_out += len(x)
            return x.astype(np.float32)
        if not len(x):
            return np.empty((0, self.n_channels), np.float32)
        if self.n_in == 0:
            x = np.concatenate([np.repeat(x[:1], self._lead, axis=0), x])
        self._buf = np.concatenate([self._buf, x])
        self.n_in += len(x) - (self._lead if self.n_in == 0 else 0)
        return self._emit(available=self.n_in)

    def flush(self) -> np.ndarray:
        """The input has ended: extend it with its last sample and return the remaining outputs."""
        if self._flushed:
            return np.empty((0, self.n_channels), np.float32)
        self._flushed = True
        if self.passthrough or self.n_in == 0:
            return np.empty((0, self.n_channels), np.float32)
        total = output_length(self.n_in, self.up, self.down)
        need = self._last_input(total - 1) + 1 - (self._buf_start + len(self._buf))
        if need > 0:
            self._buf = np.concatenate([self._buf, np.repeat(self._buf[-1:], need, axis=0)])
        return self._emit(available=self._buf_start + len(self._buf), limit=total)

    def _emit(self, available: int, limit: int | None = None) -> np.ndarray:
        """Compute outputs n_out.. whose inputs are all below index `available`."""
        # Largest o with _last_input(o) <= available - 1.
        end = (available * self.up - 1) // self.down - self._offset + 1
        end = max(self.n_out, end if limit is None else min(end, limit))
        if end == self.n_out:
            return np.empty((0, self.n_channels), np.float32)
        # upfirdn sums each output oldest input first, from zero: the same operations whatever
        # the segment, as long as the segment starts on a multiple of `down` (phase-aligned)
        # and holds the output's whole support. Outputs with partial support are dropped.
        first = self._first_needed(self.n_out)
        seg = self._buf[first - self._buf_start: available - self._buf_start]
        y = self._upfirdn(self._h, seg, self.up, self.down, axis=0)
        base = first * self.up // self.down - self._offset  # output index of y[0]
        out = y[self.n_out - base: end - base]
        self.n_out = end
        drop = self._first_needed(end) - self._buf_start
        if drop > 0:
            self._buf = self._buf[drop:]
            self._buf_start += drop
        return out.astype(np.float32)

    def _first_needed(self, o: int) -> int:
        """First input index of output o's support, rounded down to a multiple of `down`."""
        return (self._last_input(o) - self._taps + 1) // self.down * self.down


def resample_signals(x: np.ndarray, src_hz: float, dst_hz: float = RATE_HZ) -> np.ndarray:
    """A whole [T, C] recording resampled (one push and a flush of StreamResampler); float32."""
    x = np.asarray(x)
    resampler = StreamResampler(src_hz, dst_hz, x.shape[1])
    return np.concatenate([resampler.push(x), resampler.flush()])
