"""Fast request parsing: bounded body read, JSON via orjson, numbers via numpy, no per-element Python.

The body is read under a size limit (413) and a deadline (408, `Connection: close`): uvicorn
has no body-read timeout, so a client that sends headers and half a body would otherwise hold
its request open for ever. A client that goes away mid-body is `ClientDisconnect`, answered
499 by `errors.install_error_handlers` (logged as a disconnect, never as a 500).

JSON has no NaN or Infinity literal, but Python's json module writes and reads them; a
body orjson refuses is retried with the standard parser so that such values reach the
contract check and get a 422 naming the window, sample and channel, not a parse error.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import orjson
from starlette.requests import Request

from tcnvae.contract import N_CHANNELS, WINDOW
from tcnvae.serve.http.errors import ApiError

JSON_TYPES = ("application/json",)


DEFAULT_BODY_TIMEOUT_S = 30.0


def body_timeout(seconds: float) -> ApiError:
    return ApiError(408, f"request body not received within {seconds:g} s", {"Connection": "close"})


async def read_body(request: Request, max_bytes: int, timeout_s: float = DEFAULT_BODY_TIMEOUT_S) -> bytes:
    """The request body, refused with 413 beyond max_bytes (by Content-Length, then while
    streaming) and with 408 when it has not fully arrived within timeout_s."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise ApiError(400, f"malformed Content-Length {declared!r}")
        if int(declared) > max_bytes:
            raise ApiError(413, f"body of {int(declared)} bytes exceeds the limit of {max_bytes} bytes")
    chunks, size = [], 0
    async for chunk in stream_with_deadline(request, timeout_s):
        size += len(chunk)
        if size > max_bytes:
            raise ApiError(413, f"body exceeds the limit of {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def stream_with_deadline(request: Request, timeout_s: float) -> AsyncIterator[bytes]:
    """request.stream(), raising a 408 ApiError once timeout_s has passed since the first read."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    stream = request.stream().__aiter__()
    while True:
        try:
            async with asyncio.timeout_at(deadline):
                chunk = await stream.__anext__()
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise body_timeout(timeout_s) from None
        yield chunk


def require_json(request: Request) -> None:
    """415 unless the Content-Type is application/json (charset parameters allowed)."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in JSON_TYPES:
        raise ApiError(415, f"Content-Type must be application/json, got {ctype or 'none'!r}")


def parse_json(body: bytes) -> Any:
    if not body:
        raise ApiError(400, "empty body: expected a JSON object")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as fast_error:
        try:  # NaN / Infinity literals: let the contract check name them
            return json.loads(body)
        except (ValueError, RecursionError):
            raise ApiError(400, f"malformed JSON: {fast_error}") from None


def field(doc: Any, key: str) -> Any:
    if not isinstance(doc, dict):
        raise ApiError(422, f"expected a JSON object with {key!r}, got {type(doc).__name__}")
    if key not in doc:
        raise ApiError(422, f"missing field {key!r}")
    return doc[key]


def as_number_array(value: Any, what: str) -> np.ndarray:
    """A nested list of JSON numbers -> float32 array; 422 for ragged lists, strings, null, bools."""
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError):
        raise ApiError(422, f"{what} is a ragged nested list: every row must have the same length") from None
    if arr.dtype.kind not in "iuf":
        raise ApiError(422, f"{what} must contain only numbers (found {_kind(arr)})")
    if _holds_bool(value):  # numpy reads [true, 1.5] as [1.0, 1.5]: JSON booleans are not samples
        raise ApiError(422, f"{what} must contain only numbers (found a boolean)")
    return arr.astype(np.float32, copy=False)


def _holds_bool(value: Any) -> bool:
    """True if a nested list holds a bool anywhere (about 20 µs for a 100 x 9 window)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if type(item) is list:
            if item and type(item[0]) is not list:
                if any(type(v) is bool for v in item):
                    return True
            else:
                stack.extend(item)
    return False


def windows_from(value: Any, max_windows: int, what: str = "windows") -> np.ndarray:
    """A list of [WINDOW][N_CHANNELS] windows -> [N, WINDOW, N_CHANNELS]; errors name the index."""
    if not isinstance(value, list) or not value:
        raise ApiError(422, f"{what} must be a non-empty list of [{WINDOW}][{N_CHANNELS}] windows")
    if len(value) > max_windows:
        raise ApiError(413, f"{what} holds {len(value)} windows; the limit is {max_windows} per request")
    try:
        arr = as_number_array(value, what)
        if arr.ndim == 3 and arr.shape[1:] == (WINDOW, N_CHANNELS):
            return arr
    except ApiError:
        pass
    for i, w in enumerate(value):  # slow path, only to name the offending window
        sub = as_number_array(w, f"{what}[{i}]")
        if sub.shape != (WINDOW, N_CHANNELS):
            raise ApiError(422, f"{what}[{i}] has shape {list(sub.shape)}; expected [{WINDOW}, {N_CHANNELS}] "
                                f"(samples x channels)")
    raise ApiError(422, f"{what} could not be read as [N, {WINDOW}, {N_CHANNELS}] numbers")


def _kind(arr: np.ndarray) -> str:
    return {"U": "strings", "S": "strings", "b": "booleans", "O": "null or mixed values"}.get(arr.dtype.kind,
                                                                                           str(arr.dtype))
