"""Every command in README.md and docs/*.md that names a shipped example file runs as written.

Commands are read from the fenced bash/console blocks (continuation lines joined, `$ ` prompts
and trailing comments dropped) and run with bash in a sandbox folder that links the checkout's
`src/`, `models/` and `.venv/`, so outputs never land in the checkout. `curl` commands go to a
real gateway (stub mode) started on a free port in place of the documented 8082.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.serve.server import Process, free_port

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = "src/tcnvae/data/examples/csv_example"
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def doc_commands() -> list[tuple[str, str]]:
    """(doc file, command) for each command that names an example file, in order, deduplicated."""
    out: list[tuple[str, str]] = []
    for doc in DOCS:
        for block in re.findall(r"```(?:bash|console)\n(.*?)```", doc.read_text(), flags=re.S):
            for line in re.sub(r"\\\n\s*", " ", block).splitlines():
                line = re.sub(r"^\$ ", "", line.strip())
                if EXAMPLES in line and not line.startswith("#"):
                    cmd = " ".join(re.sub(r"\s+#.*$", "", line).split())
                    if cmd not in [c for _, c in out]:
                        out.append((doc.name, cmd))
    return out


def test_the_docs_name_the_examples() -> None:
    names = {c.split()[0] for _, c in doc_commands()}
    assert {"tcnvae", "$T", "curl"} <= names, doc_commands()
    for _, cmd in doc_commands():
        for path in re.findall(rf"{EXAMPLES}/[\w./]*", cmd):
            assert (REPO / path).exists(), path


def test_doc_commands_run_as_written(tmp_path: Path) -> None:
    if not (REPO / "models" / "tcn_encoder").is_dir():
        pytest.skip("the shipped registry is not here")
    box = tmp_path / "box"
    box.mkdir()
    for name in ("src", "models", ".venv"):
        if (REPO / name).exists():
            (box / name).symlink_to(REPO / name)
    bindir = Path(sys.executable).parent
    env = {**os.environ, "TCNVAE_DATA": str(tmp_path / "data"), "T": str(bindir / "tcnvae"),
           "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}
    port = free_port()
    gateway = Process(["gateway", "--host", "127.0.0.1"], port, tmp_path / "gateway.log",
                      env={"USE_REAL_MODEL": "false", "SESSIONS_DIR": str(tmp_path / "sessions")})
    try:
        gateway.wait_ready()
        for doc, cmd in doc_commands():
            run = cmd.replace("localhost:8082", f"127.0.0.1:{port}")
            proc = subprocess.run(["bash", "-c", run], cwd=box, env=env, capture_output=True, text=True,
                                  timeout=900)
            assert proc.returncode == 0, f"{doc}: {cmd}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
            if shlex.split(cmd)[0] == "curl":
                assert '"status":"processing"' in proc.stdout.replace(" ", ""), f"{doc}: {cmd}\n{proc.stdout}"
    finally:
        gateway.stop()
    assert (box / "analysis-user02_stairs" / "results.json").is_file()
