"""Analysis sessions on disk: one folder per uploaded recording, never losing an upload.

    SESSIONS_DIR/<id>/upload.csv|upload.json   the upload, exactly as received (renamed in first)
    SESSIONS_DIR/<id>/request.json             how to read it (format, rate, units), when
                                               (a recorded stream writes it first, then upload.csv grows)
    SESSIONS_DIR/<id>/results.json             the analysis (written last: its presence = done)
    SESSIONS_DIR/<id>/ethogram.png
    SESSIONS_DIR/<id>/error.json               why processing failed (then status = failed)

An upload is streamed to SESSIONS_DIR/.incoming/ and renamed into its session folder before
anything else is written, so a crash leaves either no session or a complete upload that is
processed again on the next start (`pending`).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from tcnvae.analysis.artifacts import ETHOGRAM, RESULTS, atomic_write

INCOMING = ".incoming"
REQUEST = "request.json"
ERROR = "error.json"
FORMATS = ("csv", "json")
ID_RE = re.compile(r"^[0-9a-f]{32}$")
PROCESSING, DONE, FAILED = "processing", "done", "failed"


@dataclass(frozen=True)
class SessionInfo:
    id: str
    status: str
    created: float
    request: dict

    def to_dict(self) -> dict:
        return {"id": self.id, "status": self.status,
                "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.created)),
                "format": self.request.get("format"), "filename": self.request.get("filename")}


class SessionStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        (self.root / INCOMING).mkdir(parents=True, exist_ok=True)

    def clean_incoming(self) -> int:
        """At start-up no upload is in flight: partial files there were refused or interrupted."""
        stale = list((self.root / INCOMING).glob("*.part"))
        for path in stale:
            path.unlink(missing_ok=True)
        return len(stale)

    def incoming_file(self) -> Path:
        """A fresh temp file to stream an upload into (same filesystem as the sessions)."""
        fd, tmp = tempfile.mkstemp(dir=self.root / INCOMING, suffix=".part")
        os.close(fd)
        return Path(tmp)

    def commit(self, tmp: Path, fmt: str, request: dict) -> str:
        """Move a fully written upload into a new session folder; returns the session id."""
        if fmt not in FORMATS:
            raise ValueError(f"format must be one of {FORMATS}")
        sid = uuid.uuid4().hex
        folder = self.root / sid
        folder.mkdir()
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, folder / f"upload.{fmt}")
        req = {**request, "format": fmt, "created": time.time()}
        atomic_write(folder / REQUEST, json.dumps(req).encode())
        return sid

    def open_stream(self, request: dict) -> tuple[str, Path]:
        """A new session for a live stream: request.json now, the upload grows as samples arrive.

        Until the stream ends the session is `processing`; after a crash it is pending like
        any upload, so what was received is analysed on the next start."""
        sid = uuid.uuid4().hex
        folder = self.root / sid
        folder.mkdir()
        atomic_write(folder / REQUEST, json.dumps({**request, "format": "csv", "created": time.time()}).encode())
        return sid, folder / "upload.csv"

    def folder(self, sid: str) -> Path | None:
        """The session's folder, or None for an unknown or malformed id."""
        if not ID_RE.match(sid):
            return None
        folder = self.root / sid
        return folder if folder.is_dir() else None

    def upload_path(self, sid: str) -> Path:
        req = self.request(sid)
        return self.root / sid / f"upload.{req.get('format', 'csv')}"

    def request(self, sid: str) -> dict:
        try:
            return json.loads((self.root / sid / REQUEST).read_text())
        except (OSError, ValueError):  # a crash between the upload's rename and request.json
            upload = next((self.root / sid).glob("upload.*"), None)
            fmt = upload.suffix[1:] if upload is not None else "csv"
            return {"format": fmt, "created": (self.root / sid).stat().st_mtime}

    def status(self, sid: str) -> str:
        folder = self.root / sid
        if (folder / RESULTS).is_file():
            return DONE
        if (folder / ERROR).is_file():
            return FAILED
        return PROCESSING

    def info(self, sid: str) -> SessionInfo:
        req = self.request(sid)
        return SessionInfo(sid, self.status(sid), float(req.get("created", 0.0)), req)

    def list(self) -> list[SessionInfo]:
        """All sessions, oldest first."""
        found = [self.info(p.name) for p in self.root.iterdir() if p.is_dir() and ID_RE.match(p.name)]
        return sorted(found, key=lambda s: (s.created, s.id))

    def pending(self) -> list[str]:
        """Sessions with an upload but neither results nor an error: to (re)process."""
        return [s.id for s in self.list()
                if s.status == PROCESSING and any((self.root / s.id).glob("upload.*"))]

    def results(self, sid: str) -> dict:
        return json.loads((self.root / sid / RESULTS).read_text())

    def error(self, sid: str) -> str:
        try:
            return str(json.loads((self.root / sid / ERROR).read_text())["error"])
        except (OSError, ValueError, KeyError):
            return "processing failed"

    def ethogram_path(self, sid: str) -> Path:
        return self.root / sid / ETHOGRAM

    def fail(self, sid: str, message: str) -> None:
        atomic_write(self.root / sid / ERROR, json.dumps({"error": message}).encode())

    def latest_done(self) -> str | None:
        done = [s for s in self.list() if s.status == DONE]
        return done[-1].id if done else None
