"""Named model sizes. `seed` is the v0.1.0 architecture, kept for compatibility; `deep`
trades width for depth: its receptive field covers the whole 1 s window; `deep_bn_micro` adds
BatchNorm and micro-motion inputs, and `deep_bn_micro_lags`, the default, micro-motion over
several lags (see docs/training.md, "Model presets")."""

from __future__ import annotations

from tcnvae.errors import one_of
from tcnvae.model.vae import ModelConfig

# Five levels, dilations 1..16: receptive field 125 samples, fewer MACs than `seed`.
_DEEP = {"channels": (64, 64, 96, 128, 128), "kernel_size": 3, "decoder_channels": (128, 64)}
# `deep` with BatchNorm after each conv (folded into the conv at export) instead of weight norm,
# and light dropout: converges in a few epochs and generalizes better to unseen subjects
# (BENCHMARKS.md, "Training recipe ablation").
_DEEP_BN = {**_DEEP, "batch_norm": True, "dropout": 0.05}

PRESETS: dict[str, dict] = {
    # The seed system's encoder: [64, 128, 256], kernel 3, receptive field 29 samples.
    "seed": {"channels": (64, 128, 256), "kernel_size": 3, "decoder_channels": (256, 128, 64)},
    "deep": _DEEP,
    "deep_bn": _DEEP_BN,
    # `deep_bn` reading, beside each channel, its sample-to-sample change magnified 10x and 100x
    # and clipped (model/micro_motion.py): the tremor that separates standing from sitting.
    "deep_bn_micro": {**_DEEP_BN, "micro_gains": (10.0, 100.0)},
    # `deep_bn_micro` with changes over 4 and 16 samples too (40 and 160 ms): slower sway beside
    # the tremor; +0.6 point validation macro-F1 on HAPT-6, sitting / standing +2 (BENCHMARKS.md).
    "deep_bn_micro_lags": {**_DEEP_BN, "micro_gains": (10.0, 100.0), "micro_lags": (1, 4, 16)},
    # For tests and the tiny quickstart: seconds per epoch.
    "tiny": {"channels": (16, 32, 32), "kernel_size": 3, "decoder_channels": (32, 16)},
}


def preset_has_batch_norm(name: str) -> bool:
    """Whether the preset's convolutions carry BatchNorm, which AdaBN (model/adabn.py) re-estimates."""
    return bool(PRESETS[name].get("batch_norm"))


def preset_config(name: str, **overrides) -> ModelConfig:
    if name not in PRESETS:
        raise ValueError(f"unknown model preset {name!r}; choose from {one_of(sorted(PRESETS))}")
    return ModelConfig(**{**PRESETS[name], **overrides})
