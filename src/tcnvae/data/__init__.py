"""Real IMU data: sources, fetching, caching, canonical recordings, windows, splits, normalization.

Everything here speaks the contract (`tcnvae.contract`): nine channels in SI units at RATE_HZ.
Nothing here knows about models.
"""

from tcnvae.data.dataset import inspect, list_sources, load_recordings
from tcnvae.data.errors import DataError
from tcnvae.data.fetch import FetchResult, data_root, fetch
from tcnvae.data.normalize import Normalizer
from tcnvae.data.recording import DropReport, Recording
from tcnvae.data.splits import (
    domain_index,
    kfold_by_subject,
    leave_subjects_out,
    official_split,
    validation_subjects,
)
from tcnvae.data.windows import WindowSet, make_windows

__all__ = [
    "DataError", "DropReport", "FetchResult", "Normalizer", "Recording", "WindowSet",
    "data_root", "domain_index", "fetch", "inspect", "kfold_by_subject", "leave_subjects_out",
    "list_sources", "load_recordings", "make_windows", "official_split", "validation_subjects",
]
