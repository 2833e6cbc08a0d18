"""`tcnvae analyze` without a server: the in-process runtime Engine over one recording file."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np

from tcnvae.analysis.artifacts import write_analysis
from tcnvae.analysis.pipeline import AnalysisConfig, analyze_recording
from tcnvae.analysis.recording_io import RecordingMeta, load_recording_file
from tcnvae.data.recording import Recording
from tcnvae.registry.store import Registry
from tcnvae.runtime.engine import Engine

log = logging.getLogger(__name__)


def open_engine(model_ref: str, models_dir: Path, backend: str = "onnx", device: str = "cpu",
                adapt: np.ndarray | None = None) -> Engine:
    """A verified release from the registry, loaded into the runtime Engine (`device`: torch backend;
    `adapt`: raw windows of the wearer to re-estimate BatchNorm statistics on, torch backend)."""
    release = Registry(models_dir).open(model_ref)
    return Engine.from_release(release, backend=backend, device=device, adapt=adapt)


def read_recording(path: Path, meta: RecordingMeta | None = None) -> Recording:
    """The recording file (CSV or JSON) as a canonical recording; AnalysisInputError if unusable."""
    return load_recording_file(Path(path), meta)


def analyze_file(recording: Recording, engine: Engine, out_dir: Path, config: AnalysisConfig,
                 on_start: Callable[[int], None] | None = None,
                 progress: Callable[[int], None] | None = None,
                 adaptation: dict | None = None) -> tuple[dict, dict[str, Path]]:
    """Analyse a recording (see read_recording) and write results.json, ethogram.png and
    report.html into out_dir. `on_start(n_windows)` and `progress(n_done)` drive a progress bar;
    `adaptation` (how the engine was adapted to this wearer) is recorded in results.json.
    """
    model = engine.info.ref + (" (BatchNorm adapted to this recording)" if adaptation else "")
    results = analyze_recording(recording, engine.run, config, labels=tuple(engine.labels),
                                source="model", model=model, on_start=on_start,
                                progress=progress)
    if adaptation:
        results["adaptation"] = adaptation
    if engine.info.motifs:  # what each motif looks like, from the release's motifs.json
        results["motif_info"] = [{k: m.get(k) for k in ("id", "name", "description", "dominant_activities")}
                                 for m in engine.info.motifs]
    paths = write_analysis(results, Path(out_dir), report=True)
    log.info("analysed %s: %d windows -> %s", recording.name, results["n_windows"], out_dir)
    return results, paths
