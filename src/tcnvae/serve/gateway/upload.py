"""Receiving one recording upload: CSV body, multipart file or JSON, streamed to disk with a limit."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from starlette.datastructures import UploadFile
from starlette.requests import Request

from tcnvae.analysis.errors import AnalysisInputError
from tcnvae.analysis.recording_io import RecordingMeta, parse_units
from tcnvae.serve.http.body import body_timeout, stream_with_deadline
from tcnvae.serve.http.errors import ApiError

CSV_TYPES = ("text/csv", "text/plain", "application/csv")
JSON_TYPES = ("application/json",)
MULTIPART = "multipart/form-data"
CHUNK = 1 << 16


def content_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def check_declared_size(request: Request, max_bytes: int) -> None:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise ApiError(413, f"upload of {int(declared)} bytes exceeds the limit of {max_bytes} bytes")


async def stream_body(request: Request, dest: Path, max_bytes: int, timeout_s: float) -> None:
    """Write the raw body to dest, refusing (413) as soon as it passes max_bytes, 408 after timeout_s."""
    size = 0
    with open(dest, "wb") as fh:
        async for chunk in stream_with_deadline(request, timeout_s):
            size += len(chunk)
            if size > max_bytes:
                raise ApiError(413, f"upload exceeds the limit of {max_bytes} bytes")
            fh.write(chunk)
    if size == 0:
        raise ApiError(400, "empty upload: send the recording as the body or as the multipart field 'file'")


async def copy_form_file(request: Request, dest: Path, max_bytes: int,
                         timeout_s: float) -> tuple[str | None, dict]:
    """The multipart field `file` -> dest; returns (its filename, the other form fields)."""
    try:
        form = await asyncio.wait_for(request.form(), timeout_s)
    except TimeoutError:
        raise body_timeout(timeout_s) from None
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise ApiError(422, "multipart upload needs a file field named 'file'")
    size = 0
    with open(dest, "wb") as fh:
        while chunk := await upload.read(CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise ApiError(413, f"upload exceeds the limit of {max_bytes} bytes")
            fh.write(chunk)
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    await form.close()
    return upload.filename, fields


def upload_format(ctype: str, filename: str | None = None) -> str:
    if ctype in JSON_TYPES or (ctype == MULTIPART and filename and filename.lower().endswith(".json")):
        return "json"
    if ctype in CSV_TYPES or ctype == MULTIPART:
        return "csv"
    raise ApiError(415, f"Content-Type must be text/csv, application/json or multipart/form-data, "
                        f"got {ctype or 'none'!r}")


def read_options(params: dict) -> dict:
    """rate_hz and units (query string or form fields), checked; the form stored in request.json."""
    rate = params.get("rate_hz")
    try:
        rate_hz = float(rate) if rate not in (None, "") else None
    except ValueError:
        raise ApiError(422, f"rate_hz must be a number, got {rate!r}") from None
    try:
        meta = RecordingMeta(rate_hz, parse_units(params.get("units")))
    except AnalysisInputError as exc:
        raise ApiError(422, str(exc)) from None
    return {"rate_hz": meta.rate_hz, "units": meta.units}


def discard(path: Path) -> None:
    """Remove a partial upload that was refused (it never became a session)."""
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
