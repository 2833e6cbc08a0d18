"""The MiniRocket reference both training benchmarks fit, on exactly the windows the TCN-VAE sees."""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np


def in_fresh_process(fn, *args):
    """fn(*args) in a spawned process of its own: after aeon/numba ran in a process, later torch
    training steps there ran 5-7x slower (an epoch of `watch` 188-403 s instead of 33-53 s)."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


def minirocket_fit(normalizer, train_x: np.ndarray, train_y: np.ndarray, seed: int = 0):
    """(predict function for raw windows, fit seconds) of aeon's MiniRocket (10k kernels, ridge) on
    raw windows normalized as the TCN-VAE's, channels the data lacks dropped."""
    from aeon.classification.convolution_based import MiniRocketClassifier

    present = normalizer.present
    norm = lambda x: normalizer.apply(x)[:, :, present].transpose(0, 2, 1).astype(np.float64)  # noqa: E731
    t0 = time.perf_counter()
    clf = MiniRocketClassifier(n_kernels=10_000, random_state=seed, n_jobs=1).fit(norm(train_x), train_y)
    return (lambda x: clf.predict(norm(x))), time.perf_counter() - t0


def minirocket_predict(normalizer, train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray,
                       seed: int = 0) -> tuple[np.ndarray, float]:
    """(test predictions, fit seconds) of `minirocket_fit`."""
    predict, fit_s = minirocket_fit(normalizer, train_x, train_y, seed)
    return predict(test_x), fit_s


def votes(pred: np.ndarray, shifted_preds: list[np.ndarray], n_classes: int) -> np.ndarray:
    """Labels averaged over a window and its shifted copies as a vote (the ridge classifier gives no
    probabilities); a tie goes to the unshifted window."""
    tally = np.eye(n_classes)[pred] * (1 + 1e-6)
    for p in shifted_preds:
        tally = tally + np.eye(n_classes)[p]
    return tally.argmax(1)


def minirocket_fold(cfg, fold, data_dir, seed: int = 0, shifted: dict | None = None) -> dict:
    """Fold scores (+ `labels`, `fit_s`) of MiniRocket on one subject fold of `tcnvae.train.cv`, fitted
    on exactly the windows the fold's TCN-VAE trained on (its training + validation subjects).
    `shifted` ({offset: WindowSet of the test windows shifted}): also `averaged`, the scores of the
    vote over each window and its shifted copies."""
    from tcnvae.train.cv import fold_config, fold_scores
    from tcnvae.train.prepare import prepare

    data = prepare(fold_config(cfg, fold), data_dir)
    x = np.concatenate([data.train.x, data.val.x])
    y = np.concatenate([data.train.y, data.val.y])
    predict, fit_s = minirocket_fit(data.normalizer, x, y, seed)
    pred = predict(data.test.x)
    out = {**fold_scores(data.test.y, pred, data.label_names), "labels": data.label_names, "fit_s": fit_s}
    if shifted:
        for d, ws in shifted.items():
            if not np.array_equal(ws.y, data.test.y):
                raise ValueError(f"fold {fold.index}: the windows shifted by {d} do not match its test windows")
        out["averaged"] = fold_scores(data.test.y, votes(pred, [predict(ws.x) for ws in shifted.values()],
                                                         len(data.label_names)), data.label_names)
    return out
