"""Held-out-subject evaluation: metrics, latent quality, and the pictures people look at.

`evaluate_windows` returns plain numbers (eval_metrics.json); `plots` draws the confusion
matrix, a 2-D projection of the latent coloured by activity, and the training curves.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support, silhouette_score  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from tcnvae.data.sources import label_key  # noqa: E402

log = logging.getLogger(__name__)


def classification_metrics(y: np.ndarray, pred: np.ndarray, label_names: tuple[str, ...]) -> dict:
    labels = np.arange(len(label_names))
    p, r, f, s = precision_recall_fscore_support(y, pred, labels=labels, zero_division=0)
    return {
        "n_windows": int(len(y)),
        "accuracy": float((pred == y).mean()) if len(y) else 0.0,
        "macro_f1": float(f1_score(y, pred, labels=labels[s > 0], average="macro", zero_division=0)),
        "per_class": {name: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
                      for i, name in enumerate(label_names)},
        "confusion_matrix": confusion_matrix(y, pred, labels=labels).tolist(),
    }


def linear_probe(train_z: np.ndarray, train_y: np.ndarray, test_z: np.ndarray, test_y: np.ndarray,
                 seed: int = 0, max_train: int = 20_000) -> float:
    """Accuracy of a logistic regression on the frozen latent (fitted on training subjects only)."""
    if len(train_z) > max_train:
        pick = np.random.default_rng(seed).choice(len(train_z), max_train, replace=False)
        train_z, train_y = train_z[pick], train_y[pick]
    scaler = StandardScaler().fit(train_z)
    clf = LogisticRegression(max_iter=500).fit(scaler.transform(train_z), train_y)
    return float((clf.predict(scaler.transform(test_z)) == test_y).mean())


def latent_quality(z: np.ndarray, y: np.ndarray, seed: int = 0, max_n: int = 4000) -> dict:
    if len(z) > max_n:
        pick = np.random.default_rng(seed).choice(len(z), max_n, replace=False)
        z, y = z[pick], y[pick]
    sil = float(silhouette_score(z, y)) if len(np.unique(y)) > 1 and len(z) > len(np.unique(y)) else float("nan")
    return {"silhouette": sil, "active_units": int((z.var(axis=0) > 1e-2).sum())}


def plot_confusion(cm: list[list[int]], label_names: tuple[str, ...], path: Path, title: str) -> None:
    cm_arr = np.asarray(cm, dtype=float)
    norm = cm_arr / np.maximum(cm_arr.sum(1, keepdims=True), 1)
    n = len(label_names)
    key = label_key(label_names)
    fig, ax = plt.subplots(figsize=(2.6 + 0.6 * n, 1.6 + 0.55 * n + 0.18 * len(key)))
    image = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04).set_label("share of the true class", fontsize=8)
    for i in range(n):
        for j in range(n):
            ax.text(j, i, f"{int(cm_arr[i, j])}", ha="center", va="center", fontsize=7,
                    color="white" if norm[i, j] > 0.5 else "black")
    ax.set_xticks(range(n), label_names, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(n), label_names, fontsize=8)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(f"{title}\n(numbers: windows; colour: share of the row)", fontsize=9)
    if key:  # abbreviated class names get a key in plain words
        fig.text(0.01, 0.01, "\n".join(f"{k} = {v}" for k, v in key.items()), fontsize=7, va="bottom")
        fig.tight_layout(rect=(0, 0.015 + 0.022 * len(key), 1, 1))
    else:
        fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_latent(z: np.ndarray, y: np.ndarray, label_names: tuple[str, ...], path: Path, seed: int = 0) -> None:
    """PCA to 2-D (deterministic, fast), coloured by activity."""
    if len(z) > 4000:
        pick = np.random.default_rng(seed).choice(len(z), 4000, replace=False)
        z, y = z[pick], y[pick]
    zc = z - z.mean(0)
    _, s, vt = np.linalg.svd(zc, full_matrices=False)
    xy = zc @ vt[:2].T
    share = s ** 2 / max(float((s ** 2).sum()), 1e-12)
    key = label_key(label_names)
    fig, ax = plt.subplots(figsize=(7, 5.5))
    cmap = plt.get_cmap("tab20" if len(label_names) > 10 else "tab10")
    for i, name in enumerate(label_names):
        m = y == i
        if m.any():
            ax.scatter(xy[m, 0], xy[m, 1], s=4, alpha=0.6, color=cmap(i % cmap.N),
                       label=f"{name} ({key[name]})" if name in key else name)
    ax.set_title("latent (PCA of the 64-d mean), held-out subjects")
    ax.set_xlabel(f"principal component 1 ({100 * share[0]:.0f} % of latent variance)")
    ax.set_ylabel(f"principal component 2 ({100 * share[1]:.0f} % of latent variance)" if len(share) > 1
                  else "principal component 2")
    ax.legend(markerscale=3, fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_curves(history_path: Path, path: Path) -> None:
    rows = [json.loads(line) for line in history_path.read_text().splitlines() if line.strip()]
    if not rows:
        return
    ep = [r["epoch"] for r in rows]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.8))
    names = {"loss": "total loss", "ce": "activity cross-entropy", "recon": "reconstruction MSE",
             "kl": "KL divergence (per window)"}
    for key, name in names.items():
        if key in rows[0] and any(r[key] > 0 for r in rows):  # a motif-only model has ce = 0
            a.plot(ep, [r[key] for r in rows], label=name)
    a.set_yscale("log")
    a.set_xlabel("epoch")
    a.set_ylabel("loss, epoch mean (log scale)")
    a.set_title("training losses")
    a.legend()
    if "val_macro_f1" in rows[0]:
        b.plot(ep, [r["val_macro_f1"] for r in rows], label="validation macro-F1")
        b.plot(ep, [r["val_accuracy"] for r in rows], label="validation accuracy")
        b.set_title("held-out training subjects")
    elif "val_loss" in rows[0]:  # motif-only: nothing labelled to score
        b.plot(ep, [r["val_loss"] for r in rows], label="validation loss (recon + beta KL)")
        b.set_title("held-out training subjects")
    else:  # a refit has no validation subjects
        b.plot(ep, [r.get("train_accuracy", float("nan")) for r in rows], label="training accuracy (augmented)")
        b.set_title("refit: no validation subjects")
    b.set_xlabel("epoch")
    if "val_loss" not in rows[0]:
        b.set_ylabel("score (0 to 1)")
        b.set_ylim(0, 1)
    else:
        b.set_ylabel("validation loss")
    b.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def evaluate_model(model, normalizer, test, train=None, split: str = "test", seed: int = 0,
                   shifted: dict | None = None, adapt: dict | None = None) -> tuple[dict, np.ndarray]:
    """(metrics, test latents) of one split. `test`/`train` are WindowSets of raw windows labelled
    in the model's label order; the linear probe is fitted on `train` latents when given.
    `shifted` ({offset: the test windows cut that many samples later}): class probabilities are
    averaged over the window and its shifted copies (test-time averaging, host-side).
    `adapt` ({subject: raw windows of that subject, labels unused}): each subject's windows are
    classified by the model with BatchNorm statistics re-estimated on that subject's (AdaBN).
    Latent quality and the linear probe always use the model as given."""
    from tcnvae.train.loop import predict  # the batched forward pass; kept in one place

    names = tuple(model.config.label_names)
    shifted = shifted or {}
    for offset, ws in shifted.items():
        if len(ws) != len(test) or not np.array_equal(ws.y, test.y):
            raise ValueError(f"the windows shifted by {offset} do not match the test windows one for one")
    probs, z = predict(model, normalizer.apply(test.x))
    if adapt:
        import torch

        from tcnvae.model.adabn import adapt_batch_norm

        probs = np.zeros_like(probs)
        for subject in test.subjects():
            rows = test.subject == subject
            mine = adapt_batch_norm(model, torch.from_numpy(normalizer.apply(adapt[subject])))
            probs[rows] = sum(predict(mine, normalizer.apply(ws.x[rows]))[0] for ws in (test, *shifted.values()))
    else:
        probs = probs + sum(predict(model, normalizer.apply(ws.x))[0] for ws in shifted.values())
    metrics = {"split": split, "subjects": test.subjects(), **classification_metrics(test.y, probs.argmax(1), names)}
    if shifted:
        metrics["averaged_shifts"] = sorted(shifted)
    if adapt:
        metrics["adapted_windows"] = {subject: int(len(adapt[subject])) for subject in test.subjects()}
    metrics.update(latent_quality(z, test.y, seed))
    if train is not None and len(train):
        _, z_train = predict(model, normalizer.apply(train.x))
        metrics["linear_probe_accuracy"] = linear_probe(z_train, train.y, z, test.y, seed)
    return metrics, z


def write_evaluation(out_dir: Path, metrics: dict, model, test, z: np.ndarray) -> None:
    """Merge one split's metrics into eval_metrics.json and draw its pictures (z: test latents)."""
    path = out_dir / "eval_metrics.json"
    existing = json.loads(path.read_text()) if path.is_file() else {}
    existing[metrics["split"]] = metrics
    tmp = path.with_name(".eval_metrics.json.tmp")
    tmp.write_text(json.dumps(existing, indent=2))
    tmp.replace(path)
    names = tuple(model.config.label_names)
    split = metrics["split"]
    plot_confusion(metrics["confusion_matrix"], names, out_dir / f"confusion_matrix_{split}.png",
                   f"{split}: accuracy {metrics['accuracy']:.3f}, macro-F1 {metrics['macro_f1']:.3f}")
    plot_latent(z, test.y, names, out_dir / f"latent_2d_{split}.png")
