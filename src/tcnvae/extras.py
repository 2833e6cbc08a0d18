"""Which optional extra provides which module, and the one-line error when one is missing.

The core install is the edge runtime (serve, gateway, `analyze --backend onnx`, registry
verify/pack/unpack) and never needs PyTorch. Training, evaluation and export import their
libraries lazily; when such an import fails, `MissingExtra` names the extra to install.
"""

from __future__ import annotations

import importlib.util

from tcnvae.errors import TcnvaeError

# top-level module -> the extra in pyproject.toml that installs it
EXTRA_OF: dict[str, str] = {"torch": "train", "safetensors": "train", "sklearn": "train", "onnx": "train",
                            "onnxscript": "train", "seglearn": "train"}


class MissingExtra(TcnvaeError):
    """A feature needs a module from an optional extra that is not installed."""

    def __init__(self, module: str, extra: str, purpose: str = "this command") -> None:
        self.module, self.extra = module, extra
        super().__init__(f"{purpose} needs {module}, which the edge install leaves out: "
                         f"pip install 'tcnvae[{extra}]'")


def extra_for(error: ModuleNotFoundError) -> MissingExtra | None:
    """The MissingExtra behind an ImportError of an extra's module, else None (a real bug)."""
    root = (error.name or "").split(".")[0]
    return MissingExtra(root, EXTRA_OF[root]) if root in EXTRA_OF else None


def require(module: str, purpose: str) -> None:
    """Raise MissingExtra now, before work starts, when `module` is not installed."""
    if not available(module):
        raise MissingExtra(module, EXTRA_OF.get(module, "train"), purpose)


def available(module: str) -> bool:
    """Whether `module` can be imported, without importing it."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a finder that refuses it, or a half-imported module
        return False
