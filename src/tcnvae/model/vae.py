"""ModelConfig + TCNVAE: encoder, decoder, activity head, domain head behind gradient reversal.

`n_classes=0` is a motif-only model (trained without labels): no activity head, and the
deployable encoder answers latent + motif scores only.

Tensors enter and leave time-major, (B, T, C), as the serving contract has them; the
convolutions work channel-major, (B, C, T).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from tcnvae.contract import LATENT_DIM, N_CHANNELS, N_MOTIFS, WINDOW
from tcnvae.model.grl import GradientReversal
from tcnvae.model.micro_motion import MicroMotion
from tcnvae.model.motifs import MotifHead
from tcnvae.model.tcn import TemporalConvNet


@dataclass(frozen=True)
class ModelConfig:
    """Sizes of a TCN-VAE. The defaults are the seed system's v0.1.0 architecture."""

    in_channels: int = N_CHANNELS
    window: int = WINDOW
    channels: tuple[int, ...] = (64, 128, 256)
    kernel_size: int = 3
    dropout: float = 0.2
    latent_dim: int = LATENT_DIM
    decoder_channels: tuple[int, ...] = (256, 128, 64)
    n_classes: int = 6
    n_domains: int = 1
    n_motifs: int = N_MOTIFS
    seed_init: bool = True  # N(0, 0.01) conv weights as the seed; False: PyTorch's Kaiming default
    batch_norm: bool = False  # BatchNorm after each conv instead of weight norm (folded at export)
    micro_gains: tuple[float, ...] = ()  # magnified, clipped first differences as extra inputs (micro_motion.py)
    micro_lags: tuple[int, ...] = (1,)  # differences x[t] - x[t-lag] for these lags (micro_motion.py)
    label_names: tuple[str, ...] = field(default_factory=tuple)
    domain_names: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown model config keys: {sorted(unknown)}")
        tuples = {k: tuple(v) for k, v in d.items() if isinstance(v, list)}
        return cls(**{**d, **tuples})


class TCNVAE(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        c = config
        self.micro = MicroMotion(c.in_channels, c.micro_gains, c.micro_lags)
        self.encoder = TemporalConvNet(self.micro.out_channels, c.channels, c.kernel_size, c.dropout, c.seed_init, c.batch_norm)
        self.fc_mu = nn.Linear(c.channels[-1], c.latent_dim)
        self.fc_logvar = nn.Linear(c.channels[-1], c.latent_dim)
        self.fc_dec = nn.Linear(c.latent_dim, c.decoder_channels[0])
        self.decoder = TemporalConvNet(c.decoder_channels[0], c.decoder_channels, c.kernel_size, c.dropout, c.seed_init, c.batch_norm)
        # A linear 1x1 output: the seed ended the decoder in a ReLU block, which cannot
        # reproduce the negative half of z-scored signals.
        self.dec_out = nn.Conv1d(c.decoder_channels[-1], c.in_channels, 1)
        self.activity_head = nn.Linear(c.latent_dim, c.n_classes) if c.n_classes > 0 else None
        self.grl = GradientReversal()
        self.domain_head = nn.Sequential(
            nn.Linear(c.latent_dim, 64), nn.ReLU(), nn.Linear(64, max(c.n_domains, 1))
        )
        self.motifs = MotifHead(c.n_motifs, c.latent_dim)

    def features(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, C) -> (B, channels[-1])
        h = self.encoder(self.micro(x.transpose(1, 2)))  # (B, C', T)
        return h.mean(dim=2)  # global average pooling over time

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.features(x)
        return self.fc_mu(h), self.fc_logvar(h)

    def decode(self, z: torch.Tensor, length: int) -> torch.Tensor:  # (B, D) -> (B, T, C)
        h = self.fc_dec(z)[:, :, None].expand(-1, -1, length)  # repeat over time
        return self.dec_out(self.decoder(h.contiguous())).transpose(1, 2)

    def forward(self, x: torch.Tensor, recon_count: int | None = None) -> dict[str, torch.Tensor]:
        """All heads; `recon_count` decodes only the first windows of the batch (training speed)."""
        mu, logvar = self.encode(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
        return {
            "mu": mu,
            "logvar": logvar,
            "recon": self.decode(z[:recon_count], x.shape[1]),
            "logits": self.activity_head(mu) if self.activity_head is not None else mu[:, :0],
            "domain_logits": self.domain_head(self.grl(mu)),
        }


class DeployableEncoder(nn.Module):
    """What ships to the edge: normalized window -> latent, motif scores, activity probabilities
    (latent and motif scores only for a motif-only model)."""

    def __init__(self, model: TCNVAE) -> None:
        super().__init__()
        self.micro, self.encoder, self.fc_mu = model.micro, model.encoder, model.fc_mu
        self.activity_head, self.motifs = model.activity_head, model.motifs

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        h = self.encoder(self.micro(x.transpose(1, 2))).mean(dim=2)
        latent = self.fc_mu(h)
        if self.activity_head is None:
            return latent, self.motifs(latent)
        return latent, self.motifs(latent), F.softmax(self.activity_head(latent), dim=1)
