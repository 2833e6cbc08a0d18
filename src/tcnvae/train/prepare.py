"""From dataset names to normalized-ready train / validation / test windows, split by subject.

Test subjects are the ones a person named (`test_subjects`, `--test-subjects`), else each
source's default: its official split, or a CSV folder's meta.json `test_subjects`. Validation
subjects are held out of the training subjects (never the test ones) for early stopping. The normalizer is fitted on the
training windows only.

With `unlabelled` the windows of unlabelled stretches (y = -1) join the training and validation
windows: they train the VAE and the motif prototypes, the labelled ones the activity head too.
A dataset without any label gives a motif-only model (no activity head). Test windows stay
labelled only: they are for scoring.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from tcnvae.contract import WINDOW
from tcnvae.data.dataset import default_test_subjects, load_recordings
from tcnvae.data.errors import DataError
from tcnvae.data.normalize import Normalizer
from tcnvae.data.splits import assign_subjects, leave_subjects_out, validation_subjects
from tcnvae.data.taxonomy import canonical_label
from tcnvae.data.window_cache import load_windows
from tcnvae.data.windows import WindowSet, make_windows, natural_key
from tcnvae.errors import one_of
from tcnvae.train.config import ConfigError, TrainConfig

log = logging.getLogger(__name__)


@dataclass
class Prepared:
    train: WindowSet
    val: WindowSet
    test: WindowSet | None
    normalizer: Normalizer
    label_names: tuple[str, ...]
    domain_names: tuple[str, ...]
    sources: dict[str, list[str]]  # which source contributed which labels
    subjects: dict[str, list[str]]  # split -> subjects


def _concat(parts: list[WindowSet], names: tuple[str, ...]) -> WindowSet:
    """Concatenate window sets whose labels were already remapped into `names`."""
    return WindowSet(
        x=np.concatenate([p.x for p in parts]), y=np.concatenate([p.y for p in parts]),
        subject=np.concatenate([p.subject for p in parts]), domain=np.concatenate([p.domain for p in parts]),
        present=np.logical_or.reduce([p.present for p in parts]), label_names=names)


def _relabel(ws: WindowSet, source: str, multi: bool, union: list[str]) -> WindowSet:
    mapped = [canonical_label(source, n) if multi else n for n in ws.label_names]
    for n in mapped:
        if n not in union:
            union.append(n)
    lut = np.array([union.index(n) for n in mapped] + [-1], dtype=np.int64)  # lut[-1]: unlabelled stays -1
    return WindowSet(ws.x, lut[ws.y] if len(ws.y) else ws.y, ws.subject, ws.domain, ws.present, tuple(union))


def _keep_classes(ws: WindowSet, classes: tuple[str, ...]) -> WindowSet:
    unknown = [c for c in classes if c not in ws.label_names]
    if unknown:
        raise ConfigError(f"classes: {one_of(unknown, 'and')} not in the data's labels; "
                          f"choose from {one_of(ws.label_names)}")
    old = [ws.label_names.index(c) for c in classes]
    lut = np.full(len(ws.label_names) + 1, -1, dtype=np.int64)  # lut[-1]: unlabelled stays -1
    lut[old] = np.arange(len(classes))
    y = lut[ws.y]
    keep = (y >= 0) | (ws.y < 0)  # other classes leave; unlabelled windows stay unlabelled
    return WindowSet(ws.x[keep], y[keep], ws.subject[keep], ws.domain[keep], ws.present, tuple(classes))


def prepare(cfg: TrainConfig, data_dir=None) -> Prepared:
    multi = len(cfg.data) > 1
    union: list[str] = []
    trains, tests, sources = [], [], {}
    windows = {}
    for name in cfg.data:
        ws = load_windows(name, data_dir, WINDOW, cfg.stride, unlabelled=cfg.unlabelled)
        if not cfg.unlabelled and not ws.labelled.any():
            # Perhaps no label at all: then its unlabelled windows train a motif-only model.
            every = load_windows(name, data_dir, WINDOW, cfg.stride, unlabelled=True)
            if not every.labelled.any():
                log.info("%s has no labels at all: its unlabelled windows train a motif-only model", name)
                ws = every
        windows[name] = ws
    held = heldout_subjects(windows, cfg.test_subjects, data_dir, use_defaults=cfg.test_split == "official")
    for name, ws in windows.items():
        ws = _relabel(ws, name, multi, union)
        sources[name] = sorted({ws.label_names[i] for i in np.unique(ws.y[ws.labelled])})
        if name in held:
            tr, te = leave_subjects_out(ws, held[name])
            if not len(tr):
                raise ConfigError(f"test_subjects hold out every subject of {name}; nothing is left to train on")
            trains.append(tr)
            tests.append(te)
        else:
            trains.append(ws)
    names = tuple(union)
    train = _concat(trains, names)
    test = _concat(tests, names) if tests else None
    if test is not None:
        test = test.select(test.labelled)  # scoring needs labels
    if cfg.classes:
        train = _keep_classes(train, cfg.classes)
        test = _keep_classes(test, cfg.classes) if test is not None else None
        names = cfg.classes
    train_subjects = train.subjects()
    if cfg.val_subjects == 0:  # refit: every training subject fits, no early stopping
        log.info("val_subjects=0: all %d training subjects fit; the last epoch is kept", len(train_subjects))
        val_subjects: list[str] = []
    elif isinstance(cfg.val_subjects, float) and len(train_subjects) < 2:
        # a share (the default) of one subject: nobody to hold out, which is not the user's mistake
        log.warning("one training subject (%s): none can be held out for early stopping (val_subjects=%g); "
                    "it trains on all of it for the full epoch budget and keeps the last epoch, as "
                    "--val-subjects 0 would", ", ".join(train_subjects), cfg.val_subjects)
        val_subjects = []
    elif isinstance(cfg.val_subjects, int) and cfg.val_subjects >= len(train_subjects):
        raise ConfigError(f"--val-subjects {cfg.val_subjects}: there are only {len(train_subjects)} training "
                          f"subjects ({', '.join(train_subjects)}) and at least one must be left to train on; "
                          f"give fewer, or 0 to train on all of them without early stopping")
    else:
        val_subjects = validation_subjects(train_subjects, cfg.val_subjects, cfg.seed)[1]
    fit, val = leave_subjects_out(train, val_subjects)
    if not fit.labelled.any():
        if len(fit) == 0:
            raise ConfigError(f"no training windows in {list(cfg.data)}")
        log.info("no labelled training window: a motif-only model (latent + motif scores, no activity head)")
        names = ()
        fit, val = _without_labels(fit), _without_labels(val)
        test = None
    elif not fit.labelled.all():
        log.info("unlabelled windows: %d of %d training windows (VAE + motifs only)",
                 int((~fit.labelled).sum()), len(fit))
    if cfg.max_train_windows and len(fit) > cfg.max_train_windows:
        pick = np.sort(np.random.default_rng(cfg.seed).choice(len(fit), cfg.max_train_windows, replace=False))
        fit = fit.select(np.isin(np.arange(len(fit)), pick))
    normalizer = Normalizer.fit(fit.x, fit.present)
    subjects = {"train": fit.subjects(), "validation": val.subjects(),
                "test": sorted({s for subs in held.values() for s in subs}, key=natural_key)}
    log.info("windows: train %d, validation %d, test %d", len(fit), len(val), len(test) if test else 0)
    return Prepared(fit, val, test, normalizer, names, tuple(sorted(cfg.data)), sources, subjects)


def _without_labels(ws: WindowSet) -> WindowSet:
    return WindowSet(ws.x, np.full(len(ws), -1, dtype=np.int64), ws.subject, ws.domain, ws.present, ())


def heldout_subjects(windows: dict[str, WindowSet], requested: tuple[str, ...] | list[str], data_dir=None,
                     use_defaults: bool = True) -> dict[str, list[str]]:
    """Test subjects per source: the `requested` ones (they override a source's default), else
    the source's default (official split, meta.json `test_subjects`). A source with neither is
    absent from the result, and a warning says how to hold subjects out."""
    held = assign_subjects(requested, {n: ws.subjects() for n, ws in windows.items()})
    for name, ws in windows.items():
        if name in held:
            log.info("%s: test subjects %s (given)", name, ", ".join(held[name]))
            continue
        default = default_test_subjects(name, data_dir) if use_defaults else None
        if default:
            held[name] = default
        else:
            log.warning("%s has no official split and no test subjects: all its %d subjects train and none is "
                        "held out for testing; pass --test-subjects A,B (or test_subjects in the config or "
                        "in meta.json), or cross-validate with `tcnvae cv`", name, len(ws.subjects()))
    return held


def split_windows(data: tuple[str, ...], label_names: tuple[str, ...], split: str, data_dir=None,
                  stride: int | None = None, test_subjects: tuple[str, ...] | list[str] = (),
                  shift: int = 0) -> tuple[WindowSet, WindowSet]:
    """(windows of `split`, training windows) labelled in a model's label order, for evaluation.

    Test subjects are `test_subjects` (a name per subject, e.g. the ones a run recorded) for the
    sources they belong to, else each source's default. Windows whose label the model does not
    know are dropped (e.g. transitions for a 6-class model). `shift`: the same windows, each cut
    that many samples later (see `make_windows`), for test-time averaging.
    """
    from tcnvae.contract import STRIDE

    multi = len(data) > 1
    union: list[str] = []
    evals, trains = [], []
    # shifted sets are not cached: used once, each would add a copy of the dataset's windows on disk
    windows = {name: make_windows(load_recordings(name, data_dir), WINDOW, stride or STRIDE, shift=shift) if shift
               else load_windows(name, data_dir, WINDOW, stride or STRIDE) for name in data}
    held = {} if split == "all" else assign_subjects(test_subjects, {n: ws.subjects() for n, ws in windows.items()})
    for name, raw in windows.items():
        ws = _relabel(raw, name, multi, union)
        if split == "all":
            evals.append(ws)
            continue
        if name not in held:
            held[name] = default_test_subjects(name, data_dir) or []
        if not held[name]:
            raise DataError(f"dataset {name!r} has no official split and this model recorded no test subjects: "
                            f"pass --test-subjects A,B (subjects the model never trained on; train with "
                            f"`tcnvae train --test-subjects A,B` to hold them out), or use --split all",
                            field="split")
        tr, te = leave_subjects_out(ws, held[name])
        evals.append(te if split == "test" else tr)
        trains.append(tr)
    known = [c for c in label_names if c in union]
    if not known:
        raise ConfigError(f"none of the model's labels ({one_of(label_names, 'and')}) occur in "
                          f"{one_of(data, 'and')}, whose labels are {one_of(union, 'and')}")
    ev = _keep_model_labels(_concat(evals, tuple(union)), label_names)
    tr = _keep_model_labels(_concat(trains, tuple(union)), label_names) if trains else None
    return ev, tr


def shifted_windows(data: tuple[str, ...], label_names: tuple[str, ...], split: str, offsets: list[int],
                    data_dir=None, stride: int | None = None, test_subjects: tuple[str, ...] | list[str] = ()
                    ) -> dict[int, WindowSet]:
    """{offset: the `split_windows` evaluation windows, each cut `offset` samples later}: the
    neighbours that test-time averaging adds (`evaluate_model(shifted=...)`)."""
    return {d: split_windows(data, label_names, split, data_dir, stride, test_subjects, shift=d)[0] for d in offsets}


def adaptation_windows(data: tuple[str, ...], subjects: list[str], data_dir=None, stride: int | None = None
                       ) -> dict[str, np.ndarray]:
    """{subject: every window of that subject's recordings, every `stride` samples, labelled or
    not}: what AdaBN re-estimates a new wearer's BatchNorm statistics on (labels unused)."""
    from numpy.lib.stride_tricks import sliding_window_view

    from tcnvae.contract import STRIDE

    found: dict[str, list[np.ndarray]] = {}
    for name in data:
        for rec in load_recordings(name, data_dir):
            if rec.subject in subjects and len(rec) >= WINDOW:
                found.setdefault(rec.subject, []).append(
                    sliding_window_view(rec.signals, WINDOW, axis=0)[::stride or STRIDE].transpose(0, 2, 1))
    return {s: np.ascontiguousarray(np.concatenate(v), dtype=np.float32) for s, v in found.items()}


def _keep_model_labels(ws: WindowSet, label_names: tuple[str, ...]) -> WindowSet:
    lut = np.array([label_names.index(n) if n in label_names else -1 for n in ws.label_names], dtype=np.int64)
    y = lut[ws.y]
    keep = y >= 0
    return WindowSet(ws.x[keep], y[keep], ws.subject[keep], ws.domain[keep], ws.present, tuple(label_names))
