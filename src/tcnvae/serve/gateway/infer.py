"""Routes: `POST /api/v1/analysis/infer` (seed contract) and `GET /api/v1/analysis/motifs`."""

from __future__ import annotations

from fastapi import APIRouter, Request
import orjson
from fastapi.responses import Response

from tcnvae.contract import channel_limits, validate_windows
from tcnvae.serve.http.body import field, parse_json, read_body, require_json, windows_from
from tcnvae.serve.http.errors import ApiError
from tcnvae.serve.gateway.backend import Answer
from tcnvae.serve.gateway.store import DONE

router = APIRouter(prefix="/api/v1/analysis", tags=["analysis"])
SOURCE_HEADER = "X-Tcnvae-Source"
REASON_HEADER = "X-Tcnvae-Fallback-Reason"
MAX_INFER_BYTES = 1024 * 1024


def json_response(body: dict, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY), status_code=status_code,
                    media_type="application/json", headers=headers)


def source_headers(answer: Answer) -> dict[str, str]:
    headers = {SOURCE_HEADER: answer.source}
    if answer.reason:
        headers[REASON_HEADER] = answer.reason
    return headers


@router.post("/infer", summary="one 100x9 window -> latent [64] + motif scores [12] (seed contract)")
async def infer(request: Request) -> Response:
    require_json(request)
    doc = parse_json(await read_body(request, MAX_INFER_BYTES, request.app.state.settings.body_timeout_s))
    x = windows_from([field(doc, "x")], 1, what="x")
    validate_windows(x, channel_limits())  # ContractError -> 422 naming sample and channel
    answer = await request.app.state.model.infer(x, single=True)
    body = {"latent": answer.outputs["latent"][0].tolist(),
            "motif_scores": answer.outputs["motif_scores"][0].tolist(),
            "source": answer.source}
    return json_response(body, headers=source_headers(answer))


@router.get("/motifs", summary="top motifs of a session (default: the latest completed one)")
async def motifs(request: Request, session: str | None = None) -> Response:
    store = request.app.state.store
    sid = session if session is not None else store.latest_done()
    if sid is None:
        raise ApiError(404, "no completed session yet: upload one to /api/v1/analysis/sessions")
    if store.folder(sid) is None:
        raise ApiError(404, f"unknown session {sid!r}")
    if store.status(sid) != DONE:
        raise ApiError(409,
                       f"session {sid} is {store.status(sid)}, it has no motifs")
    results = store.results(sid)
    return json_response({"motifs": results["motifs"], "useReal": results["source"] == "model",
                           "session": sid, "source": results["source"]},
                          headers={SOURCE_HEADER: results["source"]})
