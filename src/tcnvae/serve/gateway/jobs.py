"""Background processing of uploaded sessions: parse, window, model (sidecar or stub), analyse.

One session at a time (the work is CPU-bound on small machines); the CPU-heavy steps run in
a worker thread so the event loop keeps answering. Every outcome is written to the session
folder: results (done) or error.json (failed) — the upload itself is never touched.

No session stays `processing`: any exception marks it failed with its reason, and a watchdog
(`asyncio.wait_for`) fails a job that runs past `GATEWAY_SESSION_TIMEOUT_S`. A worker thread
cannot be killed, so the work itself is bounded first: the resampled length is capped by
`max_samples_for` before any resampling (the rate range is the data layer's).
"""

from __future__ import annotations

import asyncio
import logging

from tcnvae.analysis.artifacts import write_analysis
from tcnvae.analysis.errors import AnalysisInputError
from tcnvae.analysis.outputs import MalformedOutputs, concat_outputs
from tcnvae.analysis.pipeline import AnalysisConfig, checked_windows, summarize
from tcnvae.analysis.recording_io import RecordingMeta, json_to_csv, load_json_text, parse_csv_text
from tcnvae.analysis.stub import stub_outputs
from tcnvae.analysis.windows import AnalysisWindows
from tcnvae.data.recording import Recording
from tcnvae.serve.gateway.backend import ModelGateway
from tcnvae.serve.gateway.client import BackendRejected
from tcnvae.serve.gateway.metrics import GatewayMetrics
from tcnvae.serve.gateway.store import DONE, FAILED, SessionStore

log = logging.getLogger(__name__)


SAMPLES_PER_UPLOAD_BYTE = 4  # a 9-channel CSV row is ~80 bytes: even 1 Hz -> 100 Hz stays far below


def max_samples_for(upload_bytes: int, cap: int) -> int:
    """The most samples (after resampling) an upload of this size may become: the work stays
    proportional to what was sent, and never beyond `cap` (GATEWAY_MAX_SAMPLES)."""
    return min(cap, SAMPLES_PER_UPLOAD_BYTE * max(upload_bytes, 1))


def read_upload(store: SessionStore, sid: str, max_samples: int | None = None) -> Recording:
    """Parse a stored upload with the rate/units given at upload time (AnalysisInputError)."""
    req = store.request(sid)
    path = store.upload_path(sid)
    text = path.read_text(encoding="utf-8", errors="replace")
    if req.get("format") == "json":
        text, meta = json_to_csv(load_json_text(text))
    else:
        meta = RecordingMeta(req.get("rate_hz"), dict(req.get("units") or {}), unit_hint="query")
    limit = max_samples_for(path.stat().st_size, max_samples) if max_samples is not None else None
    return parse_csv_text(text, meta, name=req.get("filename") or sid, max_samples=limit)


class SessionRunner:
    def __init__(self, store: SessionStore, model: ModelGateway, config: AnalysisConfig,
                 metrics: GatewayMetrics, timeout_s: float = 300.0, max_samples: int | None = None) -> None:
        self.store, self.model, self.config, self.metrics = store, model, config, metrics
        self.timeout_s, self.max_samples = timeout_s, max_samples
        self._lock = asyncio.Semaphore(1)
        self._tasks: dict[str, asyncio.Task] = {}

    def submit(self, sid: str, recording: Recording | None = None) -> None:
        if sid in self._tasks:
            return
        task = asyncio.create_task(self._run(sid, recording), name=f"session-{sid}")
        self._tasks[sid] = task
        task.add_done_callback(lambda _t: self._tasks.pop(sid, None))

    def tracked(self, sid: str) -> bool:
        """Is a job queued or running for this session?"""
        return sid in self._tasks

    def recover(self) -> int:
        """Re-queue sessions left unfinished by a previous run."""
        pending = self.store.pending()
        for sid in pending:
            self.submit(sid)
        return len(pending)

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _run(self, sid: str, recording: Recording | None) -> None:
        async with self._lock:
            try:
                await asyncio.wait_for(self._process(sid, recording), self.timeout_s)
            except TimeoutError:
                log.warning("session %s ran past its budget of %g s; marked failed", sid, self.timeout_s)
                self._fail(sid, f"processing took longer than the budget of {self.timeout_s:g} s "
                                "(GATEWAY_SESSION_TIMEOUT_S); upload a shorter recording")
            except (AnalysisInputError, BackendRejected, MalformedOutputs) as exc:
                self._fail(sid, str(exc))
            except Exception as exc:  # noqa: BLE001 - recorded in the session, never lost
                log.exception("session %s failed", sid)
                self._fail(sid, internal_error(exc))

    async def _process(self, sid: str, recording: Recording | None) -> None:
        if recording is None:
            recording = await asyncio.to_thread(read_upload, self.store, sid, self.max_samples)
        windows = await asyncio.to_thread(checked_windows, recording, self.config)
        results = await self._analyse(recording, windows)
        await asyncio.to_thread(write_analysis, results, self.store.root / sid, False)
        self.metrics.sessions.labels(status=DONE).inc()
        log.info("session %s done (%s, %d windows)", sid, results["source"], len(windows))

    def _fail(self, sid: str, message: str) -> None:
        fail_session(self.store, self.metrics, sid, message)

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


def internal_error(exc: BaseException) -> str:
    """The reason stored for an unexpected exception (the traceback goes to the log)."""
    return f"internal error while processing: {type(exc).__name__}: {str(exc)[:300]}"


def fail_session(store: SessionStore, metrics: GatewayMetrics, sid: str, message: str) -> None:
    store.fail(sid, message)
    metrics.sessions.labels(status=FAILED).inc()
