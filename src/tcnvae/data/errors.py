"""The one exception type for data a user can get wrong (files, lines, fields).

The CLI turns a DataError into one line on stderr and exit status 1.
"""

from __future__ import annotations

from pathlib import Path

from tcnvae.errors import TcnvaeError


class DataError(TcnvaeError):
    """Bad or missing data. The message names the file and, where known, the line and field."""

    def __init__(
        self,
        message: str,
        path: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        self.field = field
        where = ""
        if self.path is not None:
            where = self.path + (f":{line}" if line is not None else "")
        if field is not None:
            where = f"{where} [{field}]" if where else f"[{field}]"
        super().__init__(f"{where}: {message}" if where else message)

    def relocated(self, old: str | Path, new: str) -> "DataError":
        """The same error with a path under `old` (a staging copy) shown under `new`."""
        path = self.path
        if path is not None and path.startswith(str(old)):
            path = new + path[len(str(old)):]
        return DataError(self.message, path, self.line, self.field)
