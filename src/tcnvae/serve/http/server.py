"""uvicorn for both servers, with a deadline on reading request headers.

uvicorn closes idle keep-alive connections (`timeout_keep_alive`) but has no limit on how
long a client may take to send a request's headers: a connection that opens and trickles
bytes is held forever. `protocol_with_header_deadline` wraps uvicorn's own HTTP protocol
(h11 or httptools) so that a connection whose next request's headers are not complete
`header_timeout_s` after it opened (or after its previous response) gets a JSON 408 and is
closed. Body reads have their own deadline in `serve.http.body` (the app reads the body).
Each connection is its own protocol object on the event loop: a slow one costs one
connection and one timer, nothing else.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
from typing import Any

import orjson

log = logging.getLogger(__name__)
KEEP_ALIVE_S = 5  # uvicorn's default idle keep-alive, stated here so it is documented


def _timeout_response(seconds: float) -> bytes:
    body = orjson.dumps({"error": f"request headers not received within {seconds:g} s"})
    head = (f"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n").encode()
    return head + body


def protocol_with_header_deadline(base: type, header_timeout_s: float) -> type:
    """A subclass of uvicorn's HTTP protocol `base` that enforces the header deadline."""

    class HeaderDeadlineProtocol(base):  # type: ignore[misc, valid-type]
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm_header_deadline()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._arm_header_deadline()  # the next request on a kept-alive connection

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm_header_deadline()
            super().connection_lost(exc)

        def handle_websocket_upgrade(self, *args: Any) -> None:
            # The connection now belongs to uvicorn's WebSocket protocol (a live stream may run
            # for hours): a header deadline firing later would write an HTTP 408 into the
            # WebSocket byte stream and cut it (clients saw "reserved bits must be 0").
            self._disarm_header_deadline()
            super().handle_websocket_upgrade(*args)

        def _disarm_header_deadline(self) -> None:
            timer = getattr(self, "_header_timer", None)
            if timer is not None:
                timer.cancel()
                self._header_timer = None

        def _arm_header_deadline(self) -> None:
            self._disarm_header_deadline()
            # A new request replaces self.cycle once its headers are complete: if the cycle is
            # still the one seen now when the timer fires, the headers never arrived.
            self._cycle_at_arm = self.cycle
            self._header_timer = self.loop.call_later(header_timeout_s, self._header_deadline)

        def _header_deadline(self) -> None:
            self._header_timer = None
            if self.transport.is_closing() or self.cycle is not self._cycle_at_arm:
                return
            if self._cycle_at_arm is not None and not self._cycle_at_arm.response_complete:
                return  # a response is still being written: not waiting for headers
            log.info("closing a connection that sent no complete request headers within %g s",
                     header_timeout_s)
            self.transport.write(_timeout_response(header_timeout_s))
            self.transport.close()

    HeaderDeadlineProtocol.__name__ = f"HeaderDeadline{base.__name__}"
    return HeaderDeadlineProtocol


def fast_stack() -> bool:
    """uvloop + httptools when installed (the faster parser), else asyncio + h11."""
    return importlib.util.find_spec("uvloop") is not None and importlib.util.find_spec("httptools") is not None


def uvicorn_config(app: Any, host: str, port: int, header_timeout_s: float, **kwargs: Any):
    """A uvicorn.Config whose HTTP protocol enforces `header_timeout_s`."""
    import uvicorn

    fast = kwargs.pop("fast", fast_stack())
    if fast:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as base
    else:
        from uvicorn.protocols.http.h11_impl import H11Protocol as base
    kwargs.setdefault("timeout_keep_alive", KEEP_ALIVE_S)
    # No permessage-deflate on WebSockets (live streams): inflating every small samples frame and
    # deflating every result cost ~7 % of a busy stream server's CPU (BENCHMARKS.md, live streams);
    # the compact form of a stream is its binary float32 frames, not compressed JSON.
    kwargs.setdefault("ws_per_message_deflate", False)
    return uvicorn.Config(app, host=host, port=port, loop="uvloop" if fast else "asyncio",
                          http=protocol_with_header_deadline(base, header_timeout_s), **kwargs)
