"""Open Inference Protocol v2 (KServe / Triton HTTP): health, metadata and infer.

Input `x` is FP32 [N, 100, 9] in RAW SI units, exactly like /infer: the server applies the
release's normalization, so clients never carry normalization constants. Outputs `latent`,
`motif_scores`, `activity_probs`. Errors are `{"error": "..."}` with a 4xx status.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version as package_version

import orjson
from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from tcnvae.contract import LATENT_DIM, N_CHANNELS, N_MOTIFS, WINDOW
from tcnvae.runtime.backend import INPUT_NAME
from tcnvae.serve.http.body import read_body
from tcnvae.serve.http.errors import ApiError
from tcnvae.serve.sidecar.oip_codec import HEADER, decode_request, encode_response, split_body
from tcnvae.serve.sidecar.schemas import ERRORS, ErrorResponse, OipInferRequest, OipInferResponse, body_doc
from tcnvae.serve.sidecar.state import ServeState, get_state, graph_name, require_key

router = APIRouter(prefix="/v2", tags=["open inference protocol v2"])
BODY_TYPES = ("", "application/json", "application/octet-stream")


def _json(payload: dict, status: int = 200) -> Response:
    return Response(orjson.dumps(payload), status_code=status, media_type="application/json")


def _model(state: ServeState, name: str, version: str | None = None):
    engine, _ = state.parts()
    if name != engine.info.name:
        raise ApiError(404, f"unknown model {name!r}; this server serves {engine.info.name!r}")
    if version is not None and version not in (engine.info.version, engine.info.version.lstrip("v")):
        raise ApiError(404, f"model {name!r} has no version {version!r}; loaded {engine.info.version}")
    return engine


@router.get("", response_model=None)
async def server_metadata() -> Response:
    try:
        ours = package_version("tcnvae")
    except PackageNotFoundError:  # running from a source tree
        ours = "unknown"
    return _json({"name": "tcnvae", "version": ours, "extensions": ["binary_tensor_data"]})


@router.get("/health/live", response_model=None)
async def live() -> Response:
    return _json({"live": True})


@router.get("/health/ready", response_model=None)
async def ready(request: Request) -> Response:
    ok = get_state(request).ready
    return _json({"ready": ok}, 200 if ok else 503)


@router.get("/models/{model}", response_model=None, responses={404: {"model": ErrorResponse, "description": "unknown model or version"}})
@router.get("/models/{model}/versions/{version}", response_model=None, include_in_schema=False)
async def model_metadata(request: Request, model: str, version: str | None = None) -> Response:
    engine = _model(get_state(request), model, version)
    n_labels = len(engine.labels)
    return _json({
        "name": engine.info.name, "versions": [engine.info.version],
        "platform": {"onnx": "onnxruntime_onnx", "torch": "pytorch_libtorch"}.get(engine.backend.name, "hailort"),
        "inputs": [{"name": INPUT_NAME, "datatype": "FP32", "shape": [-1, WINDOW, N_CHANNELS]}],
        "outputs": [{"name": "latent", "datatype": "FP32", "shape": [-1, LATENT_DIM]},
                    {"name": "motif_scores", "datatype": "FP32", "shape": [-1, N_MOTIFS]},
                    {"name": "activity_probs", "datatype": "FP32", "shape": [-1, n_labels]}][:len(engine.outputs)],
        "parameters": {"labels": list(engine.labels), "input_units": "raw SI (m/s^2, rad/s, uT); "
                       "normalized server-side", "precision": engine.precision,
                       "graph": graph_name(engine)}})


@router.get("/models/{model}/ready", response_model=None)
@router.get("/models/{model}/versions/{version}/ready", response_model=None, include_in_schema=False)
async def model_ready(request: Request, model: str, version: str | None = None) -> Response:
    _model(get_state(request), model, version)
    return _json({"name": model, "ready": True})


@router.post("/models/{model}/infer", response_model=None, dependencies=[Depends(require_key)],
             openapi_extra=body_doc(OipInferRequest), responses={200: {"model": OipInferResponse}, **ERRORS})
@router.post("/models/{model}/versions/{version}/infer", response_model=None, include_in_schema=False,
             dependencies=[Depends(require_key)])
async def model_infer(request: Request, model: str, version: str | None = None) -> Response:
    state = get_state(request)
    engine = _model(state, model, version)
    batcher = state.batcher
    with batcher.arriving():
        _check_body_type(request)
        body = await read_body(request, state.settings.max_body_bytes, state.settings.body_timeout_s)
        doc, binary = split_body(body, request.headers.get(HEADER))
        req = decode_request(doc, binary, state.settings.max_windows, engine.outputs)
        x = engine.validate(req.x)
    out = await batcher.submit(x, state.settings.request_timeout_s)
    payload, header_len = encode_response(engine.info.name, engine.info.version, req, out)
    if header_len is None:
        return Response(payload, media_type="application/json")
    return Response(payload, media_type="application/octet-stream",
                    headers={"Inference-Header-Content-Length": str(header_len)})


def _check_body_type(request: Request) -> None:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in BODY_TYPES:
        raise ApiError(415, f"Content-Type must be application/json or application/octet-stream, got {ctype!r}")
    if request.headers.get("content-encoding", "identity") != "identity":
        raise ApiError(415, "compressed request bodies are not supported")
