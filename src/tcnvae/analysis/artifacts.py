"""Write an analysis to a folder, atomically: results.json, ethogram.png, report.html."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from tcnvae.analysis.report import render_report

RESULTS = "results.json"
ETHOGRAM = "ethogram.png"
REPORT = "report.html"


def atomic_write(path: Path, data: bytes) -> None:
    """Temp file in the same folder, fsync, rename: readers see all of it or nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_analysis(results: dict, out_dir: Path, report: bool = True) -> dict[str, Path]:
    """Write the files; results.json last, so its presence means the analysis is complete."""
    # matplotlib loads on the first picture, not at import: a gateway that has not drawn yet stays small.
    from tcnvae.analysis.plots import ethogram_png

    out_dir = Path(out_dir)
    png = ethogram_png(results)
    paths = {"ethogram": out_dir / ETHOGRAM, "results": out_dir / RESULTS}
    atomic_write(paths["ethogram"], png)
    if report:
        paths["report"] = out_dir / REPORT
        atomic_write(paths["report"], render_report(results, png).encode("utf-8"))
    atomic_write(paths["results"], json.dumps(results, indent=1).encode("utf-8"))
    return paths
