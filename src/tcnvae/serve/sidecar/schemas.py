"""Pydantic models used ONLY to publish the OpenAPI schema; requests are parsed by body.py.

Validating 900 floats per window through pydantic costs more than the model itself, so the
routes read bytes with orjson and check them with numpy; these classes keep /docs honest.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from tcnvae.contract import CHANNELS, LATENT_DIM, N_CHANNELS, N_MOTIFS, WINDOW

Window = list[list[float]]
_WINDOW_DOC = (f"{WINDOW} samples x {N_CHANNELS} channels ({', '.join(CHANNELS)}) in SI units "
               "(m/s^2, rad/s, uT); absent sensors as 0")


def _window_field(**kw: Any) -> Any:
    return Field(..., description=_WINDOW_DOC,
                 json_schema_extra={"minItems": WINDOW, "maxItems": WINDOW,
                                    "items": {"type": "array", "minItems": N_CHANNELS, "maxItems": N_CHANNELS,
                                              "items": {"type": "number"}}}, **kw)


class InferRequest(BaseModel):
    x: Window = _window_field()


class InferResponse(BaseModel):
    latent: list[float] = Field(..., min_length=LATENT_DIM, max_length=LATENT_DIM)
    motif_scores: list[float] = Field(..., min_length=N_MOTIFS, max_length=N_MOTIFS,
                                      description="soft assignment to the 12 motifs, each in [0, 1]")
    activity: str | None = Field(None, description="absent for a motif-only model (trained without labels)")
    activity_probs: dict[str, float] | None = Field(None, description="absent for a motif-only model")
    model_version: str


class BatchRequest(BaseModel):
    windows: list[Window] = Field(..., min_length=1, description=f"a list of windows, each {_WINDOW_DOC}")


class BatchResponse(BaseModel):
    latent: list[list[float]]
    motif_scores: list[list[float]]
    activity: list[str] | None = Field(None, description="absent for a motif-only model (trained without labels)")
    activity_probs: list[dict[str, float]] | None = Field(None, description="absent for a motif-only model")
    model_version: str
    n: int


class ErrorResponse(BaseModel):
    error: str


class Health(BaseModel):
    ok: bool
    model: str
    version: str
    uptime_s: float
    config_version: str
    model_sha256: str
    device: str
    latency_ms: float


class OipTensor(BaseModel):
    name: str
    datatype: str
    shape: list[int]
    data: list[Any] | None = None
    parameters: dict[str, Any] | None = None


class OipRequestedOutput(BaseModel):
    name: str
    parameters: dict[str, Any] | None = None


class OipInferRequest(BaseModel):
    id: str | None = None
    parameters: dict[str, Any] | None = None
    inputs: list[OipTensor]
    outputs: list[OipRequestedOutput] | None = None


class OipInferResponse(BaseModel):
    model_name: str
    model_version: str | None = None
    id: str | None = None
    outputs: list[OipTensor]


def body_doc(model: type[BaseModel], media_type: str = "application/json") -> dict[str, Any]:
    """`openapi_extra` declaring a request body the route reads itself (nested models inlined)."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})
    return {"requestBody": {"required": True, "content": {media_type: {"schema": _inline(schema, defs)}}}}


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            return _inline(defs[node["$ref"].rsplit("/", 1)[-1]], defs)
        return {k: _inline(v, defs) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse, "description": text} for code, text in {
        401: "missing or unknown X-API-Key", 413: "body or batch too large", 415: "not application/json",
        422: "the window breaks the contract (shape, NaN/Inf, physical limits); names the index",
        503: "not ready, overloaded (Retry-After) or shutting down", 504: "inference timed out"}.items()}
