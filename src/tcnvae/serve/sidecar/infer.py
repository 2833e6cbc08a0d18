"""The seed contract's routes: POST /infer (one window) and POST /infer/batch (many)."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from tcnvae.contract import N_CHANNELS, WINDOW
from tcnvae.serve.http.body import as_number_array, field, parse_json, read_body, require_json, windows_from
from tcnvae.serve.http.errors import ApiError
from tcnvae.serve.sidecar.schemas import ERRORS, BatchRequest, BatchResponse, InferRequest, InferResponse, body_doc
from tcnvae.serve.sidecar.state import get_state, require_key

router = APIRouter(tags=["inference"], dependencies=[Depends(require_key)])
NUMPY = orjson.OPT_SERIALIZE_NUMPY


def _json(payload: dict) -> Response:
    return Response(orjson.dumps(payload, option=NUMPY), media_type="application/json")


@router.post("/infer", response_model=None, openapi_extra=body_doc(InferRequest),
             responses={200: {"model": InferResponse}, **ERRORS},
             summary="Encode one raw window [100][9] in SI units")
async def infer(request: Request) -> Response:
    state = get_state(request)
    engine, batcher = state.parts()
    with batcher.arriving():
        require_json(request)
        doc = parse_json(await read_body(request, state.settings.max_body_bytes, state.settings.body_timeout_s))
        x = as_number_array(field(doc, "x"), "x")
        if x.ndim != 2:
            raise ApiError(422, f"x must be one window [{WINDOW}][{N_CHANNELS}] (samples x channels), "
                                f"got shape {list(x.shape)}; send several to /infer/batch")
        x = engine.validate(x)
    out = await batcher.submit(x, state.settings.request_timeout_s)
    body = _answer(engine, {k: v[0:1] for k, v in out.items()})
    return _json({k: v[0] for k, v in body.items()} | {"model_version": engine.info.version})


@router.post("/infer/batch", response_model=None, openapi_extra=body_doc(BatchRequest),
             responses={200: {"model": BatchResponse}, **ERRORS},
             summary="Encode a list of raw windows (up to max_windows)")
async def infer_batch(request: Request) -> Response:
    state = get_state(request)
    engine, batcher = state.parts()
    with batcher.arriving():
        require_json(request)
        doc = parse_json(await read_body(request, state.settings.max_body_bytes, state.settings.body_timeout_s))
        x = engine.validate(windows_from(field(doc, "windows"), state.settings.max_windows))
    out = await batcher.submit(x, state.settings.request_timeout_s)
    return _json(_answer(engine, out) | {"model_version": engine.info.version, "n": len(x)})


def _answer(engine, out: dict) -> dict:
    """Per-window lists of latent and motif scores, plus activity fields unless the model is
    motif-only (trained without labels)."""
    body = {"latent": out["latent"], "motif_scores": out["motif_scores"]}
    if engine.labels:
        probs = out["activity_probs"]
        body.update({"activity": engine.activity(probs),
                     "activity_probs": [dict(zip(engine.labels, row)) for row in probs.tolist()]})
    return body
