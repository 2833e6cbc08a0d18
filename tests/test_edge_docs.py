"""docs/edge.md's systemd units and environment files, rendered from the page and checked.

The page is the source: each ```ini block whose first line is `# /etc/...` is one file. The
environment files must be settings the sidecar and gateway accept; the units must pass
`systemd-analyze verify` (skipped, that sub-check only, where systemd is not installed), with the
documented install prefix pointed at this venv so ExecStart names a real `tcnvae`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tcnvae.serve.gateway.settings import GatewaySettings
from tcnvae.serve.sidecar.settings import ServeSettings

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "edge.md"
BLOCK = re.compile(r"```ini\n# (/etc/\S+)\n(.*?)```", re.S)


def documented_files() -> dict[str, str]:
    return {path: body for path, body in BLOCK.findall(PAGE.read_text())}


def read_env(text: str) -> dict[str, str]:
    """KEY=value lines as systemd's EnvironmentFile reads them (comments and blanks skipped)."""
    pairs = (line.split("=", 1) for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#"))
    return {k.strip(): v.strip() for k, v in pairs}


def test_page_documents_both_units_and_both_environment_files() -> None:
    files = documented_files()
    assert set(files) == {"/etc/tcnvae/serve.env", "/etc/tcnvae/gateway.env",
                          "/etc/systemd/system/tcnvae-serve.service", "/etc/systemd/system/tcnvae-gateway.service"}
    for unit in ("tcnvae-serve.service", "tcnvae-gateway.service"):
        body = files[f"/etc/systemd/system/{unit}"]
        assert "Restart=on-failure" in body and "EnvironmentFile=/etc/tcnvae/" in body


def test_environment_files_are_valid_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    files = documented_files()
    for key in [k for k in os.environ if k.startswith(("TCNVAE_", "GATEWAY_"))]:
        monkeypatch.delenv(key)
    serve_env = read_env(files["/etc/tcnvae/serve.env"])
    for key, value in serve_env.items():
        monkeypatch.setenv(key, value)
    serve = ServeSettings()
    assert (serve.host, serve.port, serve.backend, serve.ref) == ("127.0.0.1", 9000, "onnx", "tcn_encoder@champion")
    gateway_env = read_env(files["/etc/tcnvae/gateway.env"])
    gateway_env["SESSIONS_DIR"] = str(tmp_path / "sessions")  # the documented /var/lib path need not exist here
    for key, value in gateway_env.items():
        monkeypatch.setenv(key, value)
    gateway = GatewaySettings()
    assert gateway.model_backend_url == f"http://{serve.host}:{serve.port}" and gateway.api_key
    unit = files["/etc/systemd/system/tcnvae-gateway.service"]
    host = re.search(r"--host (\S+)", unit)[1]
    gateway.check_bind(host)  # a public bind is accepted because the file sets API_KEY


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    venv = Path(sys.executable).parent.parent
    rendered = []
    for path, body in documented_files().items():
        text = body.replace("/opt/tcnvae/.venv", str(venv)).replace("/etc/tcnvae", str(tmp_path / "etc"))
        target = tmp_path / Path(path).name
        if path.endswith(".env"):
            (tmp_path / "etc").mkdir(exist_ok=True)
            target = tmp_path / "etc" / Path(path).name
        target.write_text(text)
        if path.endswith(".service"):
            rendered.append(target)
    proc = subprocess.run(["systemd-analyze", "verify", "--man=no", *map(str, rendered)],
                          capture_output=True, text=True, timeout=120)
    # systemd-analyze exits 0 on ignored keys and misplaced settings: every line naming one of
    # our units is a problem (lines about the host's own units are not ours to fix).
    ours = [line for line in (proc.stdout + proc.stderr).splitlines() if any(u.name in line for u in rendered)]
    assert proc.returncode == 0 and not ours, proc.stdout + proc.stderr
