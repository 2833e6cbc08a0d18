"""The ethogram picture: activity bands over time above a motif-score heatmap (matplotlib Agg)."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # headless: servers and CI have no display

import numpy as np  # noqa: E402
from matplotlib import pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from tcnvae.analysis.ethogram import UNCERTAIN  # noqa: E402
from tcnvae.data.sources import label_key  # noqa: E402


def _band_colors(labels: list[str]) -> dict[str, tuple]:
    cmap = plt.get_cmap("tab10")
    names = [n for n in dict.fromkeys(labels) if n != UNCERTAIN]
    colors = {n: cmap(i % 10) for i, n in enumerate(names)}
    if UNCERTAIN in labels:
        colors[UNCERTAIN] = (0.75, 0.75, 0.75, 1.0)
    return colors


def _draw_bands(ax, segs: list[dict] | None, title: str,
                empty: str = "no activity (stub answers: the model was unavailable)") -> None:
    ax.set_yticks([])
    ax.set_xlabel("time (s)", fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    ax.set_title(title, fontsize=9, loc="left")
    if not segs:
        ax.text(0.5, 0.5, empty,
                ha="center", va="center", transform=ax.transAxes, fontsize=9)
        return
    colors = _band_colors([s["label"] for s in segs])
    for s in segs:
        ax.broken_barh([(s["t_start"], s["duration_s"])], (0, 1), color=colors[s["label"]])
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in colors.values()]
    key = label_key(list(colors))  # abbreviated labels (e.g. PEN) get their meaning in the legend
    ax.legend(handles, [f"{n} = {key[n]}" if n in key else n for n in colors], fontsize=7,
              ncol=min(len(colors), 4 if key else 6), loc="upper center", bbox_to_anchor=(0.5, -0.5),
              frameon=False)


def ethogram_figure(results: dict) -> Figure:
    """The figure for a results document (see pipeline.summarize)."""
    timeline = results["timeline"]
    t0 = np.array([w["t_start"] for w in timeline])
    t1 = np.array([w["t_end"] for w in timeline])
    scores = np.array([w["motif_scores"] for w in timeline]).T  # (motifs, windows)
    fig = Figure(figsize=(10, 4.8), dpi=100)
    # A narrow second column holds the heatmap's colour bar, so both panels share one time axis.
    gs = fig.add_gridspec(2, 2, height_ratios=[1, 2.2], width_ratios=[1, 0.015], hspace=0.95, wspace=0.02)
    ax_top, ax_heat = fig.add_subplot(gs[0, 0]), fig.add_subplot(gs[1, 0])
    source = results["source"]
    if results["ethogram"]["activity"] is None and source == "model" and results["ethogram"].get("motifs"):
        # A motif-only model (trained without labels): the bands are the top motif over time.
        _draw_bands(ax_top, results["ethogram"]["motifs"], "motif ethogram (motif-only model: no activity head)")
    else:
        _draw_bands(ax_top, results["ethogram"]["activity"], f"activity ethogram ({source})")
    ax_top.set_xlim(0, float(t1[-1]))
    image = ax_heat.imshow(scores, aspect="auto", cmap="viridis", vmin=0, vmax=1, interpolation="nearest",
                           extent=(float(t0[0]), float(t1[-1]), scores.shape[0] - 0.5, -0.5))
    bar = fig.colorbar(image, cax=fig.add_subplot(gs[1, 1]))
    bar.set_label("motif score (0 to 1)", fontsize=8)
    bar.ax.tick_params(labelsize=7)
    ax_heat.set_yticks(range(scores.shape[0]))
    ax_heat.tick_params(axis="y", labelsize=7)
    ax_heat.set_ylabel("motif")
    ax_heat.set_xlabel("time (s)")
    ax_heat.set_title("motif scores per window", fontsize=9, loc="left")
    return fig


def ethogram_png(results: dict) -> bytes:
    """PNG bytes of `ethogram_figure(results)`."""
    buf = io.BytesIO()
    ethogram_figure(results).savefig(buf, format="png", bbox_inches="tight")
    return buf.getvalue()
