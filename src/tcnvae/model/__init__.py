"""The TCN-VAE model: config dataclass, modules, motif head, safetensors checkpoints."""

from tcnvae.model.checkpoint import load_model, save_model
from tcnvae.model.vae import TCNVAE, DeployableEncoder, ModelConfig

__all__ = ["TCNVAE", "DeployableEncoder", "ModelConfig", "load_model", "save_model"]
