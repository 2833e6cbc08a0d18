"""A one-page, self-contained HTML report (the ethogram embedded as base64 PNG, summary tables)."""

from __future__ import annotations

import base64
import html


def _motif_note(info: dict | None) -> str:
    """The release's description of a motif (motifs.json): traits, and activities when labelled."""
    if not info:
        return "-"
    text = str(info.get("description") or "")
    acts = info.get("dominant_activities") or []
    if acts:
        mix = ", ".join(f"{a['label']} {100 * a['share']:.0f} %" for a in acts if isinstance(a, dict))
        text = f"{text}; {mix}" if text else mix
    return text or str(info.get("name", "-"))


def _table(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _summary_rows(results: dict) -> list[tuple[str, str]]:
    rec = results["recording"]
    return [
        ("recording", str(rec["name"])),
        ("duration", f"{rec['duration_s']:.1f} s ({rec['samples']} samples at {rec['rate_hz']:g} Hz)"),
        ("channels present", ", ".join(rec["channels_present"])),
        ("windows", f"{results['n_windows']} (stride {results['config']['stride']} samples)"),
        ("model", str(results.get("model") or "-")),
        ("source", results["source"]),
    ]


def render_report(results: dict, png: bytes) -> str:
    """The HTML text of the report for a results document and its ethogram PNG."""
    image = base64.b64encode(png).decode("ascii")
    parts = [
        "<h1>tcnvae analysis</h1>",
        _table(("", ""), _summary_rows(results)),
        f'<h2>Ethogram</h2><img alt="ethogram" src="data:image/png;base64,{image}">',
    ]
    warnings = results["recording"].get("warnings") or []  # unit/plausibility (tcnvae.data.plausibility)
    if warnings:
        items = "".join(f"<li>{html.escape(w)}</li>" for w in warnings)
        parts.insert(1, f"<h2>Warnings about the recording</h2><ul>{items}</ul>")
    if results["time_per_activity"] is not None:
        rows = [(k, f"{v:.1f} s") for k, v in results["time_per_activity"].items()]
        parts.append("<h2>Time per activity</h2>" + _table(("activity", "time"), rows))
    elif results["source"] == "model":
        parts.append("<h2>Time per activity</h2><p>No activity: a motif-only model (trained without "
                     "labels) answers motif scores only; the ethogram shows the top motif over time.</p>")
    else:
        parts.append("<h2>Time per activity</h2><p>No activity: the model was unavailable and the "
                     "answers come from the deterministic stub.</p>")
    per_motif = results["time_per_motif"]
    notes = {int(m["id"]): m for m in results.get("motif_info") or [] if isinstance(m, dict) and "id" in m}
    rows = [(f"motif {m['id']}", f"{m['score']:.3f} / {per_motif[str(m['id'])]:.1f} s",
             _motif_note(notes.get(int(m["id"])))) for m in results["motifs"]]
    parts.append("<h2>Motifs</h2>" + _table(("motif", "mean score / time as top motif", "what it looks like"), rows))
    style = ("body{font-family:sans-serif;max-width:1000px;margin:2em auto}"
             "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 8px}"
             "img{max-width:100%}")
    return ("<!doctype html><html><head><meta charset=\"utf-8\"><title>tcnvae analysis</title>"
            f"<style>{style}</style></head><body>{''.join(parts)}</body></html>\n")
