"""The export error: a release that cannot be exported, or an export that fails its own checks."""

from __future__ import annotations

from tcnvae.errors import TcnvaeError


class ExportError(TcnvaeError):
    """Export refused or failed; the message names the release file or the parity bound at fault."""
