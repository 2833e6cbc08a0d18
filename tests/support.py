"""Builders for test fixtures (kept out of conftest so scripts can reuse them)."""

from __future__ import annotations

from pathlib import Path

import torch

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"

# A real, short training on the Apple-Watch recordings that seglearn ships: subject-wise split,
# a tiny model, a subsample of the training windows. Seconds, not minutes, on 2 cores.
# Weight decay and augmentation are pinned, not left to TrainConfig's defaults: the session's
# release, export and INT8-parity fixtures are built from this model, and a change of default
# must not change it.
TINY_TRAINING = {"data": ("watch",), "preset": "tiny", "epochs": 4, "max_train_windows": 2500,
                 "val_subjects": 1, "batch_size": 64, "lr": 3e-3, "weight_decay": 1e-2, "patience": 4, "seed": 0,
                 "aug_scale": 0.1, "aug_rotate_deg": 10.0}


def make_run_dir(out: Path, **overrides) -> Path:
    """A complete run directory from a real short training (see TINY_TRAINING)."""
    from tcnvae.train.config import build_config
    from tcnvae.train.run import train_run

    torch.set_num_threads(2)
    train_run(build_config(**{**TINY_TRAINING, **overrides}), out, resume=False)
    return out


def make_registry(root: Path, run_dir: Path) -> Path:
    from tcnvae.registry.release import create_release
    from tcnvae.registry.store import Registry

    reg = Registry(root)
    create_release(reg, run_dir, name="tcn_encoder", version="1.0.0")
    reg.promote("tcn_encoder@v1.0.0", "champion")
    return root
