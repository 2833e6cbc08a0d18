"""Time warp and mixup, the recipe variants against memorising subjects: what each does to a
window or a loss, checked against an independent computation, and a real training with both."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from tcnvae.train.augment import augment, time_warp
from tcnvae.train.config import ConfigError, build_config
from tcnvae.train.loop import Trainer
from tcnvae.train.losses import total_loss
from tcnvae.train.mixup import Mix, mix_batch
from tcnvae.train.prepare import prepare
from tests.support import TINY_TRAINING


def test_time_warp_keeps_the_ends_and_only_reorders_time_smoothly() -> None:
    ramp = np.tile(np.arange(100, dtype=np.float32)[None, :, None], (32, 1, 9))  # x(t) = t: output = the clock
    warped = time_warp(ramp, np.random.default_rng(0), 0.2)
    assert warped.shape == ramp.shape and warped.dtype == np.float32
    assert np.allclose(warped[:, 0], 0) and np.allclose(warped[:, -1], 99, atol=1e-4)
    step = np.diff(warped[:, :, 0], axis=1)
    assert (step > 0).all()  # monotone: no sample reversed or invented
    assert step.min() > 0.8 * (1 - 0.2) / (1 + 0.2) and step.max() < 1.2 * (1 + 0.2) / (1 - 0.2)
    assert np.abs(warped - ramp).max() > 1.0  # it does move samples
    assert np.allclose(warped, warped[:, :, :1])  # every channel on the same clock
    assert np.allclose(time_warp(ramp, np.random.default_rng(0), 0.0), ramp, atol=1e-4)


def test_augment_warps_only_when_asked() -> None:
    x = np.random.default_rng(1).normal(size=(8, 100, 9)).astype(np.float32)
    std = np.ones(9)
    plain = augment(x, np.random.default_rng(2), 0.0, 0.0, 0.0, std)
    assert np.array_equal(plain, x)
    assert not np.allclose(augment(x, np.random.default_rng(2), 0.0, 0.0, 0.0, std, warp=0.2), x)


def test_mix_batch_blends_each_window_with_its_partner() -> None:
    torch.manual_seed(0)
    x = torch.randn(16, 100, 9)
    mixed, mix = mix_batch(x, 0.2)
    assert 0.5 <= mix.lam <= 1.0 and sorted(mix.partner.tolist()) == list(range(16))
    assert torch.allclose(mixed, mix.lam * x + (1 - mix.lam) * x[mix.partner])


def test_mixed_loss_scores_both_labels() -> None:
    torch.manual_seed(0)
    b, k, n_dom = 12, 5, 3
    out = {"recon": torch.randn(4, 100, 9), "mu": torch.randn(b, 8), "logvar": torch.randn(b, 8) * 0.1,
           "logits": torch.randn(b, k), "domain_logits": torch.randn(b, n_dom)}
    x = torch.randn(4, 100, 9)
    y = torch.randint(0, k, (b,))
    y[3] = -1  # one unlabelled window: it has no activity label to score
    d = torch.randint(0, n_dom, (b,))
    partner = torch.randperm(b)
    weights = {"recon": 0.0, "beta": 0.0, "cls": 1.0, "domain": 0.0}
    loss, _ = total_loss(out, x, y, None, weights, 0.0, None, 0.05, Mix(partner, 0.7))
    own, other = y >= 0, y[partner] >= 0
    expected = (0.7 * F.cross_entropy(out["logits"][own], y[own])
                + 0.3 * F.cross_entropy(out["logits"][other], y[partner][other]))
    assert torch.allclose(loss, expected)
    weights = {"recon": 0.0, "beta": 0.0, "cls": 0.0, "domain": 1.0}
    loss, _ = total_loss(out, x, y, d, weights, 0.0, None, 0.05, Mix(partner, 0.7))
    expected = 0.7 * F.cross_entropy(out["domain_logits"], d) + 0.3 * F.cross_entropy(out["domain_logits"], d[partner])
    assert torch.allclose(loss, expected)


def test_config_refuses_out_of_range_values() -> None:
    with pytest.raises(ConfigError, match="aug_time_warp"):
        build_config(aug_time_warp=1.0)
    with pytest.raises(ConfigError, match="mixup"):
        build_config(mixup=-0.1)
    with pytest.raises(ConfigError, match="mixup and pseudo_weight"):
        build_config(mixup=0.2, pseudo_weight=1.0)


def test_training_with_time_warp_and_mixup_learns_held_out_subjects(tmp_path) -> None:
    torch.set_num_threads(1)
    cfg = build_config(**{**TINY_TRAINING, "aug_time_warp": 0.2, "mixup": 0.2})
    data = prepare(cfg)
    best_val_f1 = Trainer(cfg, data, tmp_path).fit()
    rows = (tmp_path / "history.jsonl").read_text().splitlines()
    assert len(rows) == TINY_TRAINING["epochs"]
    assert best_val_f1 > 1.5 / len(data.label_names), best_val_f1  # a validation subject, not trained on
