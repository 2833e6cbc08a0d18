"""`tcnvae gateway`: the EdgeInfer analysis API (configured by environment, see docs/gateway.md)."""

from __future__ import annotations

import argparse

from tcnvae.errors import TcnvaeError


def register(sub) -> None:
    p = sub.add_parser("gateway", help="run the EdgeInfer analysis API (FastAPI on uvicorn)",
                       description="Environment: USE_REAL_MODEL, MODEL_BACKEND_URL, MODEL_BACKEND_API_KEY, "
                                   "SESSIONS_DIR, API_KEY, GATEWAY_* (timeouts, breaker, upload and "
                                   "session limits, stride); see docs/gateway.md.")
    p.add_argument("--host", default="127.0.0.1", help="bind address (non-loopback needs API_KEY)")
    p.add_argument("--port", type=int, default=8082, help="port")
    p.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"), help="uvicorn log level")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn
    from pydantic import ValidationError

    from tcnvae.serve.gateway.app import create_app
    from tcnvae.serve.gateway.settings import GatewaySettings
    from tcnvae.serve.http.server import uvicorn_config

    try:
        settings = GatewaySettings()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "settings"
        raise TcnvaeError(f"invalid gateway setting {where}: {first.get('msg')}") from None
    settings.check_bind(args.host)
    server = uvicorn.Server(uvicorn_config(create_app(settings), args.host, args.port, settings.header_timeout_s,
                                           log_level=args.log_level))
    server.run()
    return 0 if server.started else 3
