"""Edge and server export of a release: static/dynamic ONNX, INT8, parity, Hailo report, Triton repo."""

from tcnvae.export.errors import ExportError
from tcnvae.export.pipeline import expected_files, export_release

__all__ = ["ExportError", "expected_files", "export_release"]
