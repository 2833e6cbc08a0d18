"""The model sidecar over HTTP (`POST /infer`, `POST /infer/batch`, `GET /healthz`).

Every way the sidecar can fail is turned into `BackendFailure(reason)` (timeout, connect,
status_5xx, malformed, unauthorized); a 4xx about the input becomes `BackendRejected` so the
gateway can pass it on. A 401/403 is about the gateway's own credentials
(`MODEL_BACKEND_API_KEY`, sent as `X-API-Key`), never the client's input: it is a failure. Answers are checked with `analysis.check_outputs` before anyone trusts them.
"""

from __future__ import annotations

import httpx
import numpy as np

from tcnvae.analysis.outputs import MalformedOutputs, check_outputs

REASONS = ("timeout", "connect", "status_5xx", "malformed", "unauthorized", "breaker_open", "disabled")
AUTH_STATUSES = (401, 403)


class BackendFailure(Exception):
    """The sidecar could not give a usable answer; `reason` is one of REASONS."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


class BackendRejected(Exception):
    """The sidecar refused the input with a 4xx; status and detail are passed on to the client."""

    def __init__(self, status: int, detail: object) -> None:
        super().__init__(f"sidecar answered {status}: {detail}")
        self.status = status
        self.detail = detail


class SidecarClient:
    def __init__(self, base_url: str, timeout_s: float, probe_timeout_s: float = 0.5,
                 api_key: str | None = None) -> None:
        self.base_url = base_url
        headers = {"X-API-Key": api_key} if api_key else {}
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout_s, headers=headers)
        self._probe_timeout = probe_timeout_s
        self.sends_key = bool(api_key)

    async def close(self) -> None:
        await self._http.aclose()

    async def _post(self, path: str, body: dict) -> object:
        try:
            resp = await self._http.post(path, json=body)
        except httpx.TimeoutException as exc:
            raise BackendFailure("timeout", f"{path}: {type(exc).__name__}") from None
        except httpx.TransportError as exc:
            raise BackendFailure("connect", f"{path}: {type(exc).__name__}: {exc}") from None
        if resp.status_code in AUTH_STATUSES:
            raise BackendFailure("unauthorized", f"{path}: HTTP {resp.status_code}: {_detail(resp)}")
        if 400 <= resp.status_code < 500 and resp.status_code not in (404, 405, 408, 429):
            raise BackendRejected(resp.status_code, _detail(resp))
        if resp.status_code != 200:
            raise BackendFailure("status_5xx", f"{path}: HTTP {resp.status_code}")
        try:
            return resp.json()
        except ValueError:
            raise BackendFailure("malformed", f"{path}: body is not JSON") from None

    async def infer_one(self, window: np.ndarray) -> dict[str, np.ndarray]:
        """One raw window [100, 9] through the seed contract `POST /infer`."""
        body = await self._post("/infer", {"x": window.tolist()})
        return _checked(body, 1)

    async def infer_batch(self, x: np.ndarray) -> tuple[dict[str, np.ndarray], tuple[str, ...]]:
        """Raw windows [N, 100, 9] through `POST /infer/batch` -> (checked outputs, labels)."""
        body = await self._post("/infer/batch", {"windows": x.tolist()})
        return _checked(body, len(x)), labels_of(body)

    async def healthy(self) -> bool:
        """Does the sidecar answer its /healthz with 200 within the probe timeout?"""
        try:
            resp = await self._http.get("/healthz", timeout=self._probe_timeout)
        except httpx.HTTPError:
            return False
        return resp.status_code == 200

    async def credentials_problem(self) -> str | None:
        """Why the sidecar refuses the gateway's credentials, or None (also when unreachable).

        An empty POST /infer is refused by the sidecar's key check (401) before anything else
        is read; with an accepted key it is a 415 that touches no model.
        """
        try:
            resp = await self._http.post("/infer", content=b"", timeout=self._probe_timeout)
        except httpx.HTTPError:
            return None
        if resp.status_code not in AUTH_STATUSES:
            return None
        sent = "the key in MODEL_BACKEND_API_KEY" if self.sends_key else "no key (MODEL_BACKEND_API_KEY is unset)"
        return f"the model backend refuses the gateway's credentials: sent {sent}, got {resp.status_code} " \
               f"{_detail(resp)}"

    async def labels(self) -> tuple[str, ...]:
        """The activity labels of the sidecar's model, from /healthz or /status (empty if unknown)."""
        for path in ("/status", "/healthz"):
            try:
                resp = await self._http.get(path, timeout=self._probe_timeout)
                found = _find_labels(resp.json()) if resp.status_code == 200 else None
            except (httpx.HTTPError, ValueError):
                continue
            if found:
                return found
        return ()


def _find_labels(body: object) -> tuple[str, ...] | None:
    if not isinstance(body, dict):
        return None
    for key in ("labels",):
        if isinstance(body.get(key), list) and all(isinstance(v, str) for v in body[key]):
            return tuple(body[key])
    for value in body.values():
        found = _find_labels(value)
        if found:
            return found
    return None


def _checked(body: object, n: int) -> dict[str, np.ndarray]:
    """Check a sidecar answer for n windows: columnar ({"latent": [...], ...}) or per-window
    ({"results": [...]}); activity_probs as label -> probability maps (the sidecar's form)."""
    if isinstance(body, dict):
        rows = body.get("results", body.get("outputs"))
        if isinstance(rows, list) and rows and all(isinstance(r, dict) for r in rows):
            keys = ("latent", "motif_scores", "activity_probs")
            body = {k: [r.get(k) for r in rows] for k in keys if any(k in r for r in rows)}
    try:
        if isinstance(body, dict) and body.get("activity_probs") is not None:
            body = {**body, **_probs_matrix(body["activity_probs"], n)}
        return check_outputs(body, n)
    except MalformedOutputs as exc:
        raise BackendFailure("malformed", str(exc)) from None


def _probs_matrix(probs: object, n: int) -> dict:
    """{label: p} per window -> {"activity_probs": [[p...]], "labels": [...]} (lists pass as they are)."""
    rows = [probs] if isinstance(probs, dict) and n == 1 else probs
    if not (isinstance(rows, list) and rows and all(isinstance(r, dict) for r in rows)):
        return {"activity_probs": probs}
    labels = list(rows[0])
    if any(list(r) != labels for r in rows):
        raise MalformedOutputs("activity_probs: windows disagree on the labels")
    return {"activity_probs": [[r[k] for k in labels] for r in rows], "labels": labels}


def labels_of(body: object) -> tuple[str, ...]:
    """Activity labels named by an answer (its label -> probability maps), if any."""
    if not isinstance(body, dict):
        return ()
    probs = body.get("activity_probs")
    first = probs[0] if isinstance(probs, list) and probs else probs
    if isinstance(first, dict) and all(isinstance(k, str) for k in first):
        return tuple(first)
    labels = body.get("labels")
    return tuple(labels) if isinstance(labels, list) and all(isinstance(v, str) for v in labels) else ()


def _detail(resp: httpx.Response) -> object:
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:500]
    if isinstance(body, dict):
        return body.get("error", body.get("detail", body))
    return body
