"""Fixed-size labelled windows cut from canonical recordings, and the WindowSet that holds them.

With purity=1 (the default) windows are cut inside each contiguous run of one label
(the HAPT protocol: "windows cut inside each labelled segment"), so every kept window is
pure and never touches an unlabelled (-1) sample. With purity<1 windows slide over the whole
recording and keep the majority label when its share is at least `purity`.

With unlabelled=True the windows of unlabelled stretches are kept too, with y = -1: inside each
run of -1 (purity=1), or every window whose majority share falls short (purity<1). They train
the VAE and the motif prototypes but never the activity head.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tcnvae.contract import N_CHANNELS, STRIDE, WINDOW
from tcnvae.data.recording import Recording


@dataclass
class WindowSet:
    x: np.ndarray  # float32 [N, WINDOW, 9]
    y: np.ndarray  # int64 [N], index into label_names
    subject: np.ndarray  # str [N]
    domain: np.ndarray  # str [N]
    present: np.ndarray  # bool [9], union over the recordings
    label_names: tuple[str, ...]

    def __len__(self) -> int:
        return int(len(self.y))

    def select(self, mask: np.ndarray) -> "WindowSet":
        """The windows picked by a boolean mask or an index array."""
        return WindowSet(self.x[mask], self.y[mask], self.subject[mask], self.domain[mask],
                         self.present.copy(), self.label_names)

    def subjects(self) -> list[str]:
        """Distinct subjects in natural order ("s:2" before "s:10")."""
        return sorted(set(self.subject.tolist()), key=natural_key)

    @property
    def labelled(self) -> np.ndarray:
        """bool [N]: the window has a label (y >= 0); unlabelled windows have y = -1."""
        return self.y >= 0

    def class_counts(self) -> dict[str, int]:
        """Labelled windows per class name, every class listed (zero included)."""
        counts = np.bincount(self.y[self.y >= 0], minlength=len(self.label_names))
        return {n: int(c) for n, c in zip(self.label_names, counts)}


def natural_key(s: str) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)]


def label_run_starts(labels: np.ndarray, size: int, stride: int, grid: str, unlabelled: bool = False) -> np.ndarray:
    """Window starts inside each run of one label (>= 0; also -1 with `unlabelled`), vectorised over runs.

    grid="segment": the first window starts at the run start; grid="recording": starts lie on
    the recording-wide grid 0, stride, 2*stride, ... (sliding over the whole recording and
    keeping pure windows; this reproduces REFERENCE.md's HAPT counts exactly).
    """
    change = np.flatnonzero(np.diff(labels)) + 1
    a = np.concatenate([[0], change])
    b = np.concatenate([change, [len(labels)]])
    run_label = labels[a]
    if grid == "recording":
        a = -(-a // stride) * stride
    keep = ((run_label >= 0) | unlabelled) & (b - a >= size)
    a, b = a[keep], b[keep]
    n = (b - a - size) // stride + 1
    if n.sum() == 0:
        return np.zeros(0, dtype=np.int64)
    first = np.repeat(np.cumsum(n) - n, n)
    return np.repeat(a, n) + stride * (np.arange(n.sum()) - first)


def _majority_starts(
    labels: np.ndarray, size: int, stride: int, purity: float, unlabelled: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    starts = np.arange(0, len(labels) - size + 1, stride)
    lw = sliding_window_view(labels, size)[starts]  # [n, size]
    classes = np.unique(labels[labels >= 0])
    if len(starts) == 0 or (len(classes) == 0 and not unlabelled):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if len(classes) == 0:
        return starts, np.full(len(starts), -1, dtype=np.int64)
    counts = (lw[:, :, None] == classes[None, None, :]).sum(axis=1)  # [n, classes]
    best = counts.argmax(axis=1)
    ok = counts[np.arange(len(starts)), best] >= purity * size
    if unlabelled:
        return starts, np.where(ok, classes[best], -1)
    return starts[ok], classes[best[ok]]


def _label_union(recordings: list[Recording]) -> tuple[tuple[str, ...], list[np.ndarray]]:
    names: list[str] = []
    for r in recordings:
        names += [n for n in r.label_names if n not in names]
    maps = [np.array([names.index(n) for n in r.label_names], dtype=np.int64) for r in recordings]
    return tuple(names), maps


def make_windows(
    recordings: list[Recording], size: int = WINDOW, stride: int = STRIDE, purity: float = 1.0,
    grid: str = "segment", unlabelled: bool = False, shift: int = 0,
) -> WindowSet:
    """Cut windows [N, size, 9] per recording; unlabelled windows are dropped unless `unlabelled`
    (then they are kept with y = -1, in time order beside the labelled ones).

    shift != 0: the same windows in the same order with the same labels, each cut `shift` samples
    later (earlier if negative), clipped to its recording: the neighbours that test-time
    averaging adds (`tcnvae evaluate --average-shifts`). A shifted window may reach into the next
    activity, as a live host's neighbouring windows do.

    purity=1: windows inside each run of one label, starting at the run start
    (grid="segment") or on the recording-wide stride grid (grid="recording").
    Recordings with different class sets get the union of names (first-seen order).
    """
    if not 0.0 < purity <= 1.0:
        raise ValueError(f"purity must be in (0, 1], got {purity}")
    if grid not in ("segment", "recording"):
        raise ValueError(f"grid must be 'segment' or 'recording', got {grid!r}")
    names, maps = _label_union(recordings)
    xs, ys, subj, dom = [], [], [], []
    present = np.zeros(N_CHANNELS, dtype=bool)
    for rec, remap in zip(recordings, maps):
        present |= rec.present
        if len(rec) < size:
            continue
        if purity >= 1.0:
            starts = label_run_starts(rec.labels, size, stride, grid, unlabelled)
            lab = rec.labels[starts]
        else:
            starts, lab = _majority_starts(rec.labels, size, stride, purity, unlabelled)
        view = sliding_window_view(rec.signals, size, axis=0)  # [T-size+1, 9, size], no copy
        xs.append(view[np.clip(starts + shift, 0, len(rec) - size)].transpose(0, 2, 1))
        ys.append(np.where(lab >= 0, remap[np.maximum(lab, 0)], -1) if len(remap) else lab)
        subj.append(np.full(len(starts), rec.subject))
        dom.append(np.full(len(starts), rec.domain))
    if not xs:
        return WindowSet(np.zeros((0, size, N_CHANNELS), np.float32), np.zeros(0, np.int64),
                         np.zeros(0, str), np.zeros(0, str), present, names)
    return WindowSet(
        x=np.ascontiguousarray(np.concatenate(xs), dtype=np.float32),
        y=np.concatenate(ys).astype(np.int64), subject=np.concatenate(subj),
        domain=np.concatenate(dom), present=present, label_names=names)
