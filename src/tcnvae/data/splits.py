"""Subject-wise splits: no subject's windows ever appear on both sides of a split.

Random window splits leak subjects and overlapping windows (results look 5-10 points better
than they are), so every split here is by subject.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from tcnvae.data.errors import DataError
from tcnvae.data.sources import get_source
from tcnvae.data.windows import WindowSet, natural_key

log = logging.getLogger(__name__)


def official_split(source_name: str) -> tuple[list[str], list[str]]:
    """(train subjects, test subjects) of a source's published (or documented fixed) split."""
    split = get_source(source_name).official_split()
    if split is None:
        raise DataError(f"dataset {source_name!r} has no official split; hold subjects out with "
                        f"--test-subjects A,B (train and evaluate) or cross-validate with `tcnvae cv`", field="split")
    return split


def assign_subjects(requested: Sequence[str], available: dict[str, Sequence[str]],
                    field: str = "test_subjects") -> dict[str, list[str]]:
    """Map subject names a person typed to each source's subject ids.

    A name is either qualified ("csv:alice", as `inspect` lists them) or bare ("alice"); a bare
    name must belong to exactly one of the sources in `available` (source -> its subject ids).
    """
    out: dict[str, list[str]] = {}
    for token in (t.strip() for t in requested):
        if not token:
            continue
        hits = [n for n, subs in available.items() if token in subs]
        hits = hits or [n for n, subs in available.items() if f"{n}:{token}" in subs]
        if not hits:
            known = sorted({s for subs in available.values() for s in subs}, key=natural_key)
            shown = ", ".join(known[:40]) + (f", ... ({len(known)} in all)" if len(known) > 40 else "")
            raise DataError(f"{token!r} is not a subject of {', '.join(available)} (subjects: {shown})",
                            field=field)
        if len(hits) > 1:
            raise DataError(f"{token!r} is a subject of several datasets ({', '.join(hits)}); "
                            f"write it as {hits[0]}:{token}", field=field)
        full = token if token in available[hits[0]] else f"{hits[0]}:{token}"
        if full not in out.setdefault(hits[0], []):
            out[hits[0]].append(full)
    return out


def leave_subjects_out(ws: WindowSet, test_subjects: Sequence[str]) -> tuple[WindowSet, WindowSet]:
    """(train, test): test holds the windows of `test_subjects`, train all the others."""
    test_subjects = list(test_subjects)
    missing = sorted(set(test_subjects) - set(ws.subject.tolist()), key=natural_key)
    if missing:
        log.warning("test subjects without windows: %s", ", ".join(missing))
    mask = np.isin(ws.subject, test_subjects)
    return ws.select(~mask), ws.select(mask)


def kfold_by_subject(ws: WindowSet, k: int, seed: int = 0) -> list[tuple[list[str], list[str]]]:
    """k folds of (train subjects, test subjects); each subject is tested exactly once.

    Feed a fold to `leave_subjects_out(ws, test)`.
    """
    return kfold_subjects(ws.subjects(), k, seed)


def kfold_subjects(subjects: Sequence[str], k: int, seed: int = 0) -> list[tuple[list[str], list[str]]]:
    """k folds of (train subjects, test subjects) of `subjects`, shuffled by `seed`; k equal to the
    number of subjects is leave-one-subject-out."""
    subjects = sorted(set(subjects), key=natural_key)
    if not 2 <= k <= len(subjects):
        raise DataError(f"k={k} must be between 2 and the number of subjects ({len(subjects)})", field="k")
    order = np.random.default_rng(seed).permutation(len(subjects))
    folds = [sorted((subjects[i] for i in part), key=natural_key) for part in np.array_split(order, k)]
    return [([s for s in subjects if s not in fold], fold) for fold in folds]


def validation_subjects(
    train_subjects: Sequence[str], n_or_frac: int | float, seed: int = 0
) -> tuple[list[str], list[str]]:
    """(fit subjects, validation subjects) held out of the training subjects for early stopping.

    An int picks that many subjects; a float in (0, 1) that share (at least one).
    """
    subjects = sorted(set(train_subjects), key=natural_key)
    if isinstance(n_or_frac, float) and 0.0 < n_or_frac < 1.0:
        n = max(1, int(round(n_or_frac * len(subjects))))
    elif isinstance(n_or_frac, int) and not isinstance(n_or_frac, bool) and n_or_frac >= 1:
        n = n_or_frac
    else:
        raise DataError(f"n_or_frac must be an int >= 1 or a float in (0, 1), got {n_or_frac!r}",
                        field="n_or_frac")
    if n >= len(subjects):
        raise DataError(f"cannot hold out {n} of {len(subjects)} training subjects", field="n_or_frac")
    picked = set(np.random.default_rng(seed).choice(subjects, size=n, replace=False).tolist())
    return [s for s in subjects if s not in picked], [s for s in subjects if s in picked]


def domain_index(names: Sequence[str]) -> tuple[np.ndarray, tuple[str, ...]]:
    """Per-window domain strings -> (int64 ids, the sorted domain names the ids index)."""
    domains, ids = np.unique(np.asarray(names, dtype=str), return_inverse=True)
    return ids.astype(np.int64), tuple(domains.tolist())
