"""`tcnvae stream FILE --url ws://...`: replay a recording to a live stream, print the ethogram live."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from tcnvae.errors import TcnvaeError

DEFAULT_URL = "ws://127.0.0.1:9000/v2/stream"


def register(sub) -> None:
    p = sub.add_parser("stream", help="replay a CSV/JSON recording to a live stream and print the ethogram as it closes",
                       description="Sends the recording at real time (or --speed N times faster) to a sidecar "
                                   "(/v2/stream) or gateway (/api/v1/analysis/stream) and prints each ethogram "
                                   "segment when it closes.")
    p.add_argument("recording", type=Path, help="a CSV file (documented format) or a JSON recording")
    p.add_argument("--url", default=DEFAULT_URL, help=f"stream endpoint (default {DEFAULT_URL}); "
                   "add ?record=true on the gateway to keep the stream as a session")
    p.add_argument("--speed", type=float, default=1.0, help="1 = real time (default), 10 = ten times faster, "
                   "0 = as fast as the server takes it")
    p.add_argument("--chunk-s", type=float, default=0.1, help="seconds of samples per message (default 0.1)")
    p.add_argument("--binary", action="store_true", help="send float32 frames instead of JSON")
    p.add_argument("--rate-hz", type=float, default=None, help="CSV rate when it has no t column")
    p.add_argument("--units", default=None, help="CSV units, e.g. acc:g,gyro:deg/s")
    p.add_argument("--stride", type=int, default=None, help="samples between windows (default: the server's)")
    p.add_argument("--api-key", default=None, help="X-API-Key for a server that requires one")
    p.add_argument("--windows", action="store_true", help="also print one line per window")
    p.set_defaults(func=run)


def _print_segment(msg: dict) -> None:
    print(f"{msg['t_start']:9.2f} s - {msg['t_end']:9.2f} s  {msg['kind']:<8} {msg['label']:<20} "
          f"{msg['duration_s']:7.1f} s", flush=True)


def _print_window(msg: dict) -> None:
    what = msg["activity"] or "-"
    print(f"  window {msg['index']:5d} at {msg['t_start']:9.2f} s  {what:<20} motif {msg['top_motif']:2d}  "
          f"{msg['source']}{' (' + msg['reason'] + ')' if msg.get('reason') else ''}", flush=True)


def run(args: argparse.Namespace) -> int:
    from tcnvae.analysis.recording_io import RecordingMeta, parse_units, read_native_rows
    from websockets.exceptions import InvalidHandshake, InvalidURI

    from tcnvae.serve.stream.client import Replay, StreamClosed, replay

    if args.speed < 0 or not 0 < args.chunk_s <= 10:
        raise TcnvaeError("--speed must be >= 0 and --chunk-s in (0, 10]")
    native = read_native_rows(args.recording, RecordingMeta(args.rate_hz, parse_units(args.units)))
    if not (native.rows == native.rows).all():  # NaN: a live stream sends only complete samples
        raise TcnvaeError(f"{args.recording}: has missing samples (blank cells); a stream sends only complete rows")
    job = Replay(native.rate_hz, native.channels, native.rows, native.units, chunk_s=args.chunk_s,
                 speed=args.speed, binary=args.binary,
                 options={"stride": args.stride} if args.stride else None)

    def show(msg: dict) -> None:
        kind = msg.get("type")
        if kind == "opened":
            print(f"stream {msg['stream']} open: {len(job.rows)} samples at {job.rate_hz:g} Hz "
                  f"({len(job.rows) / job.rate_hz:.1f} s), speed {args.speed:g}x"
                  + (f", recording as session {msg['session']}" if msg.get("session") else ""), flush=True)
        elif kind == "segment":
            _print_segment(msg)
        elif kind == "window" and args.windows:
            _print_window(msg)

    headers = {"X-API-Key": args.api_key} if args.api_key else None
    try:
        end = asyncio.run(replay(args.url, job, show, headers=headers))
    except StreamClosed as exc:
        raise TcnvaeError(str(exc)) from None
    except (OSError, InvalidHandshake, InvalidURI) as exc:
        raise TcnvaeError(f"cannot stream to {args.url}: {exc}") from None
    sources = ", ".join(f"{k} {v}" for k, v in end["sources"].items())
    print(f"{end['windows']} windows ({sources})" + (f"; session {end['session']}" if end.get("session") else ""))
    sys.stdout.flush()
    return 0
