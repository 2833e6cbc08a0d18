"""TrainConfig: file -> defaults -> CLI flags -> one frozen dataclass, written next to the outputs."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

from tcnvae.errors import TcnvaeError, one_of


class ConfigError(TcnvaeError):
    """A training config file or flag is invalid (names the key)."""


@dataclass(frozen=True)
class TrainConfig:
    data: tuple[str, ...] = ("watch",)
    classes: tuple[str, ...] = ()  # keep only these labels (empty: all)
    preset: str = "deep_bn_micro_lags"
    stride: int = 50
    val_subjects: int | float = 0.15  # held-out TRAINING subjects for early stopping; 0: refit on all
    # After early stopping on the validation subjects, train a fresh model on every training subject
    # for the epochs the best checkpoint took (its schedule annealed over that budget); the
    # early-stopped model stays in selection/ of the run and is scored on the test subjects too.
    refit: bool = False
    test_split: str = "official"  # official | none: use a source's default test subjects or not
    test_subjects: tuple[str, ...] = ()  # held out for testing; overrides a source's default split
    # Keep the windows of unlabelled stretches (y = -1): they train the VAE (reconstruction, KL)
    # and the motifs, not the activity head. Without any label the model is motif-only.
    unlabelled: bool = False
    labelled_share: float = 0.5  # at least this share of each batch is labelled windows (when both kinds exist)
    pseudo_weight: float = 0.0  # > 0: the EMA model's confident answers on unlabelled windows train the head too
    # Teacher confidence from which an unlabelled window gets a pseudo-label. None (auto): 0.95 of
    # the highest confidence the label-smoothed targets reward, 1 - eps + eps/K (0.871 for 6 classes
    # at eps 0.1): an absolute 0.95 sits above that ceiling, and the pseudo-labels of the HAPT
    # semi-supervised benchmark then covered only 12-24 % of unlabelled windows (BENCHMARKS.md).
    pseudo_threshold: float | None = None
    epochs: int = 30
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 1e-4  # stronger decay (1e-2) underfit the HAPT ablation (BENCHMARKS.md)
    warmup_frac: float = 0.1
    grad_clip: float = 1.0
    label_smoothing: float = 0.1
    class_weights: bool = False
    recon_weight: float = 1.0
    recon_fraction: float = 0.25  # decode this share of each batch: the decoder costs more than the encoder
    beta: float = 0.01  # KL weight after annealing
    beta_warmup_epochs: int = 5
    free_bits: float = 0.05  # nats per latent dim
    cls_weight: float = 1.0
    domain_weight: float = 0.1
    ema_decay: float = 0.99  # a ~100-step horizon: short CPU runs must not validate a lagging average
    # Epochs without a better validation score before stopping. 30 = the whole default schedule:
    # the best validated epoch is still the one kept, but a noisy validation score (few validation
    # subjects, rare classes) no longer ends a run before its learning rate anneals. Patience 8
    # stopped 15 of 20 recipe-suite runs early, 0.005 lower on average (BENCHMARKS.md, "Default
    # patience 8 → 30").
    patience: int = 30
    augment: bool = True
    # Rotations up to 15 deg and +-20 % amplitude: on HAPT validation subjects they beat 5 deg /
    # +-10 % (BENCHMARKS.md): a model that cannot lean on the exact tilt learns the motion.
    aug_scale: float = 0.2
    aug_jitter: float = 0.02
    aug_rotate_deg: float = 15.0
    aug_time_warp: float = 0.0  # > 0: a smooth time warp, local speed within 1 +- this (0.2: +-20 %)
    mixup: float = 0.0  # > 0: mixup of the windows of each batch, lam ~ Beta(mixup, mixup) (0.2 is usual)
    seed: int = 0
    threads: int = 0  # 0: torch default
    max_train_windows: int = 0  # 0: all; subsample for quick runs
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def build_config(file: str | Path | None = None, **flags) -> TrainConfig:
    """Defaults, overridden by a JSON file, overridden by non-None CLI flags. Unknown keys are errors."""
    values: dict = {}
    if file is not None:
        try:
            values.update(json.loads(Path(file).read_text()))
        except (OSError, json.JSONDecodeError) as e:
            raise ConfigError(f"{file}: cannot read training config ({e})") from e
    values.update({k: v for k, v in flags.items() if v is not None})
    names = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(values) - names)
    if unknown:
        where = f"{file}: " if file is not None else ""
        raise ConfigError(f"{where}unknown training config key(s) {one_of(unknown, 'and')}; "
                          f"known keys: {one_of(sorted(names))}")
    for key in ("data", "classes", "test_subjects"):
        if isinstance(values.get(key), str):
            values[key] = tuple(s for s in values[key].split(",") if s)
        elif key in values:
            values[key] = tuple(values[key])
    if isinstance(values.get("test_split"), str) and values["test_split"] not in ("official", "none"):
        raise ConfigError(f"test_split must be 'official' or 'none', got {values['test_split']!r}")
    values = {k: tuple(str(s).strip() for s in v) if k == "test_subjects" else v for k, v in values.items()}
    cfg = TrainConfig(**values)
    if not 0.0 < cfg.labelled_share <= 1.0:
        raise ConfigError(f"labelled_share must be in (0, 1], got {cfg.labelled_share}")
    if cfg.pseudo_threshold is not None and not 0.0 < cfg.pseudo_threshold <= 1.0:
        raise ConfigError(f"pseudo_threshold must be in (0, 1] or null (auto), got {cfg.pseudo_threshold}")
    if cfg.epochs < 1 or cfg.batch_size < 2:
        raise ConfigError(f"epochs must be >= 1 and batch_size >= 2 (got {cfg.epochs}, {cfg.batch_size})")
    _check_values(cfg)
    return cfg


def _check_values(cfg: TrainConfig) -> None:
    """Values a run would only trip over after loading the data: refuse them first."""
    from tcnvae.model.presets import PRESETS

    if cfg.preset not in PRESETS:
        raise ConfigError(f"preset: unknown model preset {cfg.preset!r}; choose from {sorted(PRESETS)}")
    if not cfg.data:
        raise ConfigError("data: at least one dataset name is needed")
    if cfg.test_split not in ("official", "none"):
        raise ConfigError(f"test_split: {cfg.test_split!r} is not one of 'official', 'none'")
    if cfg.stride < 1:
        raise ConfigError(f"stride must be >= 1 (got {cfg.stride})")
    if not 0.0 <= cfg.aug_time_warp < 1.0:
        raise ConfigError(f"aug_time_warp must be in [0, 1) (a relative speed change), got {cfg.aug_time_warp}")
    if cfg.mixup < 0:
        raise ConfigError(f"mixup must be >= 0 (the Beta parameter; 0: off), got {cfg.mixup}")
    if cfg.mixup > 0 and cfg.pseudo_weight > 0:
        raise ConfigError("mixup and pseudo_weight cannot be combined: pseudo-labels are scored on unmixed "
                          "windows; set one of them to 0")
    if cfg.val_subjects < 0:
        raise ConfigError(f"val_subjects must be >= 0 (got {cfg.val_subjects})")
    if cfg.refit and cfg.val_subjects == 0:
        raise ConfigError("refit needs validation subjects to choose its epoch budget: val_subjects is 0 "
                          "(which already trains on all subjects for a fixed budget); give a share or a count")
