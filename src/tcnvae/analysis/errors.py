"""The error a user causes with a recording or an analysis request (bad file, too short, ...)."""

from __future__ import annotations

from tcnvae.errors import TcnvaeError


class AnalysisInputError(TcnvaeError, ValueError):
    """A recording or request that cannot be analysed; the message names the field, row or length."""
