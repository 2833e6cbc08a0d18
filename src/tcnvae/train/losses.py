"""TCN-VAE losses. The KL term is per window (summed over latent dims with free bits), then
averaged over the batch, on the same footing as the mean-reduced reconstruction: the seed
summed KL over the batch, which swamped reconstruction and collapsed the posterior.

Unlabelled windows (y = -1) count in reconstruction, KL and the domain loss; the
classification loss is masked to the labelled windows of the batch (zero when there are none).
With mixup, the activity and domain losses score each blend against both of its windows' labels."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from tcnvae.train.mixup import Mix


def kl_per_dim(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(q(z|x) || N(0, I)) per window and dim, (B, D)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)


def kl_free_bits(mu: torch.Tensor, logvar: torch.Tensor, free_bits: float) -> torch.Tensor:
    """Batch-mean KL per dim, floored at `free_bits` nats so no dim is pushed to collapse."""
    per_dim = kl_per_dim(mu, logvar).mean(dim=0)
    return torch.clamp(per_dim, min=free_bits).sum()


def beta_at(epoch_progress: float, beta: float, warmup_epochs: int) -> float:
    """Linear beta annealing from 0 to `beta` over the first warmup epochs."""
    if warmup_epochs <= 0:
        return beta
    return beta * min(1.0, epoch_progress / warmup_epochs)


def active_units(mu: torch.Tensor, threshold: float = 1e-2) -> int:
    """Latent dims whose posterior mean varies across windows (Burda et al. 2016)."""
    return int((mu.var(dim=0) > threshold).sum())


def _activity_ce(logits: torch.Tensor, y: torch.Tensor, class_weight: torch.Tensor | None,
                 label_smoothing: float) -> torch.Tensor:
    labelled = y >= 0
    if not bool(labelled.any()):  # an all-unlabelled batch (or a motif-only model): no activity signal
        return logits.new_zeros(())
    return F.cross_entropy(logits[labelled], y[labelled], weight=class_weight, label_smoothing=label_smoothing)


def total_loss(out: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor, d: torch.Tensor | None,
               weights: dict[str, float], label_smoothing: float, class_weight: torch.Tensor | None,
               free_bits: float, mix: Mix | None = None) -> tuple[torch.Tensor, dict[str, float]]:
    recon = F.mse_loss(out["recon"], x)
    kl = kl_free_bits(out["mu"], out["logvar"], free_bits)
    ce = _activity_ce(out["logits"], y, class_weight, label_smoothing)
    if mix is not None:
        ce = mix.lam * ce + (1 - mix.lam) * _activity_ce(out["logits"], y[mix.partner], class_weight, label_smoothing)
    loss = weights["recon"] * recon + weights["beta"] * kl + weights["cls"] * ce
    parts = {"recon": recon.item(), "kl": kl.item(), "ce": ce.item()}
    if d is not None:
        dom = F.cross_entropy(out["domain_logits"], d)
        if mix is not None:
            dom = mix.lam * dom + (1 - mix.lam) * F.cross_entropy(out["domain_logits"], d[mix.partner])
        loss = loss + weights["domain"] * dom
        parts["domain"] = dom.item()
    parts["loss"] = loss.item()
    return loss, parts


def pseudo_threshold(threshold: float | None, label_smoothing: float, n_classes: int) -> float:
    """The confidence a pseudo-label needs: `threshold` as given, or (None) 0.95 of the ceiling
    1 - eps + eps/K that label-smoothed training pushes a model's top probability towards; an
    absolute 0.95 above that ceiling lets only a few windows through."""
    if threshold is not None:
        return threshold
    return 0.95 * (1.0 - label_smoothing + label_smoothing / max(n_classes, 1))


def pseudo_label_loss(student_logits: torch.Tensor, teacher_probs: torch.Tensor,
                      threshold: float) -> tuple[torch.Tensor, float]:
    """(cross-entropy to the teacher's argmax where its confidence >= threshold, averaged over all
    unlabelled windows of the batch; the share of windows that passed). FixMatch's masking: an
    unsure teacher teaches nothing, so early, wrong guesses do not reinforce themselves."""
    conf, target = teacher_probs.max(dim=1)
    mask = (conf >= threshold).float()
    if len(mask) == 0:
        return student_logits.new_zeros(()), 0.0
    ce = F.cross_entropy(student_logits, target, reduction="none")
    return (ce * mask).mean(), float(mask.mean())
