"""The analysis of one recording: windows -> model outputs -> timeline, ethogram, summaries.

Split in two so that the model call can happen anywhere: `prepare` cuts the windows, the
caller obtains `ModelOutputs` (in-process Engine, sidecar over HTTP, stub), and
`summarize` turns them into the results document. `analyze_recording` does all three
with a synchronous predictor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from tcnvae.analysis.errors import AnalysisInputError
from tcnvae.analysis.ethogram import build_ethogram, time_per_label
from tcnvae.analysis.hmm import decode as hmm_decode
from tcnvae.analysis.outputs import ModelOutputs, Predictor, concat_outputs, run_batches
from tcnvae.analysis.shift_average import average_outputs, plan_shifts, signed_offsets
from tcnvae.analysis.summary import rank_motifs, time_per_motif
from tcnvae.analysis.timeline import activity_names, build_timeline, top_motif_names
from tcnvae.analysis.windows import AnalysisWindows, cut_windows
from tcnvae.contract import CHANNELS, RATE_HZ, STRIDE, WINDOW, ContractError, channel_limits, validate_windows
from tcnvae.data.recording import Recording

RESULTS_VERSION = 1
MOTIF_THRESHOLD = 0.0  # the top motif is never 'uncertain'
TEMPORAL_MODELS = ("majority", "hmm")


@dataclass(frozen=True)
class AnalysisConfig:
    stride: int = STRIDE  # samples between window starts
    smooth_windows: int = 5  # odd width of the majority filter, in windows
    min_dwell_s: float = 2.0  # shorter ethogram segments are absorbed by a neighbour
    confidence_threshold: float = 0.5  # below it a window's activity is "uncertain"
    batch_size: int = 64  # windows per model call
    temporal: str = "majority"  # how window outputs become activity segments: "majority" or "hmm"
    mean_dwell_s: float = 10.0  # the HMM's expected bout length (its one parameter)
    # Average each window's activity probabilities with the same window shifted by these many
    # samples either way (host-side, offline only: it needs samples after the window).
    average_shifts: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if not 1 <= self.stride <= WINDOW:
            raise AnalysisInputError(f"stride must be between 1 and {WINDOW} samples, got {self.stride}")
        if self.smooth_windows < 1 or self.smooth_windows % 2 == 0:
            raise AnalysisInputError(f"smooth_windows must be odd and >= 1, got {self.smooth_windows}")
        if not 0.0 <= self.min_dwell_s <= 3600.0:
            raise AnalysisInputError(f"min_dwell_s must be in [0, 3600], got {self.min_dwell_s}")
        if not 0.0 <= self.confidence_threshold <= 1.0:
            raise AnalysisInputError(f"confidence_threshold must be in [0, 1], got {self.confidence_threshold}")
        if not 1 <= self.batch_size <= 4096:
            raise AnalysisInputError(f"batch_size must be in [1, 4096], got {self.batch_size}")
        if self.temporal not in TEMPORAL_MODELS:
            raise AnalysisInputError(f"temporal must be one of {', '.join(TEMPORAL_MODELS)}, got {self.temporal!r}")
        if not 0.5 <= self.mean_dwell_s <= 3600.0:
            raise AnalysisInputError(f"mean_dwell_s must be in [0.5, 3600], got {self.mean_dwell_s}")
        object.__setattr__(self, "average_shifts", tuple(int(d) for d in self.average_shifts))
        signed_offsets(self.average_shifts)


def prepare(recording: Recording, config: AnalysisConfig) -> AnalysisWindows:
    return cut_windows(recording.signals, config.stride)


def checked_windows(recording: Recording, config: AnalysisConfig) -> AnalysisWindows:
    """Windows that meet the contract; the error names the time and channel of the bad sample."""
    windows = prepare(recording, config)
    try:
        validate_windows(windows.x, channel_limits())
    except ContractError as exc:
        bad = (np.abs(recording.signals) > channel_limits()) | ~np.isfinite(recording.signals)
        row, col = np.argwhere(bad)[0] if bad.any() else (0, 0)
        raise AnalysisInputError(f"sample at t={row / RATE_HZ:.2f} s (row {row} at {RATE_HZ:g} Hz), "
                                 f"channel {CHANNELS[col]}: {exc}") from None
    return windows


def summarize(recording: Recording, windows: AnalysisWindows, outputs: ModelOutputs,
              config: AnalysisConfig) -> dict:
    """The results document (JSON-ready) of one analysed recording."""
    t0, t1 = windows.t_start, windows.t_end
    ethogram = {"activity": None, "motifs": None}
    per_activity = None
    acts = activity_names(outputs)
    if acts is not None:
        ethogram["activity"] = activity_ethogram(outputs, windows, config)
        per_activity = time_per_label(ethogram["activity"])
    top, score = top_motif_names(outputs)
    ethogram["motifs"] = build_ethogram(
        top, score, t0, t1, threshold=MOTIF_THRESHOLD,
        smooth_width=config.smooth_windows, min_dwell_s=config.min_dwell_s)
    return {
        "version": RESULTS_VERSION,
        "source": outputs.source,
        "model": outputs.model,
        "recording": _recording_info(recording),
        "config": asdict(config),
        "labels": list(outputs.labels),
        "n_windows": len(windows),
        "motifs": rank_motifs(outputs.motif_scores),
        "time_per_activity": per_activity,
        "time_per_motif": time_per_motif(outputs.motif_scores, t0, t1),
        "ethogram": ethogram,
        "timeline": build_timeline(windows, outputs),
    }


def activity_ethogram(outputs: ModelOutputs, windows: AnalysisWindows, config: AnalysisConfig) -> list[dict]:
    """Activity segments: per-window argmax under a majority filter, or the HMM's Viterbi path
    (with its posteriors as confidences; no majority filter on top of it)."""
    if config.temporal == "hmm":
        names, confidence = hmm_decode(outputs.activity_probs, outputs.labels,
                                       stride_s=config.stride / RATE_HZ, mean_dwell_s=config.mean_dwell_s)
        width = 1
    else:
        names, confidence = activity_names(outputs)
        width = config.smooth_windows
    return build_ethogram(names, confidence, windows.t_start, windows.t_end,
                          threshold=config.confidence_threshold, smooth_width=width,
                          min_dwell_s=config.min_dwell_s)


def _recording_info(recording: Recording) -> dict:
    return {
        "name": recording.name,
        "samples": len(recording),
        "rate_hz": RATE_HZ,
        "duration_s": round(recording.duration_s, 3),
        "channels_present": [c for c, p in zip(CHANNELS, recording.present.tolist()) if p],
        "warnings": list(recording.warnings),  # unit/plausibility warnings (tcnvae.data.plausibility)
    }


def analyze_recording(recording: Recording, predict: Predictor, config: AnalysisConfig,
                      *, labels: tuple[str, ...] = (), source: str = "model", model: str | None = None,
                      on_start: Callable[[int], None] | None = None,
                      progress: Callable[[int], None] | None = None) -> dict:
    """Everything with a synchronous predictor (e.g. the in-process runtime Engine).
    `on_start(n)`: the number of windows the model will run (more than the analysis windows with
    `average_shifts`); `progress(n_done)` after each batch."""
    windows = checked_windows(recording, config)
    outputs = window_outputs(recording.signals, windows, predict, config, labels=labels, source=source,
                             model=model, on_start=on_start, progress=progress)
    return summarize(recording, windows, outputs, config)


def window_outputs(signals: np.ndarray, windows: AnalysisWindows, predict: Predictor, config: AnalysisConfig,
                   *, labels: tuple[str, ...] = (), source: str = "model", model: str | None = None,
                   on_start: Callable[[int], None] | None = None,
                   progress: Callable[[int], None] | None = None) -> ModelOutputs:
    """One row of outputs per analysis window of `signals`: the predictor run in batches, with
    `config.average_shifts` over the shifted copies too and their probabilities averaged."""
    plan = plan_shifts(signals, windows, config.average_shifts) if config.average_shifts else None
    run = windows if plan is None else plan.windows
    if on_start is not None:
        on_start(len(run))
    outputs = concat_outputs(run_batches(predict, run.x, config.batch_size, progress), labels, source, model)
    return outputs if plan is None else average_outputs(outputs, plan)
