"""Turn a training run directory into a versioned, checksummed release.

`create_release` checks the run directory, writes every file of the release into a hidden
staging folder (weights as safetensors only, a model card generated from the data), and lets
`Registry.publish` checksum it and rename it into place. Any failure removes the staging
folder, so a crash never leaves a partial version behind.
"""

from __future__ import annotations

import json
import logging
import shutil
from datetime import datetime, timezone
from pathlib import Path

from typing import TYPE_CHECKING

from tcnvae.model.checkpoint import CheckpointError, load_model, read_metadata
from tcnvae.registry.card import datasets as _datasets_of, is_number, read_json_or_empty, render_card
from tcnvae.registry.store import (RUN_FILES, SAMPLES, SEMVER, WEIGHTS_ENCODER, WEIGHTS_FULL, Registry, Release,
                                   RegistryError, format_version, parse_version)

if TYPE_CHECKING:  # torch loads inside the functions that write weights: `registry list` stays torch-free
    from tcnvae.model.vae import TCNVAE

log = logging.getLogger(__name__)

RUN_WEIGHTS = "model.safetensors"
ADAPTATION = "adaptation.json"  # written by `tcnvae adapt` (registry/adapt.py)
# What runs at the edge (DeployableEncoder); decoder, fc_logvar and the domain head stay in full.safetensors.
ENCODER_PREFIXES = ("encoder.", "fc_mu.", "activity_head.", "motifs.")


def choose_version(registry: Registry, name: str, version: str | None, bump: str | None) -> str:
    """The "vX.Y.Z" to release: explicit, bumped from the latest, or registry.next_version."""
    if version is not None and bump is not None:
        raise RegistryError("give either a version or a bump, not both")
    if version is not None:
        if not SEMVER.match(version):
            raise RegistryError(f"malformed version {version!r}: expected MAJOR.MINOR.PATCH, e.g. 1.2.0")
        chosen = format_version(parse_version(version))
    else:
        chosen = registry.next_version(name, bump or "minor")
    if chosen in registry.versions(name):
        raise RegistryError(f"{name}@{chosen} already exists in {registry.where}; released versions are never "
                            f"modified (use --bump or a new --version)")
    return chosen


def check_run_dir(run_dir: Path) -> TCNVAE:
    """Every file a release needs is there and consistent; returns the run's model."""
    from tcnvae.model.vae import ModelConfig

    if not run_dir.is_dir():
        raise RegistryError(f"{run_dir}: run directory not found")
    for rel in (RUN_WEIGHTS, *RUN_FILES, *SAMPLES):
        if not (run_dir / rel).is_file():
            raise RegistryError(f"{run_dir / rel}: missing from the run directory (needed for a release)")
    docs = {rel: _read_json(run_dir / rel) for rel in RUN_FILES}
    try:
        model, _ = load_model(run_dir / RUN_WEIGHTS, strict=True)
    except CheckpointError as e:
        raise RegistryError(str(e)) from e
    try:
        config = ModelConfig.from_dict(docs["model_config.json"])
    except (TypeError, ValueError) as e:
        raise RegistryError(f"{run_dir / 'model_config.json'}: not a model config ({e})") from e
    if config != model.config:
        raise RegistryError(f"{run_dir / 'model_config.json'}: differs from the config in {RUN_WEIGHTS}")
    labels = docs["labels.json"].get("labels")
    if not isinstance(labels, list) or len(labels) != config.n_classes:
        raise RegistryError(f"{run_dir / 'labels.json'} [labels]: expected {config.n_classes} label names")
    check_normalization(docs["normalization.json"], run_dir / "normalization.json")
    return model


def check_normalization(doc: dict, where: Path) -> None:
    from tcnvae.data.normalize import Normalizer

    try:
        Normalizer.from_dict(doc, str(where))
    except Exception as e:  # noqa: BLE001 - DataError is not (yet) a TcnvaeError; refuse any bad file
        raise RegistryError(f"{where}: invalid normalization ({e})") from e


def write_encoder_weights(path: Path, model: TCNVAE, metadata: dict[str, str]) -> None:
    """encoder.safetensors: only what DeployableEncoder runs, plus the config to rebuild it."""
    from safetensors.torch import save_file

    header = {"format": "tcnvae", "model_config": json.dumps(model.config.to_dict()), **metadata}
    tensors = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()
               if k.startswith(ENCODER_PREFIXES)}
    save_file(tensors, str(path), metadata=header)


def write_json(path: Path, doc: object) -> None:
    path.write_text(json.dumps(doc, indent=2, sort_keys=False) + "\n")


def create_release(registry: Registry, run_dir: str | Path, name: str = "tcn_encoder",
                   version: str | None = None, bump: str | None = None) -> Release:
    """Release run_dir as name@version (default: registry.next_version); all of it or nothing."""
    run_dir = Path(run_dir).resolve()
    version = choose_version(registry, name, version, bump)
    model = check_run_dir(run_dir)
    created = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    staging = registry.staging_dir(name)
    log.info("releasing %s as %s@%s (staging %s)", run_dir, name, version, staging.name)
    try:
        for rel in (*RUN_FILES, *SAMPLES):
            (staging / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(run_dir / rel, staging / rel)
        shutil.copyfile(run_dir / RUN_WEIGHTS, staging / WEIGHTS_FULL)
        notes = []
        if (run_dir / ADAPTATION).is_file():  # a run written by `tcnvae adapt`
            shutil.copyfile(run_dir / ADAPTATION, staging / ADAPTATION)
            adapted = _read_json(run_dir / ADAPTATION)
            notes.append(f"Adapted from {adapted.get('adapted_from')} by AdaBN on {adapted.get('n_windows')} "
                         "unlabelled windows of a new wearer; the metrics above are the source release's, "
                         "measured before adaptation.")
        source = shown_path(run_dir)
        meta = {"name": name, "version": version, "created": created, "source_run": source}
        write_encoder_weights(staging / WEIGHTS_ENCODER, model, meta)
        card = render_card(staging, name=name, version=version, created=created, source=source, notes=notes)
        (staging / "model_card.md").write_text(card)
        return registry.publish(staging, name, version, changelog_entry(staging, source))
    except OSError as e:
        raise RegistryError(f"releasing {run_dir} as {name}@{version} failed, nothing was published: {e}") from e
    finally:
        if staging.exists():  # publish renames it away on success; anything left is a failure
            shutil.rmtree(staging, ignore_errors=True)


def shown_path(path: Path) -> str:
    """A run dir as recorded in cards and the changelog: relative to the working directory when
    inside it, so a committed registry does not carry one machine's absolute paths."""
    try:
        return str(path.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def changelog_entry(folder: Path, source: Path | str) -> str:
    """What a reader of CHANGELOG.md wants: metrics, data, labels, source run, weights hash."""
    metrics = read_json_or_empty(folder / "eval_metrics.json")
    test = metrics.get("test", {}) if isinstance(metrics.get("test"), dict) else {}
    labels = read_json_or_empty(folder / "labels.json").get("labels", [])
    data = ", ".join(_datasets(folder)) or "unknown"
    shown = {k: test[k] for k in ("accuracy", "macro_f1", "linear_probe_accuracy") if is_number(test.get(k))}
    lines = [
        "- test: " + (", ".join(f"{k} {v:.4f}" for k, v in shown.items()) or "no test metrics recorded"),
        f"- data: {data}",
        f"- labels ({len(labels)}): {', '.join(map(str, labels))}",
        f"- source run: `{source}`",
    ]
    if (folder / WEIGHTS_ENCODER).is_file():
        from tcnvae.registry.checksums import sha256_file

        lines.append(f"- encoder.safetensors sha256: `{sha256_file(folder / WEIGHTS_ENCODER)}`")
    return "\n".join(lines)


def describe(registry: Registry, name: str, version: str) -> dict:
    """One row of `tcnvae registry list` (no verification; cheap: JSON and a header read)."""
    folder = registry.path_of(name, version)
    test = read_json_or_empty(folder / "eval_metrics.json").get("test", {})
    test = test if isinstance(test, dict) else {}
    try:
        created = read_metadata(folder / WEIGHTS_ENCODER).get("created", "")
    except CheckpointError:
        created = ""
    aliases = sorted(a for a, v in registry.aliases(name).items() if v == version)
    labels = read_json_or_empty(folder / "labels.json").get("labels")
    return {"name": name, "version": version, "aliases": aliases, "datasets": _datasets(folder),
            "n_labels": len(labels) if isinstance(labels, list) else None,
            "test_macro_f1": test.get("macro_f1"), "test_accuracy": test.get("accuracy"), "created": created,
            "registry": str(folder.parent.parent)}


def _datasets(folder: Path) -> list[str]:
    return _datasets_of({f: read_json_or_empty(folder / f) for f in ("train_config.json", "eval_metrics.json", "labels.json")})


def _read_json(path: Path) -> dict:
    try:
        doc = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RegistryError(f"{path}: not readable JSON ({e})") from e
    if not isinstance(doc, dict):
        raise RegistryError(f"{path}: expected a JSON object")
    return doc
