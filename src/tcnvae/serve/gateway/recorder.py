"""`?record=true`: a live stream written down as a gateway session while it runs.

The rows are appended to the session's upload.csv exactly as received (declared channels and
units, one line per sample, flushed per chunk), so whatever arrived survives a client that
disconnects or a stream refused for bad input. When the stream ends, however it ends, the
session is analysed like an upload: fetch it from /api/v1/analysis/sessions/<id>.
"""

from __future__ import annotations

import asyncio
import logging
import os

import numpy as np

from tcnvae.serve.gateway.jobs import SessionRunner
from tcnvae.serve.gateway.store import SessionStore
from tcnvae.serve.stream.protocol import Opening

log = logging.getLogger(__name__)


class SessionRecorder:
    def __init__(self, store: SessionStore, runner: SessionRunner, opening: Opening) -> None:
        spec = opening.spec
        self.runner = runner
        self.session, path = store.open_stream({"rate_hz": spec.rate_hz, "units": dict(spec.units),
                                                "filename": "stream.csv", "stream": True})
        self._fh = open(path, "w", encoding="utf-8")
        self._fh.write(",".join(spec.channels) + "\n")
        self._fh.flush()
        self.rows = 0

    def write(self, rows: np.ndarray) -> None:
        # repr of a float64 reads back to the same float: the session sees the stream's numbers.
        self._fh.write("".join(",".join(map(repr, r)) + "\n" for r in rows.tolist()))
        self._fh.flush()
        self.rows += len(rows)

    async def finish(self) -> None:
        if self._fh.closed:
            return
        await asyncio.to_thread(self._close)
        log.info("stream recorded as session %s (%d rows)", self.session, self.rows)
        self.runner.submit(self.session)

    def _close(self) -> None:
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
