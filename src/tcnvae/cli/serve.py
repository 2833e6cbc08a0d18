"""`tcnvae serve REF`: the inference sidecar (FastAPI on uvicorn).

Flags override TCNVAE_SERVE_* environment variables; API keys come from --api-key (repeatable)
or TCNVAE_API_KEYS (comma-separated). The release is verified before the server binds, so a
tampered release exits 1 with the failing files named.
"""

from __future__ import annotations

import argparse
import sys

from tcnvae.cli.common import MODELS_HELP


def register(sub) -> None:
    p = sub.add_parser("serve", help="serve a release over HTTP (/infer, /infer/batch, /v2, /metrics)")
    p.add_argument("ref", nargs="?", help="release, e.g. tcn_encoder@champion (default: that)")
    p.add_argument("--models", help=MODELS_HELP)
    p.add_argument("--host", help="bind address (default 127.0.0.1; others need API keys)")
    p.add_argument("--port", type=int, help="port (default 9000)")
    p.add_argument("--backend", choices=("onnx", "torch", "hailo"), help="runtime (default onnx)")
    p.add_argument("--threads", type=int, help="backend intra-op threads (default 1)")
    p.add_argument("--device", help="torch backend only: cpu (default), auto, cuda, cuda:N or mps")
    p.add_argument("--precision", choices=("fp32", "int8"),
                   help="graph to serve: fp32 encoder.onnx (default) or int8 encoder_int8.onnx, "
                        "which is refused unless export/parity.json holds its bounds")
    p.add_argument("--workers", help="server processes sharing the port, one engine each, or 'auto' "
                   "(one per usable core); default 1 (memory: each worker holds its own model)")
    p.add_argument("--no-inference-thread", dest="inference_thread", action="store_false", default=None,
                   help="run the engine on each worker's event-loop thread (no thread hand-off; "
                        "the default with 2+ workers)")
    p.add_argument("--inference-thread", dest="inference_thread", action="store_true", default=None,
                   help="run the engine in a thread of its own (the default with one worker)")
    p.add_argument("--max-batch", type=int, help="windows per micro-batch; 1 = batching off (default 32)")
    p.add_argument("--batch-wait-ms", type=float, help="longest wait to fill a micro-batch (default 2)")
    p.add_argument("--max-windows", type=int, help="windows per /infer/batch request (default 256)")
    p.add_argument("--max-queue", type=int, help="queued requests before 503 (default 256)")
    p.add_argument("--max-inflight", type=int, help="requests one worker holds at once before it answers "
                   "503 + Retry-After on arrival (default: no limit)")
    p.add_argument("--timeout-s", dest="request_timeout_s", type=float, help="per-request timeout (default 10)")
    p.add_argument("--header-timeout-s", type=float,
                   help="close a connection whose request headers take longer (default 10)")
    p.add_argument("--body-timeout-s", type=float, help="408 for a request body that takes longer (default 30)")
    p.add_argument("--api-key", dest="api_keys", action="append", help="accepted X-API-Key (repeatable; default: none, loopback only)")
    p.add_argument("--no-limits", dest="check_limits", action="store_false", default=None,
                   help="do not refuse values beyond the physical limits (default: refuse them)")
    p.add_argument("--log-level", default="warning", help="uvicorn log level (default warning)")
    p.set_defaults(func=run)


def build_settings(args: argparse.Namespace):
    """ServeSettings from flags over environment; pydantic's refusal becomes one TcnvaeError line."""
    from pydantic import ValidationError

    from tcnvae.errors import TcnvaeError
    from tcnvae.serve.sidecar.settings import ServeSettings

    keys = ("ref", "models", "host", "port", "backend", "threads", "device", "precision", "workers",
            "inference_thread", "max_batch", "batch_wait_ms", "max_windows", "max_queue", "max_inflight",
            "request_timeout_s", "header_timeout_s", "body_timeout_s", "api_keys", "check_limits")
    given = {k: getattr(args, k) for k in keys if getattr(args, k, None) is not None}
    if "api_keys" in given:
        given["api_keys"] = tuple(given["api_keys"])
    try:
        return ServeSettings(**given)
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(map(str, err['loc'])) or 'settings'}: {err['msg']}" for err in e.errors())
        raise TcnvaeError(f"invalid settings: {problems}") from None


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from tcnvae.registry.store import Registry
    from tcnvae.serve.http.server import uvicorn_config
    from tcnvae.serve.sidecar.app import create_app

    settings = build_settings(args)
    if settings.backend == "torch":  # the edge install has no torch: say so before binding, in one line
        from tcnvae.extras import require

        require("torch", "--backend torch")
    release = Registry(settings.models).open(settings.ref, verify=True)  # fail fast, before binding
    if settings.precision == "int8":
        from tcnvae.runtime.precision import int8_gate

        int8_gate(release.export_dir)  # refuses with the out-of-bound numbers
    print(f"tcnvae serve: {release.ref} on http://{settings.host}:{settings.port} "
          f"({settings.backend} {settings.precision}, {settings.workers} worker(s) x {settings.threads} thread(s), "
          f"max batch {settings.max_batch})", file=sys.stderr)
    options = dict(access_log=False, log_level=args.log_level,
                   timeout_graceful_shutdown=int(settings.drain_timeout_s) or None)
    if settings.workers > 1:
        from tcnvae.serve.sidecar.workers import run_workers

        return run_workers(settings, options)
    server = uvicorn.Server(uvicorn_config(create_app(settings), settings.host, settings.port,
                                           settings.header_timeout_s, **options))
    server.run()
    # uvicorn returns normally when start-up failed (e.g. the model did not load): say so in the code.
    return 0 if server.started else 3
