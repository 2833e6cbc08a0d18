"""Background processing of uploaded sessions: parse, window, model (sidecar or stub), analyse.

One session at a time (the work is CPU-bound on small machines); the CPU-heavy steps run in
a worker thread so the event loop keeps answering. Every outcome is written to the session
folder: results (done) or error.json (failed) — the upload itself is never touched.
"""

from __future__ import annotations

import asyncio
import json
import logging


from tcnvae.analysis.artifacts import write_analysis
from tcnvae.analysis.errors import AnalysisInputError
from tcnvae.analysis.outputs import MalformedOutputs, concat_outputs
from tcnvae.analysis.pipeline import AnalysisConfig, checked_windows, summarize
from tcnvae.analysis.recording_io import RecordingMeta, json_to_csv, parse_csv_text
from tcnvae.analysis.stub import stub_outputs
from tcnvae.analysis.windows import AnalysisWindows
from tcnvae.data.recording import Recording
from tcnvae.serve.gateway.backend import ModelGateway
from tcnvae.serve.gateway.client import BackendRejected
from tcnvae.serve.gateway.metrics import GatewayMetrics
from tcnvae.serve.gateway.store import DONE, FAILED, SessionStore

log = logging.getLogger(__name__)


def read_upload(store: SessionStore, sid: str) -> Recording:
    """Parse a stored upload with the rate/units given at upload time (AnalysisInputError)."""
    req = store.request(sid)
    text = store.upload_path(sid).read_text(encoding="utf-8", errors="replace")
    if req.get("format") == "json":
        try:
            payload = json.loads(text)
        except ValueError as exc:
            raise AnalysisInputError(f"invalid JSON: {exc}") from None
        text, meta = json_to_csv(payload)
    else:
        meta = RecordingMeta(req.get("rate_hz"), dict(req.get("units") or {}), unit_hint="query")
    return parse_csv_text(text, meta, name=req.get("filename") or sid)


class SessionRunner:
    def __init__(self, store: SessionStore, model: ModelGateway, config: AnalysisConfig,
                 metrics: GatewayMetrics) -> None:
        self.store, self.model, self.config, self.metrics = store, model, config, metrics
        self._lock = asyncio.Semaphore(1)
        self._tasks: set[asyncio.Task] = set()

    def submit(self, sid: str, recording: Recording | None = None) -> None:
        task = asyncio.create_task(self._run(sid, recording), name=f"session-{sid}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def recover(self) -> int:
        """Re-queue sessions left unfinished by a previous run."""
        pending = self.store.pending()
        for sid in pending:
            self.submit(sid)
        return len(pending)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _run(self, sid: str, recording: Recording | None) -> None:
        async with self._lock:
            try:
                if recording is None:
                    recording = await asyncio.to_thread(read_upload, self.store, sid)
                windows = await asyncio.to_thread(checked_windows, recording, self.config)
                results = await self._analyse(recording, windows)
                await asyncio.to_thread(write_analysis, results, self.store.root / sid, False)
                self.metrics.sessions.labels(status=DONE).inc()
                log.info("session %s done (%s, %d windows)", sid, results["source"], len(windows))
            except (AnalysisInputError, BackendRejected, MalformedOutputs) as exc:
                self._fail(sid, str(exc))
            except Exception as exc:  # noqa: BLE001 - recorded in the session, never lost
                log.exception("session %s failed", sid)
                self._fail(sid, f"internal error while processing: {type(exc).__name__}: {exc}")

    def _fail(self, sid: str, message: str) -> None:
        self.store.fail(sid, message)
        self.metrics.sessions.labels(status=FAILED).inc()

    async def _analyse(self, recording: Recording, windows: AnalysisWindows) -> dict:
        parts, labels, source = [], (), "model"
        bs = self.config.batch_size
        for i in range(0, len(windows), bs):
            answer = await self.model.infer(windows.x[i:i + bs])
            if answer.source != "model":
                source = "stub"  # one coherent source per session: all stub once the model fails
                break
            parts.append(answer.outputs)
            labels = answer.labels or labels
        if source == "stub":
            parts = [await asyncio.to_thread(stub_outputs, windows.x)]
        elif not labels:
            labels = await self.model.client.labels()
        outputs = concat_outputs(parts, labels, source)
        return await asyncio.to_thread(summarize, recording, windows, outputs, self.config)


