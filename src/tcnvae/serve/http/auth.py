"""Optional API keys: `X-API-Key` must match one of the configured keys on inference routes."""

from __future__ import annotations

import hmac

from starlette.requests import Request

from tcnvae.serve.http.errors import ApiError

HEADER = "x-api-key"


class ApiKeyCheck:
    """Callable dependency; with no keys configured it admits everyone."""

    def __init__(self, keys: tuple[str, ...]) -> None:
        self._keys = tuple(k.encode() for k in keys)

    @property
    def enabled(self) -> bool:
        return bool(self._keys)

    def __call__(self, request: Request) -> None:
        if not self._keys:
            return
        given = request.headers.get(HEADER)
        if given is None:
            raise ApiError(401, "missing X-API-Key header", {"WWW-Authenticate": "ApiKey"})
        # Compare against every key in constant time, so timing says nothing about which matched.
        matched = [hmac.compare_digest(given.encode(), k) for k in self._keys]
        if not any(matched):
            raise ApiError(401, "unknown API key", {"WWW-Authenticate": "ApiKey"})
