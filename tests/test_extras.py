"""The edge install: serving, gateway, analysis, runtime and registry import and run without torch.

Each check runs in a fresh interpreter. "Blocked" means a meta-path finder placed first refuses
the `train` extra's modules before anything is imported, so any import of them fails as on a real
edge install (where they are absent) while sys.modules stays free of them (scipy, for one, looks
there for torch); the unblocked check proves they are not even imported lazily. The real fresh
venv with only `pip install .` is scripts/edge_venv.sh (run by benchmarks/edge_footprint.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tcnvae.extras import EXTRA_OF

ROOT = Path(__file__).resolve().parents[1]
# Torch-only modules of otherwise torch-free packages: the seed import and the PyTorch backend.
TORCH_ONLY = {"tcnvae.registry.legacy", "tcnvae.runtime.torch_backend"}
EDGE_PACKAGES = ("tcnvae.serve", "tcnvae.runtime", "tcnvae.analysis", "tcnvae.registry")
EDGE_CLI = ("tcnvae.cli", "tcnvae.cli.serve", "tcnvae.cli.gateway", "tcnvae.cli.analyze", "tcnvae.cli.registry")

BLOCK = f"""import sys
class _NoExtra:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {sorted(EXTRA_OF)!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}} (blocked: edge install)", name=name)
        return None
sys.meta_path.insert(0, _NoExtra())
"""
IMPORT_ALL = f"""
import importlib, pkgutil, sys, json
names = list({EDGE_CLI!r})
for pkg in {EDGE_PACKAGES!r}:
    mod = importlib.import_module(pkg)
    names.append(pkg)
    names += [m.name for m in pkgutil.walk_packages(mod.__path__, pkg + ".") if m.name not in {sorted(TORCH_ONLY)!r}]
for name in names:
    importlib.import_module(name)
print(json.dumps({{"imported": names, "loaded": sorted(m for m in {sorted(EXTRA_OF)!r} if sys.modules.get(m))}}))
"""


def _python(code: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def test_edge_packages_import_with_the_train_extra_blocked() -> None:
    proc = _python(BLOCK + IMPORT_ALL)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout.splitlines()[-1])
    assert "tcnvae.serve.sidecar.app" in report["imported"] and "tcnvae.serve.gateway.app" in report["imported"]
    assert "tcnvae.runtime.onnx_backend" in report["imported"] and "tcnvae.runtime.hailo_backend" in report["imported"]


def test_edge_packages_never_load_torch_even_when_installed() -> None:
    proc = _python(IMPORT_ALL)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout.splitlines()[-1])["loaded"] == []


def test_issue_check_import_serve_leaves_torch_out() -> None:
    proc = _python("import sys, tcnvae.serve; assert 'torch' not in sys.modules")
    assert proc.returncode == 0, proc.stderr


def _cli(*argv: str) -> subprocess.CompletedProcess:
    return _python(BLOCK + "import sys\nfrom tcnvae.cli import main\nsys.exit(main(sys.argv[1:]))", *argv)


@pytest.mark.parametrize("argv", [("train", "--epochs", "1"), ("evaluate", "models"), ("quickstart",)])
def test_training_verbs_name_the_missing_extra_in_one_line(argv: tuple[str, ...]) -> None:
    proc = _cli(*argv)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"tcnvae {argv[0]}: error:"), proc.stderr
    assert "pip install 'tcnvae[train]'" in lines[0]


def test_help_lists_every_verb_and_marks_the_ones_needing_an_extra() -> None:
    proc = _cli("--help")
    assert proc.returncode == 0, proc.stderr
    for verb in ("serve", "gateway", "analyze", "registry", "train"):
        assert verb in proc.stdout
    assert "needs pip install 'tcnvae[train]'" in proc.stdout


def test_export_without_torch_names_the_extra(tmp_path: Path) -> None:
    proc = _cli("export", "tcn_encoder@champion", "--models", str(ROOT / "models"))
    assert proc.returncode == 1 and "pip install 'tcnvae[train]'" in proc.stderr, proc.stderr


def test_registry_verify_and_list_work_without_torch() -> None:
    proc = _cli("registry", "verify", "tcn_encoder@champion", "--models", str(ROOT / "models"))
    assert proc.returncode == 0, proc.stderr
    proc = _cli("registry", "list", "--models", str(ROOT / "models"))
    assert proc.returncode == 0 and "tcn_encoder" in proc.stdout, proc.stderr


def test_serve_backend_torch_on_the_edge_install_names_the_extra() -> None:
    proc = _cli("serve", "tcn_encoder@champion", "--models", str(ROOT / "models"), "--backend", "torch")
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.strip() == ("tcnvae serve: error: --backend torch needs torch, which the edge install "
                                   "leaves out: pip install 'tcnvae[train]'")
