"""The model card (model_card.md), generated from a release's own files.

Hugging Face style: YAML front matter (library_name, tags, license, datasets, metrics and a
model-index with the evaluation results), then sections a user needs before trusting the
model. Every number comes from the JSON files of the release; a missing key shows as "—"
instead of failing, because older runs and the legacy import carry fewer fields.
"""

from __future__ import annotations

import json
from pathlib import Path

from tcnvae.contract import CHANNELS, UNITS

LICENSE = "apache-2.0"
METRIC_NAMES = {"accuracy": "Accuracy", "macro_f1": "Macro F1", "linear_probe_accuracy": "Linear-probe accuracy",
                "silhouette": "Latent silhouette", "balanced_accuracy": "Balanced accuracy"}


def render_card(folder: Path, name: str, version: str, created: str, source: str,
                notes: list[str] | None = None) -> str:
    """model_card.md for the release files in `folder`; `notes` are extra limitations to state."""
    docs = {f: read_json_or_empty(folder / f) for f in ("model_config.json", "eval_metrics.json", "labels.json",
                                           "normalization.json", "motifs.json", "train_config.json")}
    metrics, labels = docs["eval_metrics.json"], docs["labels.json"]
    names = datasets(docs)
    parts = [
        "---\n" + to_yaml(_front_matter(name, version, names, metrics)) + "---\n",
        f"# {name} {version}\n\nTCN-VAE encoder for 9-channel IMU windows (100 samples at 100 Hz) -> "
        f"64-d latent, 12 motif scores{_heads(labels)}. Released {created or '—'} from `{source}`.\n",
        render_architecture(docs["model_config.json"]),
        _training_data(metrics, docs["train_config.json"], labels, names),
        _normalization(docs["normalization.json"]),
        _metrics(metrics, labels.get("labels", [])),
        _motifs(docs["motifs.json"]),
        _intended_use(),
        _limitations(labels, notes or []),
        _reproduce(docs["train_config.json"], name, version),
    ]
    return "\n".join(parts)


# -- front matter ----------------------------------------------------------------------------
def _front_matter(name: str, version: str, datasets: list[str], metrics: dict) -> dict:
    test = _dict(metrics.get("test"))
    results = [{"type": key, "name": f"Test {label}", "value": round(float(test[key]), 6)}
               for key, label in METRIC_NAMES.items() if is_number(test.get(key))]
    index = [{"name": f"{name}-{version}", "results": [{
        "task": {"type": "time-series-classification", "name": "Human activity recognition from IMU windows"},
        "dataset": {"type": datasets[0] if datasets else "unknown", "name": ", ".join(datasets) or "unknown",
                    "split": "test (held-out subjects)"},
        "metrics": results}]}] if results else []
    return {"library_name": "pytorch", "license": LICENSE,
            "tags": ["imu", "human-activity-recognition", "time-series", "tcn", "vae", "safetensors", "onnx"],
            "datasets": datasets, "metrics": [k for k in METRIC_NAMES if is_number(test.get(k))], "model-index": index}


def to_yaml(obj: object, indent: int = 0) -> str:
    """A small YAML emitter: scalars as JSON (valid YAML), block mappings and sequences."""
    pad = " " * indent
    if isinstance(obj, dict):
        if not obj:
            return "{}\n"
        out = ""
        for k, v in obj.items():
            if isinstance(v, (dict, list)) and v:
                out += f"{pad}{k}:\n" + to_yaml(v, indent + 2)
            else:
                out += f"{pad}{k}: {to_yaml(v).strip()}\n"
        return out
    if isinstance(obj, list):
        if not obj:
            return "[]\n"
        out = ""
        for v in obj:
            body = to_yaml(v, indent + 2) if isinstance(v, (dict, list)) and v else f"{pad}  {to_yaml(v).strip()}\n"
            out += f"{pad}- " + body[indent + 2:]
        return out
    return json.dumps(obj) + "\n"


# -- sections ---------------------------------------------------------------------------------
def render_architecture(cfg_doc: dict) -> str:
    from tcnvae.model.tcn import receptive_field  # torch: cards are rendered at release time only
    from tcnvae.model.vae import TCNVAE, ModelConfig

    try:
        cfg = ModelConfig.from_dict(cfg_doc)
    except (TypeError, ValueError):
        return "## Architecture\n\nmodel_config.json is missing or unreadable.\n"
    model = TCNVAE(cfg)
    deploy = sum(p.numel() for n, p in model.named_parameters() if n.startswith(("encoder.", "fc_mu.", "activity_head.")))
    total = sum(p.numel() for p in model.parameters())
    rf = receptive_field(len(cfg.channels), cfg.kernel_size)
    rows = [("input", f"{cfg.window} samples x {cfg.in_channels} channels (time-major, normalized)"),
            ("encoder channels", ", ".join(map(str, cfg.channels))), ("kernel size", cfg.kernel_size),
            ("dilations", ", ".join(str(2**i) for i in range(len(cfg.channels)))),
            ("receptive field", f"{rf} samples ({rf / 100:.2f} s at 100 Hz)"), ("latent", cfg.latent_dim),
            ("motifs", cfg.n_motifs), ("classes", cfg.n_classes), ("dropout", cfg.dropout),
            ("parameters (deployed encoder + heads)", f"{deploy:,}"), ("parameters (full VAE)", f"{total:,}")]
    if cfg.micro_gains:
        lags = ", ".join(str(lag) for lag in cfg.micro_lags)
        rows.insert(1, ("micro-motion inputs", f"x[t] - x[t - lag] of each channel for lags {lags} (samples), x "
                        + ", ".join(f"{g:g}" for g in cfg.micro_gains) + ", clipped to [-1, 1] (fixed, inside the graph)"))
    convs = ("convs with BatchNorm, folded into the convs at export" if cfg.batch_norm
             else "weight-normalised convs")
    return (f"## Architecture\n\nCausal dilated TCN ({convs}, residual blocks) -> global average "
            "pooling -> `fc_mu` (the latent) -> motif scores and activity head. `encoder.safetensors` holds exactly "
            "that; `full.safetensors` adds the decoder and the domain head.\n\n" + _table(("", "value"), rows))


def _training_data(metrics: dict, train: dict, labels: dict, datasets: list[str]) -> str:
    data = _dict(metrics.get("data"))
    rows = [(k, _fmt(v)) for k, v in data.items()]
    text = f"## Training data\n\nDatasets: {', '.join(datasets) or '—'}."
    text += " Splits are by subject: no subject appears in both training and test." if rows else ""
    training = _dict(metrics.get("training"))
    if training.get("refit"):
        text += (f" Refit: every training subject fit for {training.get('best_epoch')} epochs with no subject held "
                 "out for validation (no early stopping); the last epoch's weights are this model.")
    text += "\n\n"
    text += _table(("field", "value"), rows) if rows else "No data summary was recorded in eval_metrics.json.\n"
    sources = _dict(labels.get("sources"))
    if sources:
        text += "\nWhich source contributed which labels:\n\n" + _table(
            ("source", "labels"), [(s, ", ".join(map(str, v)) if isinstance(v, list) else _fmt(v))
                                   for s, v in sources.items()])
    return text


def _normalization(doc: dict) -> str:
    order = doc.get("channel_order", list(CHANNELS))
    mean, std, present = doc.get("mean", []), doc.get("std", []), doc.get("present", [True] * len(order))
    units = doc.get("units", [UNITS.get(c, "") for c in order])
    rows = [(c, _at(units, i), _fmt(_at(mean, i)), _fmt(_at(std, i)), "yes" if _at(present, i) else "no (fed as 0)")
            for i, c in enumerate(order)]
    return (f"## Normalization\n\n`{doc.get('method', '—')}`: x_norm = (x - mean) / std per channel, applied by "
            "`Normalizer.apply` from `normalization.json` before the encoder.\n\n"
            + _table(("channel", "unit", "mean", "std", "present"), rows))


def _metrics(metrics: dict, label_names: list) -> str:
    text = "## Evaluation\n\n"
    splits = [s for s in ("test", "validation") if isinstance(metrics.get(s), dict)]
    keys = sorted({k for s in splits for k, v in metrics[s].items() if is_number(v)})
    if keys:
        text += _table(("metric", *splits), [(METRIC_NAMES.get(k, k), *(_fmt(metrics[s].get(k)) for s in splits))
                                             for k in keys])
    per_class = _dict(_dict(metrics.get("test")).get("per_class"))
    if per_class:
        cols = sorted({k for v in per_class.values() if isinstance(v, dict) for k in v}) or ["f1"]
        rows = [(c, *((_fmt(v.get(k)) for k in cols) if isinstance(v, dict) else (_fmt(v),)))
                for c, v in per_class.items()]
        text += "\nPer class (test):\n\n" + _table(("class", *cols), rows)
    for key, value in metrics.items():
        if key not in ("test", "validation", "data"):
            text += f"\n{key}: `{json.dumps(value)}`\n"
    return text if len(text) > 16 else text + "No evaluation metrics were recorded.\n"


def _motifs(doc: dict) -> str:
    motifs = [m for m in doc.get("motifs", []) if isinstance(m, dict)]
    text = "## Motifs\n\nSoft scores over 12 latent prototypes (k-means on training latents).\n\n"
    if doc.get("note"):
        text += f"{doc['note']}\n\n"
    if not motifs:
        return text + "No motif table was recorded.\n"
    if doc.get("traits_method"):
        text += f"What a motif looks like is measured {doc['traits_method']}.\n\n"
    rows = [(m.get("id", i), _fmt(m.get("share")), m.get("description") or "—",
             _activities(m.get("dominant_activities")), _fmt(m.get("purity")))
            for i, m in enumerate(motifs)]
    return text + _table(("motif", "share of windows", "what it looks like", "dominant activities", "purity"), rows)


def _heads(labels: dict) -> str:
    if labels.get("labels"):
        return ", activity probabilities"
    return " (motif-only: trained without labels, no activity head)"


def _activities(acts: object) -> str:
    if not isinstance(acts, list) or not acts:
        return "— (no labels)"
    return ", ".join(f"{a.get('label')} {_fmt(a.get('share'))}" if isinstance(a, dict) else _fmt(a) for a in acts)


def _intended_use() -> str:
    return ("## Intended use\n\nActivity recognition and behaviour-motif analysis from body-worn IMU windows "
            "(accelerometer in m/s^2, gyroscope in rad/s, magnetometer in uT, 100 Hz, 1 s windows) on edge devices "
            "and servers, through the `tcnvae` runtime, which applies this release's normalization. Not for medical, "
            "safety-critical or surveillance decisions about individuals.\n")


def _limitations(labels: dict, notes: list[str]) -> str:
    names = labels.get("labels", [])
    items = [f"Only these classes are known: {', '.join(map(str, names)) or '—'}; anything else is forced into one.",
             "Accuracy is measured on held-out subjects of the listed datasets; other devices, placements and "
             "populations can do worse.",
             "Channels marked absent in the normalization table were zero in training; the model ignores them.",
             *notes]
    return "## Limitations\n\n" + "".join(f"- {n}\n" for n in items)


def _reproduce(train: dict, name: str, version: str) -> str:
    cmd = train.get("command")
    if isinstance(cmd, list):
        cmd = " ".join(map(str, cmd))
    cmd = cmd or "tcnvae train --config train_config.json  # the config of this release"
    if train.get("legacy"):  # imported, not trained: the import command is the whole recipe
        return f"## How to reproduce\n\n```bash\n{cmd}\ntcnvae registry verify {name}@{version}\n```\n"
    return (f"## How to reproduce\n\n```bash\n{cmd}\ntcnvae release RUN_DIR --version {version.lstrip('v')} "
            f"--name {name}\ntcnvae registry verify {name}@{version}\n```\n\nThe full training configuration is "
            "`train_config.json` in this folder.\n")


# -- helpers ----------------------------------------------------------------------------------
def datasets(docs: dict) -> list[str]:
    """Dataset names from train_config.json, eval_metrics.json `data`, or labels.json `sources`."""
    found = docs["train_config.json"].get("data") or _dict(docs["eval_metrics.json"].get("data")).get("sources") \
        or list(_dict(docs["labels.json"].get("sources")))
    if isinstance(found, dict):  # e.g. {"sources": [...], "window": ...}
        found = found.get("sources") or found.get("datasets") or list(found)
    return [str(d) for d in found] if isinstance(found, list) else ([str(found)] if found else [])


def _table(header: tuple, rows: list) -> str:
    lines = ["| " + " | ".join(map(str, header)) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def _fmt(v: object) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, list):
        return ", ".join(_fmt(x) for x in v)
    return str(v)


def _at(seq: object, i: int) -> object:
    return seq[i] if isinstance(seq, list) and i < len(seq) else None


def is_number(v: object) -> bool:
    """A real number in a metrics file (bools are ints in Python; they are not metrics)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _dict(v: object) -> dict:
    return v if isinstance(v, dict) else {}


def read_json_or_empty(path: Path) -> dict:
    """A JSON object, or {} when the file is missing or unreadable (for summaries only)."""
    try:
        doc = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return doc if isinstance(doc, dict) else {}
