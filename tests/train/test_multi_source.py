"""Two sources at once: labels mapped into one taxonomy, a domain id per source, DANN on."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from tcnvae.data.fetch import fetch
from tcnvae.train.config import build_config
from tcnvae.train.prepare import prepare
from tcnvae.train.run import train_run

CSV_EXAMPLE = Path(__file__).resolve().parents[2] / "src" / "tcnvae" / "data" / "examples" / "csv_example"


def test_two_sources_train_with_a_domain_head(tmp_path: Path) -> None:
    torch.set_num_threads(2)
    fetch("csv", from_path=CSV_EXAMPLE)
    cfg = build_config(data="watch,csv", preset="tiny", epochs=1, val_subjects=1, batch_size=128)
    data = prepare(cfg)
    assert data.domain_names == ("csv", "watch")
    assert set(data.train.domain.tolist()) | set(data.val.domain.tolist()) == {"csv", "watch"}
    # watch's exercises have no canonical match and keep their identity; the CSV example's do map
    assert all(n.startswith("watch:") for n in data.sources["watch"])
    train_run(cfg, tmp_path / "run")
    rows = [json.loads(r) for r in (tmp_path / "run" / "history.jsonl").read_text().splitlines()]
    assert "domain" in rows[0] and rows[0]["domain"] == rows[0]["domain"]  # the domain loss ran, finite
    labels = json.loads((tmp_path / "run" / "labels.json").read_text())
    assert set(labels["sources"]) == {"watch", "csv"} and labels["domains"] == ["csv", "watch"]
    config = json.loads((tmp_path / "run" / "model_config.json").read_text())
    assert config["n_domains"] == 2
