"""Shared by the benchmark scripts: machine description and appending a table to BENCHMARKS.md."""

from __future__ import annotations

import os
import platform
import sys
from datetime import datetime, timezone
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "BENCHMARKS.md"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def append_section(title: str, body: str, command: str | None = None) -> None:
    command = command or "python " + " ".join(sys.argv)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    text = f"\n## {title}\n\n_{stamp} · {machine()}_\n\n```bash\n{command}\n```\n\n{body.strip()}\n"
    head = "" if BENCHMARKS.exists() else "# Benchmarks\n\nEvery table here was appended by a script in `benchmarks/`, with the command that produced it.\n"
    with open(BENCHMARKS, "a") as f:
        f.write(head + text)


def publish(title: str, table: str, append: bool = True) -> None:
    """Print a benchmark's table and, unless told not to, append it to BENCHMARKS.md."""
    print(table)
    if append:
        append_section(title, table)
