"""HTTP errors as JSON `{"error": "..."}`: every refusal is a 4xx that names the problem.

Library errors map to status codes here, in one table, so routes only raise.
"""

from __future__ import annotations

import logging

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from tcnvae.contract import ContractError
from tcnvae.runtime.errors import InferenceTimeout, Overloaded, ShuttingDown

log = logging.getLogger(__name__)
CLIENT_CLOSED = 499  # nginx's "client closed request": nobody receives it, metrics record it


class ApiError(Exception):
    """A refusal with an HTTP status, a message for the client and optional headers."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


def json_error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps({"error": message}), status_code=status,
                    media_type="application/json", headers=headers)


def to_api_error(exc: Exception) -> ApiError:
    """Map a runtime/contract error to its HTTP meaning."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, ContractError):
        return ApiError(422, str(exc))
    if isinstance(exc, Overloaded):
        return ApiError(503, str(exc), {"Retry-After": str(max(1, round(exc.retry_after_s)))})
    if isinstance(exc, ShuttingDown):
        return ApiError(503, str(exc), {"Retry-After": "1", "Connection": "close"})
    if isinstance(exc, InferenceTimeout):
        return ApiError(504, str(exc))
    raise exc


def install_error_handlers(app: FastAPI) -> None:
    """JSON bodies for our errors, FastAPI's validation errors and Starlette's 404/405."""

    async def api_error(_req: Request, exc: ApiError) -> Response:
        return json_error(exc.status, exc.message, exc.headers)

    async def http_error(_req: Request, exc: StarletteHTTPException) -> Response:
        return json_error(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    async def validation_error(_req: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return json_error(422, f"{where}: {first.get('msg', 'invalid request')}")

    async def mapped_error(_req: Request, exc: Exception) -> Response:
        err = to_api_error(exc)
        return json_error(err.status, err.message, err.headers)

    async def disconnected(req: Request, _exc: ClientDisconnect) -> Response:
        log.info("client disconnected before sending all of %s %s", req.method, req.url.path)
        return json_error(CLIENT_CLOSED, "client closed the connection before the request was complete")

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(ClientDisconnect, disconnected)
    for cls in (ContractError, Overloaded, ShuttingDown, InferenceTimeout):
        app.add_exception_handler(cls, mapped_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
