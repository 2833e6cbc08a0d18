"""The analysis of a live stream: samples in as they arrive, windows, results and segments out.

No I/O and no model here: `push` turns raw rows (declared rate, channels and units) into the
windows that became complete, the caller obtains their `ModelOutputs` (sidecar engine,
gateway backend, stub) and hands them to `accept`, which returns the per-window timeline
entries and the ethogram segments that closed. The steps are the incremental cores offline
analysis runs through too — `data.resample.StreamResampler`, `analysis.windows.WindowCutter`,
`analysis.ethogram.EthogramTracker` — so a stream and `tcnvae analyze` of the same samples
agree by construction, whatever the chunking.

The stream's clock: sample k of the stream is at `t0 + k / rate_hz`, where t0 is the first
chunk's `t` (0 without one). A later chunk's `t` is checked against that clock: earlier than
the samples already received is "time going backwards", later by more than the longest gap
the recordings interpolate is "samples missing" — both refused, never silently realigned.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from tcnvae.analysis.errors import AnalysisInputError
from tcnvae.analysis.ethogram import UNCERTAIN, EthogramTracker
from tcnvae.analysis.outputs import ModelOutputs
from tcnvae.analysis.pipeline import MOTIF_THRESHOLD, AnalysisConfig
from tcnvae.analysis.recording_io import RecordingMeta
from tcnvae.analysis.timeline import activity_names, build_timeline, top_motif_names
from tcnvae.analysis.windows import AnalysisWindows, WindowCutter
from tcnvae.contract import CHANNELS, N_CHANNELS, RATE_HZ, SENSOR_GROUPS, UNITS, channel_limits, validate_windows
from tcnvae.contract import ContractError
from tcnvae.data.recording import DEFAULT_MAX_GAP_S
from tcnvae.data.resample import StreamResampler
from tcnvae.data.sources.csv_folder import UNIT_SCALE

KINDS = ("activity", "motifs")
_GROUP_OF = {ch: g for g, chans in SENSOR_GROUPS.items() for ch in chans}


@dataclass(frozen=True)
class StreamSpec:
    """What a stream declares when it opens: its rate, which channels each row holds, units."""

    rate_hz: float
    channels: tuple[str, ...]
    units: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        RecordingMeta(self.rate_hz, dict(self.units))  # the same rate and unit rules as uploads
        bad = [c for c in self.channels if c not in CHANNELS]
        if not self.channels or bad:
            raise AnalysisInputError(f"channels must be a non-empty subset of {list(CHANNELS)}, "
                                     f"got unknown {bad}" if bad else "channels must not be empty")
        if len(set(self.channels)) != len(self.channels):
            raise AnalysisInputError(f"channels must not repeat, got {list(self.channels)}")

    def scale(self) -> np.ndarray:
        """Per declared channel, the factor to SI (m/s^2, rad/s, uT)."""
        defaults = {g: next(iter(u)) for g, u in UNIT_SCALE.items()}
        return np.array([UNIT_SCALE[_GROUP_OF[c]][self.units.get(_GROUP_OF[c], defaults[_GROUP_OF[c]])]
                         for c in self.channels])


class LiveAnalysis:
    def __init__(self, spec: StreamSpec, config: AnalysisConfig) -> None:
        self.spec, self.config = spec, config
        self._cols = [CHANNELS.index(c) for c in spec.channels]
        contiguous = self._cols == list(range(self._cols[0], self._cols[0] + len(self._cols)))
        self._where = slice(self._cols[0], self._cols[-1] + 1) if contiguous else self._cols  # a slice is faster
        self._scale = spec.scale()
        self._limits = channel_limits()
        self._col_limits = self._limits[self._cols]
        self.present = np.zeros(N_CHANNELS, dtype=bool)
        self.present[self._cols] = True
        self.resampler = StreamResampler(spec.rate_hz, RATE_HZ, N_CHANNELS)
        self.cutter = WindowCutter(config.stride)
        self.trackers = {kind: EthogramTracker(
            threshold=config.confidence_threshold if kind == "activity" else MOTIF_THRESHOLD,
            smooth_width=config.smooth_windows, min_dwell_s=config.min_dwell_s) for kind in KINDS}
        self.t0: float | None = None
        self.n_samples = 0  # raw rows received
        self.n_windows = 0  # windows whose outputs were accepted
        self._last_t_end = 0.0

    # -- samples in ------------------------------------------------------------------------
    def push(self, rows: np.ndarray, t: float | None = None) -> AnalysisWindows:
        """Raw rows [n, len(channels)] in the declared units -> windows that became complete."""
        rows = np.asarray(rows, dtype=np.float64)
        if rows.ndim != 2 or rows.shape[1] != len(self._cols):
            raise AnalysisInputError(f"each row must have {len(self._cols)} values "
                                     f"({','.join(self.spec.channels)}), got shape {list(rows.shape)}")
        self._check_clock(t, len(rows))
        scaled = rows * self._scale  # float64, as the CSV reader converts
        # One comparison in the common case (NaN fails it too); the full check names the value.
        if not (np.abs(scaled) <= self._col_limits).all():
            self._check_values(self._canonical(scaled))
        x = self._canonical(scaled)
        self.n_samples += len(rows)
        return self._windows(self.resampler.push(x))

    def _canonical(self, scaled: np.ndarray) -> np.ndarray:
        """Declared columns [n, len(channels)] -> the nine canonical columns, zeros elsewhere."""
        x = np.zeros((len(scaled), N_CHANNELS))
        x[:, self._where] = scaled
        return x

    def finish(self) -> AnalysisWindows:
        """The stream has ended: the resampler's tail and the windows it completes."""
        return self._windows(self.resampler.flush())

    def _windows(self, y: np.ndarray) -> AnalysisWindows:
        if not self.resampler.passthrough:  # at 100 Hz the absent columns are still the zeros put there
            y[:, ~self.present] = 0.0
        windows = self.cutter.push(y)
        try:
            validate_windows(windows.x, self._limits) if len(windows) else None
        except ContractError as exc:  # resampling overshoot past a limit: refused, as offline
            raise AnalysisInputError(f"window at t={self.clock(int(windows.starts[0]) / RATE_HZ):.2f} s: "
                                     f"{exc}") from None
        return windows

    def _check_clock(self, t: float | None, n: int) -> None:
        if t is None:
            self.t0 = 0.0 if self.t0 is None else self.t0
            return
        if not isinstance(t, (int, float)) or isinstance(t, bool) or not math.isfinite(t):
            raise AnalysisInputError(f"t must be a finite number of seconds, got {t!r}")
        if self.t0 is None:
            self.t0 = float(t)
            return
        expected = self.t0 + self.n_samples / self.spec.rate_hz
        period = 1.0 / self.spec.rate_hz
        if t < expected - 0.5 * period:
            raise AnalysisInputError(
                f"time going backwards: chunk t={t:g} s, but the {self.n_samples} samples received "
                f"already reach t={expected:g} s at {self.spec.rate_hz:g} Hz")
        if t > expected + DEFAULT_MAX_GAP_S + 0.5 * period:
            raise AnalysisInputError(
                f"samples missing: chunk t={t:g} s, expected t={expected:g} s at {self.spec.rate_hz:g} Hz "
                f"(a stream may not skip more than {DEFAULT_MAX_GAP_S:g} s)")

    def _check_values(self, x: np.ndarray) -> None:
        finite = np.isfinite(x)
        over = np.abs(np.where(finite, x, 0.0)) > self._limits
        bad = ~finite | over
        if not bad.any():
            return
        i, c = (int(v) for v in np.argwhere(bad)[0])
        k, ch = self.n_samples + i, CHANNELS[c]
        where = f"sample {k} (t={self.clock(k / self.spec.rate_hz):.3f} s), channel {ch}"
        if not finite[i, c]:
            raise AnalysisInputError(f"{where}: not a finite number")
        raise AnalysisInputError(f"{where}: {x[i, c]:g} {UNITS[ch]} exceeds the physical limit "
                                 f"{float(self._limits[c]):g} {UNITS[ch]}")

    def clock(self, seconds: float) -> float:
        """A time since the first sample -> the stream's clock."""
        return (self.t0 or 0.0) + seconds

    # -- results out -----------------------------------------------------------------------
    def accept(self, windows: AnalysisWindows, outputs: ModelOutputs) -> tuple[list[dict], list[dict]]:
        """The model's outputs for `windows` (in stream order) -> (timeline entries, closed segments).

        Windows without an activity head's answer (the stub) count as "uncertain" activity."""
        timeline = build_timeline(windows, outputs)
        acts = activity_names(outputs)
        if acts is None:
            acts = ([UNCERTAIN] * len(windows), np.ones(len(windows)))
        segs = self._track("activity", acts, windows) + self._track("motifs", top_motif_names(outputs), windows)
        self.n_windows += len(windows)
        if len(windows):
            self._last_t_end = float(windows.t_end[-1])
        for entry in timeline:
            entry["t_start"], entry["t_end"] = self._shift(entry["t_start"]), self._shift(entry["t_end"])
        return timeline, segs

    def close(self) -> list[dict]:
        """No more outputs: the segments still open, closed."""
        out = []
        for kind in KINDS:
            out += [self._segment(kind, s) for s in self.trackers[kind].finish(self._last_t_end)]
        return out

    def _track(self, kind: str, named: tuple[list[str], np.ndarray], windows: AnalysisWindows) -> list[dict]:
        closed = self.trackers[kind].push(named[0], named[1], windows.t_start)
        return [self._segment(kind, s) for s in closed]

    def _segment(self, kind: str, seg: dict) -> dict:
        return {"kind": kind, **seg, "t_start": self._shift(seg["t_start"]), "t_end": self._shift(seg["t_end"])}

    def _shift(self, t: float) -> float:
        return round(self.clock(t), 6) if self.t0 else t
