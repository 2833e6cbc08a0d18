"""Fit the 12 motif prototypes: k-means in latent space on training windows, then describe them.

A motif is a recurring movement pattern the encoder has learned; its description says how
often it occurs and which activities it covers, so a motif score means something to a user.
"""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans

from tcnvae.contract import N_MOTIFS
from tcnvae.model.vae import TCNVAE


def fit_motifs(model: TCNVAE, latents: np.ndarray, labels: np.ndarray, label_names: tuple[str, ...],
               seed: int = 0, max_windows: int = 20_000) -> dict:
    """Set the model's motif prototypes from training latents; return the motifs.json content."""
    rng = np.random.default_rng(seed)
    if len(latents) > max_windows:
        pick = rng.choice(len(latents), max_windows, replace=False)
        latents, labels = latents[pick], labels[pick]
    k = min(N_MOTIFS, len(latents))
    km = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(latents.astype(np.float64))
    centers = np.zeros((N_MOTIFS, latents.shape[1]), np.float32)
    centers[:k] = km.cluster_centers_
    d2 = ((latents[:, None, :] - centers[None, :k, :]) ** 2).sum(-1)
    # Temperature: the typical squared distance to the nearest prototype, so scores are soft
    # between neighbouring motifs but clearly peaked on the one a window belongs to.
    temperature = float(max(np.median(d2.min(1)), 1e-6))
    model.motifs.set_prototypes(centers, temperature)
    return describe(km.labels_, labels, label_names, temperature, len(latents))


def describe(assign: np.ndarray, labels: np.ndarray, label_names: tuple[str, ...], temperature: float,
             n: int) -> dict:
    motifs = []
    for m in range(N_MOTIFS):
        members = labels[assign == m]
        counts = np.bincount(members, minlength=len(label_names)) if len(members) else np.zeros(len(label_names))
        order = np.argsort(-counts)[:3]
        share = float(len(members) / max(n, 1))
        dominant = [{"label": label_names[i], "share": round(float(counts[i] / max(len(members), 1)), 4)}
                    for i in order if counts[i] > 0]
        purity = dominant[0]["share"] if dominant else 0.0
        name = f"mostly {dominant[0]['label']}" if dominant else "unused"
        motifs.append({"id": m, "name": name, "share": round(share, 4), "purity": purity,
                       "dominant_activities": dominant})
    return {"n_motifs": N_MOTIFS, "method": "k-means on training latents; softmax(-d^2 / T)",
            "temperature": temperature, "fitted_on_windows": int(n), "motifs": motifs}
