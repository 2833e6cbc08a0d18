"""On-the-fly ONNX export of a release's DeployableEncoder, for releases without export/encoder.onnx.

`tcnvae export` is the proper way to ship an ONNX graph (it writes export/encoder.onnx and
records parity); this fallback lets `tcnvae serve --backend onnx` run any release by
exporting into a temporary folder that is never written back into the registry.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import torch

from tcnvae.contract import N_CHANNELS, WINDOW
from tcnvae.export.onnx import fold_normalization
from tcnvae.runtime.backend import INPUT_NAME, OUTPUT_NAMES

log = logging.getLogger(__name__)
OPSET = 17


def export_encoder(encoder: torch.nn.Module, path: Path) -> Path:
    """Write `encoder` as ONNX with a dynamic batch axis: x [N, WINDOW, N_CHANNELS] -> OUTPUT_NAMES."""
    folded = fold_normalization(encoder)
    example = torch.zeros(2, WINDOW, N_CHANNELS)
    dynamic = {name: {0: "N"} for name in (INPUT_NAME, *OUTPUT_NAMES)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation chatter
        torch.onnx.export(folded, (example,), str(path), input_names=[INPUT_NAME],
                          output_names=list(OUTPUT_NAMES), dynamic_axes=dynamic,
                          opset_version=OPSET, dynamo=False)
    log.info("exported the encoder to %s (opset %d, dynamic batch)", path, OPSET)
    return path
