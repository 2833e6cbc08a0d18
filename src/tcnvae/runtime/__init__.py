"""Inference runtime: one Engine over ONNX Runtime, PyTorch and HailoRT, plus micro-batching."""

from tcnvae.runtime.batcher import MicroBatcher
from tcnvae.runtime.engine import BACKENDS, Engine, ModelInfo, build_backend
from tcnvae.runtime.errors import BackendUnavailable, EngineError, InferenceTimeout, Overloaded, ShuttingDown

__all__ = ["BACKENDS", "BackendUnavailable", "Engine", "EngineError", "InferenceTimeout", "MicroBatcher",
           "ModelInfo", "Overloaded", "ShuttingDown", "build_backend"]
