"""The main job end to end, on a tiny configuration: fetch, train, release, export, verify.

It runs the way a new user runs it: in a fresh `git clone` of this repository, with the
default folders, and the checkout must be as clean afterwards as before (`git status
--porcelain` empty): user releases go to the git-ignored user registry, never into the
shipped `models/`, which stays listed and servable beside them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tcnvae.registry.store import Registry

REPO = Path(__file__).resolve().parents[1]


def _git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tcnvae.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=1500)


def _quickstart(clone: Path) -> dict:
    proc = _cli("quickstart", "--tiny", "--json", cwd=clone)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout[proc.stdout.index("{"):])


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("needs git and a git checkout of the repository")
    dst = tmp_path_factory.mktemp("clone") / "tcnvae"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(dst)], check=True, capture_output=True)
    assert _git("status", "--porcelain", cwd=dst) == ""
    return dst


def test_quickstart_and_a_release_in_a_fresh_clone_leave_the_checkout_clean(clone: Path) -> None:
    shipped = Registry(clone / "models")
    shipped_versions = shipped.versions("tcn_encoder")
    nxt = shipped.next_version("tcn_encoder")  # user versions continue after the shipped ones
    first = _quickstart(clone)
    assert first["ref"] == f"tcn_encoder@{nxt}"
    assert first["parity_passed"] is True
    assert first["windows_per_s"]["fp32"] > 0 and first["windows_per_s"]["int8"] > 0
    # The printed command is runnable as shown: this interpreter, not a bare `tcnvae` off PATH.
    assert first["serve"] == f"{sys.executable} -m tcnvae.cli serve {first['ref']}"
    # A second release beside it (as a second quickstart would make; without its training time).
    released = _cli("release", first["run_dir"], "--promote", "candidate", cwd=clone)
    assert released.returncode == 0, released.stderr[-3000:]
    second = {"ref": released.stdout.split()[1]}
    assert second["ref"] == f"tcn_encoder@{Registry(clone / 'user-models', shipped=clone / 'models').versions('tcn_encoder')[-1]}"
    assert second["ref"] != first["ref"]
    assert _git("status", "--porcelain", cwd=clone) == "", "the main job modified the checkout"

    user = Registry(clone / "user-models")
    release = user.open(first["ref"])  # verifies every checksum, export/ included
    assert (release.export_dir / "encoder_static.onnx").is_file()
    assert (release.export_dir / "encoder_int8.onnx").is_file()
    user.open(second["ref"])
    assert user.aliases("tcn_encoder") == {"candidate": second["ref"].split("@")[1]}
    changelog = (clone / "user-models" / "CHANGELOG.md").read_text()
    assert first["ref"] in changelog and second["ref"] in changelog
    assert shipped.versions("tcn_encoder") == shipped_versions

    # The default registry sees both: shipped releases keep their aliases, user ones are added.
    both = Registry(clone / "user-models", shipped=clone / "models")
    assert both.resolve("tcn_encoder@champion") == shipped.resolve("tcn_encoder@champion")
    assert both.resolve("tcn_encoder@candidate")[1] == second["ref"].split("@")[1]
    listed = _cli("registry", "list", "--json", cwd=clone)
    assert listed.returncode == 0, listed.stderr
    rows = {r["version"]: r for r in json.loads(listed.stdout)}
    assert set(shipped_versions) | {first["ref"].split("@")[1], second["ref"].split("@")[1]} <= set(rows)
    assert rows[shipped.resolve("tcn_encoder@champion")[1]]["registry"] == "models"
    assert rows[second["ref"].split("@")[1]]["registry"] == "user-models"
    verified = _cli("registry", "verify", cwd=clone)
    assert verified.returncode == 0, verified.stdout[-2000:] + verified.stderr[-2000:]
    assert _git("status", "--porcelain", cwd=clone) == ""
