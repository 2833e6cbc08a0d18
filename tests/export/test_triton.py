"""The Triton model repository: parses with Triton's own ModelConfig schema; names, dims, version."""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

import pytest
from google.protobuf import text_format

from tcnvae.errors import TcnvaeError
from tcnvae.export.triton import MAX_BATCH, triton_version


def _model_config_pb2():
    """tritonclient.grpc.model_config_pb2; without grpcio installed, the same file loaded by path."""
    try:
        return importlib.import_module("tritonclient.grpc.model_config_pb2")
    except (ImportError, RuntimeError):
        spec = importlib.util.find_spec("tritonclient")
        assert spec and spec.submodule_search_locations, "tritonclient is not installed"
        path = Path(list(spec.submodule_search_locations)[0]) / "grpc" / "model_config_pb2.py"
        mod_spec = importlib.util.spec_from_file_location("model_config_pb2", path)
        module = importlib.util.module_from_spec(mod_spec)
        mod_spec.loader.exec_module(module)
        return module


def test_config_parses_with_triton_schema_and_matches_the_release(exported):
    release = exported["release"]
    folder = release.export_dir / "triton" / release.name
    pb2 = _model_config_pb2()
    config = text_format.Parse((folder / "config.pbtxt").read_text(), pb2.ModelConfig())
    assert config.name == release.name and config.platform == "onnxruntime_onnx"
    assert config.max_batch_size == MAX_BATCH
    assert [(i.name, list(i.dims)) for i in config.input] == [("x", [100, 9])]
    assert [(o.name, list(o.dims)) for o in config.output] == [
        ("latent", [64]), ("motif_scores", [12]), ("activity_probs", [len(release.labels)])]
    assert config.dynamic_batching.max_queue_delay_microseconds > 0
    assert list(config.dynamic_batching.preferred_batch_size)
    version = triton_version(release.version)
    assert list(config.version_policy.specific.versions) == [version]
    assert (folder / str(version) / "model.onnx").read_bytes() == (release.export_dir / "encoder.onnx").read_bytes()
    assert "MAJOR*10000 + MINOR*100 + PATCH" in (folder / "config.pbtxt").read_text()


def test_semver_maps_to_an_ordered_integer():
    assert triton_version("v1.0.0") == 10000
    assert triton_version("v1.2.3") == 10203
    assert triton_version("v0.99.99") < triton_version("v1.0.0")
    with pytest.raises(TcnvaeError, match="MINOR and PATCH"):
        triton_version("v1.100.0")
