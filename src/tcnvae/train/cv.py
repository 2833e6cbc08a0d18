"""Subject-wise k-fold cross-validation: K models, each tested on subjects it never saw.

The pieces are separate so that a benchmark can put other methods on the very same folds and
windows (e.g. MiniRocket beside the TCN-VAE, several seeds):

* `subject_folds` -> the folds (test subjects per fold; k = number of subjects is LOSO);
* `fold_config` -> the TrainConfig of one fold (its test subjects, no default split);
* `prepare(fold_config(...))` -> that fold's train / validation / test windows;
* `train_fold` -> one TCN-VAE trained and scored on a fold (its run directory kept);
* `fold_scores` -> the per-fold numbers of any method's predictions;
* `fold_test_windows` + `averaged_fold_scores` -> a fold model averaged over shifted test windows;
* `adapted_fold_scores` -> a fold model adapted to each test subject without labels (AdaBN);
* `summarize` -> mean ± sd over folds and the confusion matrix summed over folds.

`cross_validate` runs them all and writes `cv.json`, `confusion_matrix_cv.png` and one run
directory per fold (`fold-1/` ...); a fold whose run is complete is reused, so an interrupted
cross-validation continues where it stopped.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from tcnvae.contract import WINDOW
from tcnvae.data.dataset import load_recordings
from tcnvae.data.splits import kfold_subjects
from tcnvae.data.windows import WindowSet, make_windows
from tcnvae.evaluate import classification_metrics, plot_confusion
from tcnvae.train.config import ConfigError, TrainConfig
from tcnvae.train.run import train_run

log = logging.getLogger(__name__)
CV_FILE = "cv.json"


@dataclass(frozen=True)
class Fold:
    index: int  # 1-based, as the tables show it
    train_subjects: tuple[str, ...]
    test_subjects: tuple[str, ...]


def subject_folds(data: tuple[str, ...], k: int, seed: int = 0, stride: int = 50,
                  data_dir=None) -> list[Fold]:
    """k folds over the subjects (with windows) of every dataset in `data`; `seed` shuffles
    which subjects share a fold. k equal to the number of subjects is leave-one-subject-out."""
    subjects: list[str] = []
    for name in data:
        subjects += make_windows(load_recordings(name, data_dir), WINDOW, stride).subjects()
    if len(subjects) < 2:
        raise ConfigError(f"cross-validation needs at least 2 subjects; {', '.join(data)} has {len(subjects)}")
    if not 2 <= k <= len(subjects):
        raise ConfigError(f"--folds {k}: must be between 2 and the number of subjects ({len(subjects)}; "
                          f"{len(subjects)} is leave-one-subject-out)")
    return [Fold(i, tuple(tr), tuple(te)) for i, (tr, te) in enumerate(kfold_subjects(subjects, k, seed), start=1)]


def fold_config(cfg: TrainConfig, fold: Fold) -> TrainConfig:
    """The fold's test subjects replace any official split; validation subjects come out of the
    fold's training subjects as usual (never out of its test subjects)."""
    return dataclasses.replace(cfg, test_subjects=fold.test_subjects, test_split="none")


def fold_scores(y: np.ndarray, pred: np.ndarray, label_names: tuple[str, ...]) -> dict:
    """Accuracy, macro-F1 and the confusion matrix of one fold's predictions (any method)."""
    m = classification_metrics(y, pred, label_names)
    return {k: m[k] for k in ("n_windows", "accuracy", "macro_f1", "confusion_matrix")}


def train_fold(cfg: TrainConfig, fold: Fold, run_dir: Path, data_dir=None,
               on_epoch: Callable[[dict], None] | None = None) -> dict:
    """Train and test one fold's model in `run_dir` (reused when complete, resumed when not)."""
    metrics_file = run_dir / "eval_metrics.json"
    done = metrics_file.is_file() and "training" in json.loads(metrics_file.read_text())
    if not done:
        train_run(fold_config(cfg, fold), run_dir, resume=run_dir.is_dir() and any(run_dir.iterdir()),
                  data_dir=data_dir, on_epoch=on_epoch)
    else:
        log.info("fold %d: reusing the finished run in %s", fold.index, run_dir)
    metrics = json.loads(metrics_file.read_text())
    test = metrics.get("test")
    if test is None:
        raise ConfigError(f"fold {fold.index}: no test windows for {', '.join(fold.test_subjects)} "
                          f"(their windows carry none of the model's classes)")
    return {"fold": fold.index, "test_subjects": list(fold.test_subjects),
            **{k: test[k] for k in ("n_windows", "accuracy", "macro_f1", "confusion_matrix")},
            "best_epoch": metrics["training"]["best_epoch"], "seconds": metrics["training"]["seconds"],
            "run_dir": str(run_dir)}


def fold_test_windows(cfg: TrainConfig, fold: Fold, label_names: tuple[str, ...], offsets: list[int],
                      data_dir=None) -> tuple[WindowSet, dict[int, WindowSet]]:
    """(the fold's test windows as its model was scored on them, {offset: the same windows shifted})."""
    from tcnvae.train.prepare import shifted_windows, split_windows

    test, _ = split_windows(cfg.data, label_names, "test", data_dir, cfg.stride, fold.test_subjects)
    return test, shifted_windows(cfg.data, label_names, "test", offsets, data_dir, cfg.stride, fold.test_subjects)


def averaged_fold_scores(run_dir: Path, test: WindowSet, shifted: dict[int, WindowSet]) -> dict:
    """A fold model's scores with its class probabilities averaged over each test window and its
    shifted copies (what `tcnvae evaluate --average-shifts` reports)."""
    from tcnvae.data.normalize import Normalizer
    from tcnvae.evaluate import evaluate_model
    from tcnvae.model.checkpoint import load_model

    model, _ = load_model(run_dir / "model.safetensors")
    metrics, _ = evaluate_model(model, Normalizer.load(run_dir / "normalization.json"), test, shifted=shifted)
    return {k: metrics[k] for k in ("n_windows", "accuracy", "macro_f1", "confusion_matrix")}


def adapted_fold_scores(run_dir: Path, test: WindowSet, data: tuple[str, ...], data_dir=None) -> dict:
    """A fold model's scores with BatchNorm re-estimated per test subject on all of that subject's
    windows, labels unused (what `tcnvae evaluate --adapt` reports)."""
    from tcnvae.data.normalize import Normalizer
    from tcnvae.evaluate import evaluate_model
    from tcnvae.model.checkpoint import load_model
    from tcnvae.train.prepare import adaptation_windows

    model, _ = load_model(run_dir / "model.safetensors")
    metrics, _ = evaluate_model(model, Normalizer.load(run_dir / "normalization.json"), test,
                                adapt=adaptation_windows(data, test.subjects(), data_dir))
    return {k: metrics[k] for k in ("n_windows", "accuracy", "macro_f1", "confusion_matrix")}


def summarize(folds: list[dict], label_names: tuple[str, ...]) -> dict:
    """Mean and sample sd over folds, plus scores of the confusion matrix summed over folds."""
    acc = np.array([f["accuracy"] for f in folds])
    f1 = np.array([f["macro_f1"] for f in folds])
    cm = np.sum([np.asarray(f["confusion_matrix"]) for f in folds], axis=0)
    y = np.repeat(np.arange(len(label_names)), cm.sum(1))
    pred = np.concatenate([np.repeat(np.arange(len(label_names)), row) for row in cm])
    pooled = classification_metrics(y, pred, label_names)

    def sd(a: np.ndarray) -> float:
        return float(a.std(ddof=1)) if len(a) > 1 else 0.0

    return {"k": len(folds), "accuracy_mean": float(acc.mean()), "accuracy_sd": sd(acc),
            "macro_f1_mean": float(f1.mean()), "macro_f1_sd": sd(f1),
            "pooled_accuracy": pooled["accuracy"], "pooled_macro_f1": pooled["macro_f1"],
            "n_windows": int(cm.sum()), "labels": list(label_names), "confusion_matrix": cm.tolist()}


def cross_validate(cfg: TrainConfig, k: int, out_dir: Path, fold_seed: int = 0, data_dir=None,
                   on_fold: Callable[[dict], None] | None = None,
                   on_epoch: Callable[[dict], None] | None = None, offsets: list[int] = (),
                   adapt: bool = False) -> dict:
    """K subject-wise folds of `cfg`'s model; writes cv.json + confusion_matrix_cv.png in `out_dir`.
    `offsets`: each fold is also scored averaged over its shifted test windows (row `averaged`,
    summary `averaged`); `adapt`: and adapted to each test subject (row and summary `adapted`)."""
    from tcnvae.model.presets import preset_has_batch_norm

    if adapt and not preset_has_batch_norm(cfg.preset):
        raise ConfigError(f"--adapt re-estimates BatchNorm statistics; preset {cfg.preset!r} has no BatchNorm "
                          f"(use a deep_bn* preset, e.g. the default deep_bn_micro_lags)")
    out_dir = Path(out_dir)
    folds = subject_folds(cfg.data, k, fold_seed, cfg.stride, data_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    results, labels = [], None
    for fold in folds:
        log.info("fold %d/%d: test subjects %s", fold.index, k, ", ".join(fold.test_subjects))
        row = train_fold(cfg, fold, out_dir / f"fold-{fold.index}", data_dir, on_epoch)
        labels = labels or tuple(json.loads((out_dir / f"fold-{fold.index}" / "labels.json").read_text())["labels"])
        if offsets or adapt:
            test, shifted = fold_test_windows(cfg, fold, labels, list(offsets), data_dir)
            if offsets:
                row["averaged"] = averaged_fold_scores(Path(row["run_dir"]), test, shifted)
            if adapt:
                row["adapted"] = adapted_fold_scores(Path(row["run_dir"]), test, cfg.data, data_dir)
        results.append(row)
        if on_fold:
            on_fold(row)
    summary = summarize(results, labels)
    if offsets:
        summary["averaged"] = {"offsets": list(offsets), **summarize([r["averaged"] for r in results], labels)}
    if adapt:
        summary["adapted"] = summarize([r["adapted"] for r in results], labels)
    doc = {"data": list(cfg.data), "folds": results, "summary": summary, "fold_seed": fold_seed,
           "leave_one_subject_out": all(len(f.test_subjects) == 1 for f in folds), "config": cfg.to_dict()}
    tmp = out_dir / f".{CV_FILE}.tmp"
    tmp.write_text(json.dumps(doc, indent=2, default=str))
    tmp.replace(out_dir / CV_FILE)
    plot_confusion(summary["confusion_matrix"], labels, out_dir / "confusion_matrix_cv.png",
                   f"{k}-fold CV, summed over folds: macro-F1 {summary['macro_f1_mean']:.3f} "
                   f"± {summary['macro_f1_sd']:.3f} (mean ± sd)")
    return doc
