"""Routes: `/api/v1/analysis/sessions` — upload a recording, poll its analysis, fetch its picture."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from tcnvae.analysis.errors import AnalysisInputError
from tcnvae.data.recording import Recording
from tcnvae.serve.http.errors import ApiError
from tcnvae.serve.gateway.infer import SOURCE_HEADER, json_response
from tcnvae.serve.gateway.jobs import checked_windows, fail_session, internal_error, read_upload
from tcnvae.serve.gateway.upload import (
    MULTIPART, check_declared_size, content_type, copy_form_file, discard, read_options, stream_body,
    upload_format)
from tcnvae.serve.gateway.store import DONE, FAILED

router = APIRouter(prefix="/api/v1/analysis/sessions", tags=["sessions"])
RETRY_AFTER_S = "1"
log = logging.getLogger(__name__)


@router.post("", status_code=202, summary="upload one recording (CSV or JSON) for analysis")
async def create_session(request: Request) -> Response:
    state = request.app.state
    limit = state.settings.max_upload_bytes
    check_declared_size(request, limit)
    ctype = content_type(request)
    upload_format(ctype)  # 415 before reading anything
    tmp = state.store.incoming_file()
    try:
        params = dict(request.query_params)
        filename = params.get("filename")
        if ctype == MULTIPART:
            filename, fields = await copy_form_file(request, tmp, limit, state.settings.body_timeout_s)
            params = {**fields, **params}
        else:
            await stream_body(request, tmp, limit, state.settings.body_timeout_s)
        fmt = upload_format(ctype, filename)
        options = read_options(params)
        sid = state.store.commit(tmp, fmt, {**options, "filename": filename})
    finally:
        discard(tmp)  # already renamed into the session unless the upload was refused
    try:
        recording = await asyncio.wait_for(asyncio.to_thread(_precheck, state, sid),
                                           state.settings.session_timeout_s)
    except AnalysisInputError as exc:
        return _refused(state, sid, str(exc))
    except TimeoutError:
        return _refused(state, sid, f"reading the upload took longer than the budget of "
                                    f"{state.settings.session_timeout_s:g} s (GATEWAY_SESSION_TIMEOUT_S)")
    except asyncio.CancelledError:
        state.runner.submit(sid)  # shutting down mid-check: the job (or the next start) finishes it
        raise
    except Exception as exc:  # noqa: BLE001 - a bug must fail the session, never leave it processing
        log.exception("session %s: unexpected error reading the upload", sid)
        return _refused(state, sid, internal_error(exc))
    state.runner.submit(sid, recording)
    location = f"{router.prefix}/{sid}"
    return json_response({"id": sid, "status": "processing"}, status_code=202,
                          headers={"Location": location})


def _precheck(state, sid: str) -> Recording:
    """Parse and window the upload now, so that bad input is answered at once (4xx)."""
    recording = read_upload(state.store, sid, state.settings.max_samples)
    checked_windows(recording, state.analysis_config)
    return recording


def _refused(state, sid: str, message: str) -> Response:
    """The upload stays in its session folder, marked failed with the reason."""
    fail_session(state.store, state.metrics, sid, message)
    return json_response({"error": message, "id": sid, "status": FAILED}, status_code=422)


@router.get("", summary="all sessions, oldest first")
async def list_sessions(request: Request) -> Response:
    return json_response({"sessions": [s.to_dict() for s in request.app.state.store.list()]})


def _ready(request: Request, sid: str) -> Response | None:
    """None when the session is done; else the 404 / 202 / 422 answer to give."""
    store = request.app.state.store
    if store.folder(sid) is None:
        raise ApiError(404, f"unknown session {sid!r}")
    status = store.status(sid)
    if status == DONE:
        return None
    if status == FAILED:
        return json_response({"id": sid, "status": FAILED, "error": store.error(sid)}, status_code=422)
    if not request.app.state.runner.tracked(sid):  # e.g. its job was lost: queue it, never wait forever
        request.app.state.runner.submit(sid)
    return json_response({"id": sid, "status": "processing"}, status_code=202,
                          headers={"Retry-After": RETRY_AFTER_S})


@router.get("/{sid}", summary="the analysis: timeline, ethogram, time per activity and motif")
async def get_session(request: Request, sid: str) -> Response:
    pending = _ready(request, sid)
    if pending is not None:
        return pending
    results = await asyncio.to_thread(request.app.state.store.results, sid)
    return json_response({"id": sid, "status": DONE, **results}, headers={SOURCE_HEADER: results["source"]})


@router.get("/{sid}/ethogram.png", summary="activity ethogram bands + motif heatmap (PNG)")
async def get_ethogram(request: Request, sid: str) -> Response:
    pending = _ready(request, sid)
    if pending is not None:
        return pending
    return FileResponse(request.app.state.store.ethogram_path(sid), media_type="image/png")
