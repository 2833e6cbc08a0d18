"""Open Inference Protocol v2 tensors: JSON data (flat or nested) and the binary-tensor extension.

Binary extension (as tritonclient speaks it): the body is a JSON header of
`Inference-Header-Content-Length` bytes followed by raw little-endian tensor bytes, in the
order of the inputs that carry `parameters.binary_data_size`. Responses do the same for the
outputs requested with `parameters.binary_data: true` (or `binary_data_output` on the request).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from tcnvae.contract import N_CHANNELS, WINDOW
from tcnvae.errors import one_of
from tcnvae.runtime.backend import INPUT_NAME, OUTPUT_NAMES
from tcnvae.serve.http.body import as_number_array, parse_json
from tcnvae.serve.http.errors import ApiError

HEADER = "inference-header-content-length"


@dataclass
class OipRequest:
    id: str | None
    x: np.ndarray  # float32 [N, WINDOW, N_CHANNELS], raw SI
    binary: dict[str, bool]  # requested output -> send as binary


def split_body(body: bytes, header_length: str | None) -> tuple[dict, bytes]:
    """(JSON header, trailing binary bytes)."""
    if header_length is None:
        doc, rest = parse_json(body), b""
    else:
        if not header_length.isdigit() or int(header_length) > len(body):
            raise ApiError(400, f"Inference-Header-Content-Length {header_length!r} does not fit a "
                                f"{len(body)}-byte body")
        n = int(header_length)
        doc, rest = parse_json(body[:n]), body[n:]
    if not isinstance(doc, dict):
        raise ApiError(400, "the inference request must be a JSON object")
    return doc, rest


def parameters(obj: dict, where: str) -> dict:
    """An OIP `parameters` member: absent/null -> {}, an object -> itself, else a 400 naming it."""
    params = obj.get("parameters")
    if params is None:
        return {}
    if not isinstance(params, dict):
        raise ApiError(400, f"{where}.parameters must be a JSON object, got {type(params).__name__} "
                            f"{orjson.dumps(params)[:60].decode(errors='replace')}")
    return params


def _flag(params: dict, key: str, where: str, default: bool) -> bool:
    value = params.get(key, default)
    if not isinstance(value, bool):
        raise ApiError(400, f"{where}.parameters.{key} must be true or false, got {value!r}"[:200])
    return value


def decode_request(doc: dict, binary: bytes, max_windows: int,
                   outputs: tuple[str, ...] = OUTPUT_NAMES) -> OipRequest:
    parameters(doc, "request")  # checked even though no request parameter changes the answer
    inputs = doc.get("inputs")
    if not isinstance(inputs, list) or len(inputs) != 1 or not isinstance(inputs[0], dict):
        raise ApiError(400, f"expected exactly one input named {INPUT_NAME!r}")
    x = _input_tensor(inputs[0], binary, max_windows)
    rid = doc.get("id")
    if rid is not None and not isinstance(rid, str):
        raise ApiError(400, "id must be a string")
    return OipRequest(rid, x, _requested_outputs(doc, outputs))


def _input_tensor(spec: dict, binary: bytes, max_windows: int) -> np.ndarray:
    if spec.get("name") != INPUT_NAME:
        raise ApiError(400, f"unknown input {spec.get('name')!r}; the model takes {INPUT_NAME!r}")
    if spec.get("datatype") != "FP32":
        raise ApiError(400, f"input {INPUT_NAME!r} must be FP32, got {spec.get('datatype')!r}")
    shape = spec.get("shape")
    if (not isinstance(shape, list) or len(shape) != 3 or not all(type(d) is int for d in shape)
            or shape[1:] != [WINDOW, N_CHANNELS] or shape[0] < 1):
        raise ApiError(400, f"input {INPUT_NAME!r} must have shape [N, {WINDOW}, {N_CHANNELS}], got {shape}")
    if shape[0] > max_windows:
        raise ApiError(413, f"input {INPUT_NAME!r} holds {shape[0]} windows; the limit is {max_windows}")
    size = shape[0] * WINDOW * N_CHANNELS
    params = parameters(spec, f"input {INPUT_NAME!r}")
    if "binary_data_size" in params:
        nbytes = params["binary_data_size"]
        if type(nbytes) is not int or nbytes != size * 4 or len(binary) != nbytes:
            raise ApiError(400, f"binary_data_size {nbytes} does not match shape {shape} as FP32 "
                                f"({size * 4} bytes; {len(binary)} bytes follow the header)")
        return np.frombuffer(binary, dtype="<f4").astype(np.float32).reshape(shape)
    if "data" not in spec:
        raise ApiError(400, f"input {INPUT_NAME!r} has neither data nor binary_data_size")
    arr = as_number_array(spec["data"], f"input {INPUT_NAME!r} data")
    if arr.size != size:
        raise ApiError(400, f"input {INPUT_NAME!r} data has {arr.size} values; shape {shape} needs {size}")
    return arr.reshape(shape)


def _requested_outputs(doc: dict, names: tuple[str, ...] = OUTPUT_NAMES) -> dict[str, bool]:
    """Requested outputs -> binary?; `names` are the model's (a motif-only model has no activity_probs)."""
    default_binary = _flag(parameters(doc, "request"), "binary_data_output", "request", False)
    outputs = doc.get("outputs")
    if outputs is None:
        return {name: default_binary for name in names}
    if not isinstance(outputs, list):
        raise ApiError(400, "outputs must be a list")
    wanted: dict[str, bool] = {}
    for out in outputs:
        name = out.get("name") if isinstance(out, dict) else None
        if not isinstance(name, str) or name not in names:
            raise ApiError(400, f"unknown output {name!r}"[:120] + f"; the model has {one_of(names, 'and')}")
        where = f"output {name!r}"
        wanted[name] = _flag(parameters(out, where), "binary_data", where, default_binary)
    return wanted


def encode_response(model: str, version: str, req: OipRequest,
                    values: dict[str, np.ndarray]) -> tuple[bytes, int | None]:
    """(body, JSON header length or None when nothing is binary)."""
    outputs, blobs = [], []
    for name, as_binary in req.binary.items():
        arr = np.ascontiguousarray(values[name], dtype="<f4")
        entry: dict[str, Any] = {"name": name, "datatype": "FP32", "shape": list(arr.shape)}
        if as_binary:
            blob = arr.tobytes()
            entry["parameters"] = {"binary_data_size": len(blob)}
            blobs.append(blob)
        else:
            entry["data"] = arr.ravel()
        outputs.append(entry)
    doc: dict[str, Any] = {"model_name": model, "model_version": version, "outputs": outputs}
    if req.id is not None:
        doc["id"] = req.id
    header = orjson.dumps(doc, option=orjson.OPT_SERIALIZE_NUMPY)
    if not blobs:
        return header, None
    return header + b"".join(blobs), len(header)
