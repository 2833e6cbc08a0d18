"""The header deadline with both of uvicorn's HTTP parsers (h11 and httptools), on a real
uvicorn server in a thread and raw sockets: half-sent headers get a JSON 408 and a close, a
complete request on the same kind of connection is answered, and keep-alive still works."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from tcnvae.serve.http.server import uvicorn_config
from tests.serve.server import free_port

DEADLINE_S = 30.0


async def hello(_request) -> JSONResponse:
    return JSONResponse({"ok": True})


@pytest.fixture(params=[False, True], ids=["h11", "httptools"])
def server(request):
    port = free_port()
    app = Starlette(routes=[Route("/", hello)])
    srv = uvicorn.Server(uvicorn_config(app, "127.0.0.1", port, 0.5, fast=request.param, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    end = time.monotonic() + DEADLINE_S
    while not srv.started and time.monotonic() < end:
        thread.join(0.05)  # bounded wait for the server's own started flag
    assert srv.started
    yield port
    srv.should_exit = True
    thread.join(DEADLINE_S)


def _recv_all(sock: socket.socket) -> bytes:
    sock.settimeout(DEADLINE_S)
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def test_half_sent_headers_get_a_408_and_a_close(server: int) -> None:
    with socket.create_connection(("127.0.0.1", server)) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        answer = _recv_all(s)
    assert answer.startswith(b"HTTP/1.1 408")
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1]) == {"error": "request headers not received within 0.5 s"}


def test_kept_alive_connection_gets_the_deadline_again(server: int) -> None:
    with socket.create_connection(("127.0.0.1", server)) as s:
        s.settimeout(DEADLINE_S)
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        first = b""
        while b'{"ok":true}' not in first:  # headers and body may come in separate segments
            chunk = s.recv(65536)
            assert chunk, first
            first += chunk
        assert first.startswith(b"HTTP/1.1 200")
        s.sendall(b"GET / HTTP/1.1\r\nHo")  # the next request stalls mid-headers
        assert _recv_all(s).startswith(b"HTTP/1.1 408")
