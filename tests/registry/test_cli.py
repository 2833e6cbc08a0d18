"""The registry CLI through the installed `tcnvae` script: exit codes and fail-closed verify."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.registry.helpers import copy_registry

TCNVAE = str(Path(__file__).resolve().parents[2] / ".venv" / "bin" / "tcnvae")


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([TCNVAE, *args], capture_output=True, text=True, cwd=cwd, timeout=120,
                          env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})


def test_verify_fails_closed_and_names_every_problem(registry_root: Path, tmp_path: Path) -> None:
    _, version_dir = copy_registry(registry_root, tmp_path / "models")
    (version_dir / "eval_metrics.json").write_text('{"test": {"accuracy": 0.99}}')
    (version_dir / "model_card.md").unlink()
    (version_dir / "extra.bin").write_bytes(b"x")
    done = _run("registry", "verify", "--models", str(tmp_path / "models"))
    assert done.returncode == 1
    for problem in ("changed: eval_metrics.json", "missing: model_card.md", "extra: extra.bin"):
        assert problem in done.stdout
    assert "tcn_encoder@v1.0.0" in done.stderr
    done = _run("registry", "show", "tcn_encoder@champion", "--models", str(tmp_path / "models"))
    assert done.returncode == 1 and len(done.stderr.strip().splitlines()) == 1 and "failed verification" in done.stderr


def test_release_list_verify_pack_unpack(run_dir: Path, tmp_path: Path) -> None:
    models, other = tmp_path / "models", tmp_path / "other"
    done = _run("release", str(run_dir), "--version", "2.0.0", "--models", str(models), "--promote", "champion")
    assert done.returncode == 0, done.stderr
    rows = json.loads(_run("registry", "list", "--json", "--models", str(models)).stdout)
    assert [(r["version"], r["aliases"]) for r in rows] == [("v2.0.0", ["champion"])]
    done = _run("registry", "pack", "tcn_encoder", "--models", str(models), "--out", str(tmp_path / "dist"))
    assert done.returncode == 0, done.stderr
    tarball = tmp_path / "dist" / "tcn_encoder-v2.0.0.tar.gz"
    assert _run("registry", "unpack", str(tarball), "--models", str(other)).returncode == 0
    done = _run("registry", "verify", "--json", "--models", str(other))
    assert done.returncode == 0 and json.loads(done.stdout)[0]["ok"] is True
