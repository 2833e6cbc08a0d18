"""The stream wire protocol: the open message, sample chunks, and the close codes.

Client -> server, in order:

    {"type": "open", "rate_hz": 50, "channels": ["ax", "ay", "az"], "units": {"acc": "g"},
     "latent": false, "stride": 50}                  # stride etc. optional (AnalysisConfig)
    {"type": "samples", "samples": [[ax, ay, az], ...], "t": 12.34}   # t optional: first row's time
    <binary frame>: little-endian float32 rows, len(channels) values each, no header
    {"type": "end"}                                  # flush: the tail windows, the last segments

Server -> client: {"type": "opened", ...}, {"type": "window", ...} per window,
{"type": "segment", "kind": "activity"|"motifs", ...} as segments close, {"type": "end", ...}
before a normal close (1000); before any other close an {"type": "error", "code", "error"}
message says why in full (a close frame's reason holds only 123 bytes).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import orjson

from tcnvae.analysis.errors import AnalysisInputError
from tcnvae.analysis.live import StreamSpec
from tcnvae.analysis.pipeline import AnalysisConfig

# WebSocket close codes (RFC 6455 + the 4000-4999 private range), one meaning each.
NORMAL = 1000  # the client sent "end" and got every result
GOING_AWAY = 1001  # the server is shutting down
POLICY = 1008  # missing or unknown API key
TOO_BIG = 1009  # a frame or chunk over the size limit
INTERNAL = 1011  # the server failed (never the client's input)
TRY_AGAIN = 1013  # too many concurrent streams, or the model is not loaded yet (the 503 of streams)
BAD_OPEN = 4400  # the open message is missing or wrong (rate, channels, units, options)
IDLE = 4408  # nothing received within the idle timeout
BAD_SAMPLES = 4422  # wrong channel count, non-numeric, beyond physical limits, time going backwards
CLOSE_CODES = {NORMAL: "normal", GOING_AWAY: "going away", POLICY: "policy (API key)", TOO_BIG: "too big",
               INTERNAL: "internal error", TRY_AGAIN: "try again later", BAD_OPEN: "bad open message",
               IDLE: "idle timeout", BAD_SAMPLES: "bad samples"}

OPTIONS = {"stride", "smooth_windows", "min_dwell_s", "confidence_threshold"}  # AnalysisConfig fields
OPEN_KEYS = {"type", "rate_hz", "channels", "units", "latent"} | OPTIONS
INTEGER_OPTIONS = {"stride", "smooth_windows"}
MAX_REASON_BYTES = 123


class StreamError(Exception):
    """Ends a stream with a close code and a message for the client."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass(frozen=True)
class Opening:
    spec: StreamSpec
    config: AnalysisConfig
    latent: bool


@dataclass(frozen=True)
class Chunk:
    rows: np.ndarray | None  # [n, channels] float64; None for "end"
    t: float | None = None

    @property
    def end(self) -> bool:
        return self.rows is None


def close_reason(message: str) -> str:
    """A close frame's reason: at most 123 bytes of UTF-8."""
    data = message.encode("utf-8")[:MAX_REASON_BYTES]
    return data.decode("utf-8", errors="ignore")


def parse_open(text: str | None, base: AnalysisConfig) -> Opening:
    """The first message -> Opening; StreamError(BAD_OPEN) naming the field otherwise."""
    if text is None:
        raise StreamError(BAD_OPEN, "the first message must be a JSON text frame "
                                    '{"type": "open", "rate_hz": ..., "channels": [...]}')
    doc = _json(text, BAD_OPEN)
    if not isinstance(doc, dict) or doc.get("type") != "open":
        raise StreamError(BAD_OPEN, 'the first message must be {"type": "open", ...}')
    unknown = sorted(set(doc) - OPEN_KEYS)
    if unknown:
        raise StreamError(BAD_OPEN, f"unknown keys {unknown} in the open message (allowed: {sorted(OPEN_KEYS)})")
    for key in ("rate_hz", "channels"):
        if key not in doc:
            raise StreamError(BAD_OPEN, f"the open message needs {key!r}")
    rate, channels, units = doc["rate_hz"], doc["channels"], doc.get("units") or {}
    if not isinstance(rate, (int, float)) or isinstance(rate, bool):
        raise StreamError(BAD_OPEN, f"rate_hz must be a number of Hz, got {rate!r}")
    if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
        raise StreamError(BAD_OPEN, "channels must be a list of names such as [\"ax\", \"ay\", \"az\"]")
    if not isinstance(units, dict):
        raise StreamError(BAD_OPEN, 'units must be an object such as {"acc": "g", "gyro": "deg/s"}')
    if not isinstance(doc.get("latent", False), bool):
        raise StreamError(BAD_OPEN, "latent must be true or false")
    overrides = {k: doc[k] for k in doc if k in OPTIONS}
    for key, value in overrides.items():
        kinds = (int,) if key in INTEGER_OPTIONS else (int, float)
        if type(value) not in kinds:
            raise StreamError(BAD_OPEN, f"{key} must be {'an integer' if key in INTEGER_OPTIONS else 'a number'}, "
                                        f"got {value!r}")
    try:
        spec = StreamSpec(float(rate), tuple(channels), dict(units))
        # Streams close segments as they go: the causal majority rule, never a whole-recording HMM,
        # and no averaging over shifted windows (it would wait for samples after each window).
        config = AnalysisConfig(**{**_config_dict(base), **overrides, "temporal": "majority",
                                   "average_shifts": ()})
    except (AnalysisInputError, TypeError) as exc:
        raise StreamError(BAD_OPEN, str(exc)) from None
    return Opening(spec, config, bool(doc.get("latent", False)))


def _config_dict(config: AnalysisConfig) -> dict:
    return {f.name: getattr(config, f.name) for f in fields(config)}


def parse_chunk(message: dict, n_channels: int, max_rows: int) -> Chunk:
    """One received frame -> Chunk; StreamError(BAD_SAMPLES / TOO_BIG) naming the row otherwise."""
    data = message.get("bytes")
    if data is not None:
        width = 4 * n_channels
        if len(data) % width:
            raise StreamError(BAD_SAMPLES, f"a binary chunk must be whole rows of {n_channels} little-endian "
                                           f"float32 values ({width} bytes), got {len(data)} bytes")
        rows = np.frombuffer(data, dtype="<f4").reshape(-1, n_channels).astype(np.float64)
        return Chunk(_bounded(rows, max_rows))
    doc = _json(message.get("text") or "", BAD_SAMPLES)
    kind = doc.get("type") if isinstance(doc, dict) else None
    if kind == "end":
        return Chunk(None)
    if kind != "samples":
        raise StreamError(BAD_SAMPLES, 'expected {"type": "samples", "samples": [[...], ...]}, '
                                       '{"type": "end"} or a binary frame of float32 rows')
    samples = doc.get("samples")
    if not isinstance(samples, list):
        raise StreamError(BAD_SAMPLES, "samples must be a list of rows")
    if len(samples) > max_rows:
        raise StreamError(TOO_BIG, f"a chunk holds at most {max_rows} rows, got {len(samples)}")
    rows = _fast_rows(message.get("text") or "", samples, n_channels)
    if rows is None:
        rows = _checked_rows(samples, n_channels)
    return Chunk(rows, doc.get("t"))


def _fast_rows(text: str, samples: list, n_channels: int) -> np.ndarray | None:
    """The common case in one numpy call: every value an int or float, every row complete.

    numpy alone would read a bool as 1.0 (JSON `true`/`false`), so any frame holding either
    word goes the slow way; strings, null and ragged rows give a non-numeric dtype, another
    shape or a ValueError here, and go the slow way too, which names the first bad value."""
    if "true" in text or "false" in text:
        return None
    try:
        arr = np.array(samples)
    except ValueError:
        return None
    if arr.dtype.kind not in "if" or arr.shape != (len(samples), n_channels):
        return None
    return arr.astype(np.float64)


def _checked_rows(samples: list, n_channels: int) -> np.ndarray:
    """Row by row: StreamError(BAD_SAMPLES) naming the first row or value that is not a number."""
    for i, row in enumerate(samples):
        if not isinstance(row, list) or len(row) != n_channels:
            got = len(row) if isinstance(row, list) else type(row).__name__
            raise StreamError(BAD_SAMPLES, f"samples[{i}] must be {n_channels} numbers (one per declared "
                                           f"channel), got {got}")
        for j, v in enumerate(row):
            if type(v) not in (int, float):  # bool, None and strings are not samples
                raise StreamError(BAD_SAMPLES, f"samples[{i}][{j}] is not a number: {v!r}")
    return np.array(samples, dtype=np.float64).reshape(-1, n_channels)


def _bounded(rows: np.ndarray, max_rows: int) -> np.ndarray:
    if len(rows) > max_rows:
        raise StreamError(TOO_BIG, f"a chunk holds at most {max_rows} rows, got {len(rows)}")
    return rows


def _json(text: str, code: int) -> object:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise StreamError(code, f"not valid JSON: {exc}") from None


def dumps(message: dict) -> str:
    return orjson.dumps(message, option=orjson.OPT_SERIALIZE_NUMPY).decode()
