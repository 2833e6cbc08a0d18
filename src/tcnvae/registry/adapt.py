"""A release adapted to a new wearer: BatchNorm statistics from their unlabelled windows (AdaBN).

The result is a run directory (the same files `tcnvae train` writes), so `tcnvae release RUN`
turns it into a derived release with its own version, card and checksums, and `tcnvae export`
folds the new statistics into the deployed graph like any others. Written to a temporary folder
beside `out` and renamed into place, so a failure leaves nothing behind.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import numpy as np

from tcnvae.registry.release import ADAPTATION, RUN_WEIGHTS
from tcnvae.registry.store import RUN_FILES, SAMPLES, RegistryError, Release


def write_adapted_run(release: Release, windows: np.ndarray, out: Path, sources: list[str]) -> Path:
    """Adapt `release` on raw canonical windows [N, WINDOW, 9] and write the run directory `out`."""
    import torch  # the training extra: adapting changes weights, serving never does

    from tcnvae.model.adabn import adapt_batch_norm
    from tcnvae.model.checkpoint import save_model

    out = Path(out)
    if out.exists():
        raise RegistryError(f"{out}: already exists; choose a new --out (runs are never overwritten)")
    model = release.load_model(full=True)
    adapted = adapt_batch_norm(model, torch.from_numpy(release.normalizer().apply(windows)))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}."))
    try:
        for rel in (*RUN_FILES, *SAMPLES):
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(release.path / rel, tmp / rel)
        note = {"adapted_from": release.ref, "method": "AdaBN (BatchNorm running statistics re-estimated)",
                "n_windows": int(len(windows)), "recordings": sources,
                "note": "eval_metrics.json is the source release's, measured before adaptation"}
        (tmp / ADAPTATION).write_text(json.dumps(note, indent=2) + "\n")
        save_model(tmp / RUN_WEIGHTS, adapted, {"adapted_from": release.ref})
        tmp.rename(out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out
