"""`export_release`: build every edge/server artifact of a release in a temp folder, check it, add it.

Order matters: nothing reaches the release until every graph has passed the ONNX checker,
the Hailo allowlist and every parity bound; then `Registry.add_files` adds the lot to the
add-only export/ folder and extends SHA256SUMS, and the release is verified again.

export/reference_outputs.npz (PyTorch's outputs on the stored calibration windows) lets a
torch-free device prove its ONNX graph at start-up. Releases exported before that file existed
get it added on their next `tcnvae export` (add-only: nothing already released changes).
"""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path

import numpy as np

from tcnvae.export import parity as P
from tcnvae.export.errors import ExportError
from tcnvae.export.hailo import hailo_report
from tcnvae.export.onnx import STATIC_OPSET, check_onnx, export_onnx
from tcnvae.export.quantize import load_calibration, quantize_int8
from tcnvae.export.triton import triton_version, write_triton_repo
from tcnvae.model.tcn import receptive_field
from tcnvae.registry.reference import REFERENCE_FILE, reference_inputs, write_reference
from tcnvae.registry.store import Registry, Release

log = logging.getLogger(__name__)

STATIC, DYNAMIC, INT8 = "encoder_static.onnx", "encoder.onnx", "encoder_int8.onnx"
CALIBRATION, PARITY, HAILO = "calibration.npy", "parity.json", "hailo_report.json"


def expected_files(release: Release, int8: bool = True) -> list[str]:
    """Paths under export/ that a complete export of `release` holds."""
    number = triton_version(release.version)
    names = [STATIC, DYNAMIC, CALIBRATION, PARITY, HAILO, REFERENCE_FILE, *([INT8] if int8 else []),
             f"triton/{release.name}/config.pbtxt", f"triton/{release.name}/{number}/model.onnx"]
    return sorted(names)


def export_release(registry: Registry, ref: str, int8: bool = True, calibration: str | None = None,
                   data_dir=None) -> dict:
    """Export a release (verified on open); returns the parity summary and the export paths.

    `calibration` (a dataset name or a .npy of raw SI windows, see export/calibration.py)
    replaces the release's samples/calibration.npy. A release whose export/ is already complete
    (and verified) is left as it is. A partial export/ is refused: released files are never
    modified, so publish a new version instead.
    """
    release = registry.open(ref)
    wanted = expected_files(release, int8)
    present = sorted(p.relative_to(release.export_dir).as_posix()
                     for p in release.export_dir.rglob("*") if p.is_file()) if release.export_dir.is_dir() else []
    if present:
        missing = sorted(set(wanted) - set(present))
        if missing == [REFERENCE_FILE]:  # exported before reference outputs existed: add them only
            return _add_reference(registry, release, wanted)
        if missing:
            raise ExportError(f"{release.export_dir}: already holds {len(present)} files but lacks {missing}; "
                              "released files are never modified — publish a new version to re-export")
        log.info("%s: export/ already complete and verified", release.ref)
        return _summary(release, wanted, already=True)
    if registry.is_shipped(release):  # say so before minutes of work, not after
        raise ExportError(f"{release.ref} is a shipped release in {registry.shipped} without export/, read-only "
                          f"from the default registry; pass --models {registry.shipped} to export into it")
    windows = None
    if calibration is not None:
        from tcnvae.export.calibration import calibration_windows

        windows = calibration_windows(calibration, release.normalizer(), data_dir)
    with tempfile.TemporaryDirectory(prefix=".export-") as tmp:
        files = build_export(release, Path(tmp), int8, windows)
        registry.add_files(release, {f"export/{rel}": path for rel, path in files.items()})
    registry.open(release.ref)  # fail closed if anything we added does not verify
    log.info("%s: exported %d files to %s", release.ref, len(files), release.export_dir)
    return _summary(release, wanted, already=False)


def _add_reference(registry: Registry, release: Release, wanted: list[str]) -> dict:
    """Add export/reference_outputs.npz to an otherwise complete export, after checking the shipped graph."""
    encoder = release.load_encoder()
    with tempfile.TemporaryDirectory(prefix=".export-") as tmp:
        path = write_reference_outputs(release, encoder, Path(tmp), release.export_dir / DYNAMIC)
        registry.add_files(release, {f"export/{REFERENCE_FILE}": path})
    registry.open(release.ref)
    log.info("%s: added export/%s to an existing export", release.ref, REFERENCE_FILE)
    return _summary(release, wanted, already=False)


def write_reference_outputs(release: Release, encoder, out: Path, graph: Path) -> Path:
    """PyTorch's outputs on the stored calibration windows, written under out once `graph` matches them.

    The bound is the export's own fp32 one (fp32_max_abs_diff), far inside the sidecar's start-up
    bound, so a reference that the shipped graph cannot reproduce never enters a release.
    """
    x = reference_inputs(release.path)
    ref = P.run_torch(encoder, x)
    got = P.run_onnx(graph, x)
    err = max(float(abs(r - g).max()) for r, g in zip(ref, got))
    P.require_pass(P.verdict({"fp32_max_abs_diff": err}), f"{release.ref} ({graph.name} vs {REFERENCE_FILE})")
    return write_reference(out / REFERENCE_FILE, dict(zip(P.OUTPUT_NAMES, ref)), source="pytorch")


def _summary(release: Release, files: list[str], already: bool) -> dict:
    report = json.loads((release.export_dir / PARITY).read_text())
    return {"ref": release.ref, "export_dir": str(release.export_dir), "already_exported": already,
            "files": {f: str(release.export_dir / f) for f in files},
            "passed": report["passed"], "checks": report["checks"]}


def build_export(release: Release, out: Path, int8: bool,
                 calibration_from: tuple[np.ndarray, dict] | None = None) -> dict[str, Path]:
    """Write and check every artifact under `out`; raise ExportError before returning on any failure.

    `calibration_from`: (normalized windows, where they came from) instead of the release's samples.
    """
    encoder = release.load_encoder()
    static = check_onnx(export_onnx(encoder, out / STATIC, dynamic=False))
    export_onnx(encoder, out / DYNAMIC, dynamic=True)
    if calibration_from is None:
        calibration = load_calibration(release.path / "samples" / "calibration.npy")
        origin: dict = {"file": "samples/calibration.npy", "windows": int(len(calibration))}
    else:
        calibration, origin = calibration_from
    np.save(out / CALIBRATION, calibration)
    if int8:
        work = out / ".work"
        work.mkdir()
        quantize_int8(out / DYNAMIC, out / INT8, calibration, work)
    report = hailo_report(static, name=release.name, ref=release.ref,
                          normalization=release.read_json("normalization.json"),
                          receptive_field=_receptive_field(release), calibration_shape=list(calibration.shape))
    _require_hailo_ready(report)
    _write_json(out / HAILO, report)
    checks = measure_parity(release, encoder, out, int8, origin)
    P.require_pass(checks, f"{release.ref} ({out / PARITY})")
    write_reference_outputs(release, encoder, out, out / DYNAMIC)
    files = {name: out / name for name in (STATIC, DYNAMIC, CALIBRATION, PARITY, HAILO, REFERENCE_FILE,
                                           *([INT8] if int8 else []))}
    n_classes = int(report["outputs"].get("activity_probs", [0])[-1])  # 0: motif-only
    files.update(write_triton_repo(out, release.name, release.version, n_classes, out / DYNAMIC))
    return files


def measure_parity(release: Release, encoder, out: Path, int8: bool, calibration: dict | None = None
                   ) -> dict[str, dict]:
    """Run every graph on the held-out windows, write parity.json under out, return the checks."""
    x, y = P.load_heldout(release.path / "samples" / "heldout.npz")
    torch_out = P.run_torch(encoder, x)
    static_out = P.run_onnx(out / STATIC, x, batch=None)
    dynamic_out = P.run_onnx(out / DYNAMIC, x)
    fp32 = {"static": P.compare(torch_out, static_out), "dynamic": P.compare(torch_out, dynamic_out)}
    sd = P.compare(static_out, dynamic_out)
    measured = {
        "fp32_cosine_min": min(v["cosine_min"] for g in fp32.values() for v in g.values()),
        "fp32_max_abs_diff": max(v["max_abs_diff"] for g in fp32.values() for v in g.values()),
        "static_vs_dynamic_max_abs_diff": max(v["max_abs_diff"] for v in sd.values()),
    }
    int8_report: dict | str = "skipped (--skip-int8)"
    if int8:
        int8_report = P.int8_measures(dynamic_out, P.run_onnx(out / INT8, x), y, dynamic_out[-1].shape[1])
        measured.update({"int8_latent_cosine_mean": int8_report["latent_cosine_mean"],
                         "int8_argmax_agreement": int8_report["argmax_agreement"]})
        if "macro_f1_drop" in int8_report:  # a motif-only model has no labels to score
            measured["int8_macro_f1_drop"] = int8_report["macro_f1_drop"]
    limits = {"int8_argmax_agreement": P.argmax_agreement_bound(len(x))}  # the others are fixed
    checks = P.verdict(measured, limits)
    _write_json(out / PARITY, {
        "release": release.ref, "heldout": {"file": "samples/heldout.npz", "windows": int(len(x))},
        "calibration": calibration or {},
        "bounds": {k: {"kind": kind, "limit": limits.get(k, limit)} for k, (kind, limit) in P.BOUNDS.items()},
        "fp32_vs_pytorch": fp32, "static_vs_dynamic": sd, "int8_vs_fp32": int8_report,
        "checks": checks, "passed": all(c["pass"] for c in checks.values())})
    return checks


def _receptive_field(release: Release) -> int:
    cfg = release.read_json("model_config.json")
    return receptive_field(len(cfg["channels"]), int(cfg["kernel_size"]))


def _require_hailo_ready(report: dict) -> None:
    problems = []
    if report["opset"] != STATIC_OPSET:
        problems.append(f"opset {report['opset']} (want {STATIC_OPSET})")
    if not report["static_shapes"]:
        problems.append("dynamic shapes")
    if report["off_allowlist"]:
        problems.append(f"operators off the Hailo allowlist: {report['off_allowlist']}")
    if report["non_causal_pads"]:
        problems.append(f"pads that are not left-only constant: {report['non_causal_pads']}")
    if problems:
        raise ExportError(f"{STATIC}: not Hailo-ready: " + "; ".join(problems))


def _write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n")
