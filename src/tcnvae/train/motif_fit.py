"""Fit the 12 motif prototypes: k-means in latent space on training windows, then describe them.

A motif is a recurring movement pattern the encoder has learned; its description says how
often it occurs, what it looks like physically (intensity, rhythm, orientation, bout length:
motif_traits.py) and, when there are labels, which activities it covers, so a motif score
means something to a user with or without labels. Unlabelled windows (y = -1) count in the
fit and the traits, not in the dominant activities.
"""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans

from tcnvae.contract import N_MOTIFS, STRIDE
from tcnvae.data.recording import group_index
from tcnvae.model.vae import TCNVAE
from tcnvae.train.motif_traits import adjacent, bout_seconds, motif_traits, window_traits


def fit_motifs(model: TCNVAE, latents: np.ndarray, labels: np.ndarray, label_names: tuple[str, ...],
               seed: int = 0, max_windows: int = 20_000, windows=None, stride: int = STRIDE) -> dict:
    """Set the model's motif prototypes from training latents; return the motifs.json content.

    `windows` (the training WindowSet, raw SI, in the order of `latents`) adds the physical traits."""
    rng = np.random.default_rng(seed)
    fit_z = latents
    if len(latents) > max_windows:
        fit_z = latents[rng.choice(len(latents), max_windows, replace=False)]
    k = min(N_MOTIFS, len(fit_z))
    km = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(fit_z.astype(np.float64))
    centers = np.zeros((N_MOTIFS, latents.shape[1]), np.float32)
    centers[:k] = km.cluster_centers_
    assign = nearest(latents, centers[:k])
    d2 = ((fit_z[:, None, :] - centers[None, :k, :]) ** 2).sum(-1)
    # Temperature: the typical squared distance to the nearest prototype, so scores are soft
    # between neighbouring motifs but clearly peaked on the one a window belongs to.
    temperature = float(max(np.median(d2.min(1)), 1e-6))
    model.motifs.set_prototypes(centers, temperature)
    doc = describe(assign, labels, label_names, temperature, len(fit_z))
    if windows is not None:
        add_traits(doc, assign, windows, stride)
    return doc


def nearest(latents: np.ndarray, centers: np.ndarray, chunk: int = 8192) -> np.ndarray:
    """Index of the nearest prototype per latent (the motif a window belongs to)."""
    out = np.empty(len(latents), dtype=np.int64)
    for a in range(0, len(latents), chunk):
        z = latents[a:a + chunk]
        out[a:a + chunk] = ((z[:, None, :] - centers[None]) ** 2).sum(-1).argmin(1)
    return out


def describe(assign: np.ndarray, labels: np.ndarray, label_names: tuple[str, ...], temperature: float,
             n: int) -> dict:
    motifs = []
    for m in range(N_MOTIFS):
        inside = assign == m
        members = labels[inside & (labels >= 0)]
        counts = np.bincount(members, minlength=len(label_names)) if len(members) else np.zeros(len(label_names))
        order = np.argsort(-counts)[:3]
        share = float(inside.sum() / max(len(assign), 1))
        dominant = [{"label": label_names[i], "share": round(float(counts[i] / max(len(members), 1)), 4)}
                    for i in order if counts[i] > 0]
        purity = dominant[0]["share"] if dominant else None
        name = f"mostly {dominant[0]['label']}" if dominant else ("unused" if not inside.any() else f"motif {m}")
        motifs.append({"id": m, "name": name, "share": round(share, 4), "purity": purity,
                       "dominant_activities": dominant,
                       "labelled_share": round(float(len(members) / max(inside.sum(), 1)), 4)})
    return {"n_motifs": N_MOTIFS, "method": "k-means on training latents; softmax(-d^2 / T)",
            "temperature": temperature, "fitted_on_windows": int(n), "motifs": motifs}


def add_traits(doc: dict, assign: np.ndarray, windows, stride: int) -> None:
    """Add each motif's physical traits (motif_traits.py); name unlabelled motifs by them."""
    traits = window_traits(windows.x)
    adj = adjacent(windows.x, windows.subject, stride)
    has_acc = bool(windows.present[group_index("acc")].all())
    has_gyro = bool(windows.present[group_index("gyro")].all())
    for m in doc["motifs"]:
        members = assign == m["id"]
        m["traits"] = motif_traits(traits, members, bout_seconds(assign, adj, m["id"], stride), has_acc, has_gyro)
        m["description"] = m["traits"].pop("description")
        if not m["dominant_activities"] and members.any():
            m["name"] = m["description"]
    doc["traits_method"] = ("from the raw training windows of each motif: intensity = median within-window "
                            "SD of |acc| (m/s^2); periodic when the spectral peak (±1 Hz) holds >= half the "
                            "0.5-20 Hz power in most windows; orientation = mean gravity direction in the "
                            "sensor frame; bouts = runs of consecutive windows of the motif")
