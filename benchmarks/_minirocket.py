"""The MiniRocket reference both training benchmarks fit, on exactly the windows the TCN-VAE sees."""

from __future__ import annotations

import time

import numpy as np


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


def minirocket_fold(cfg, fold, data_dir, seed: int = 0) -> dict:
    """Fold scores (+ `labels`, `fit_s`) of MiniRocket on one subject fold of `tcnvae.train.cv`, fitted
    on exactly the windows the fold's TCN-VAE trained on (its training + validation subjects)."""
    from tcnvae.train.cv import fold_config, fold_scores
    from tcnvae.train.prepare import prepare

    data = prepare(fold_config(cfg, fold), data_dir)
    x = np.concatenate([data.train.x, data.val.x])
    y = np.concatenate([data.train.y, data.val.y])
    pred, fit_s = minirocket_predict(data.normalizer, x, y, data.test.x, seed)
    return {**fold_scores(data.test.y, pred, data.label_names), "labels": data.label_names, "fit_s": fit_s}
