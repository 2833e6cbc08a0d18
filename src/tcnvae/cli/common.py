"""What several verbs share: the help formatter that shows defaults, the `--models` wording and the
`--average-shifts` parser."""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys
from pathlib import Path

MODELS_HELP = ("registry folder (default: your releases in user-models/, git-ignored, plus the shipped "
               "models/; a folder given here is used alone, e.g. --models models to change the shipped one)")


def average_shifts(text: str | None) -> tuple[int, ...]:
    """--average-shifts D,D,... -> the shifts D (sorted, distinct); "none" or empty -> (); refuses
    what is not 0 < D < WINDOW (`analysis.shift_average.signed_offsets`, naming the flag)."""
    from tcnvae.analysis.shift_average import signed_offsets
    from tcnvae.errors import TcnvaeError

    if not text or text.strip().lower() == "none":
        return ()
    try:
        given = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise TcnvaeError(f"--average-shifts {text!r}: give whole numbers of samples, e.g. 25,50, or none") from None
    if not given:
        raise TcnvaeError(f"--average-shifts {text!r}: give whole numbers of samples, e.g. 25,50, or none")
    signed_offsets(tuple(given), f"--average-shifts {text!r}")
    return tuple(sorted(set(given)))


def average_offsets(text: str | None) -> list[int]:
    """--average-shifts D,D,... -> the signed offsets [-D, ..., +D] that evaluation shifts windows by."""
    from tcnvae.analysis.shift_average import signed_offsets

    return list(signed_offsets(average_shifts(text)))


class DefaultsHelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Appends "(default: X)" to a flag's help unless the help already says its default.

    Unlike argparse.ArgumentDefaultsHelpFormatter it stays quiet for None and False (the help
    says what an unset flag means) and never repeats a default the text already gives.
    """

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (text and "default" not in text and default not in (None, False, argparse.SUPPRESS)
                and (action.option_strings or action.nargs in ("?", "*"))):
            shown = ",".join(map(str, default)) if isinstance(default, (list, tuple)) else default
            text += f" (default: {shown})"
        return text


class Parser(argparse.ArgumentParser):
    """ArgumentParser whose sub-commands inherit DefaultsHelpFormatter."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", DefaultsHelpFormatter)
        super().__init__(*args, **kwargs)


def command_name() -> str:
    """How to call this `tcnvae` again from the current shell, so printed commands work as shown.

    `tcnvae` when that is on PATH (an activated venv), else the path that was run
    (`.venv/bin/tcnvae`), else `python -m tcnvae.cli` with this interpreter.
    """
    exe = Path(sys.argv[0])
    if exe.name != "tcnvae":
        return f"{_shown(Path(sys.executable))} -m tcnvae.cli"
    on_path = shutil.which("tcnvae")
    if on_path and Path(on_path).resolve() == exe.resolve():
        return "tcnvae"
    return _shown(exe)


def _shown(path: Path) -> str:
    try:
        return shlex.quote(str(path.absolute().relative_to(Path.cwd())))
    except ValueError:  # outside the current folder
        return shlex.quote(str(path.absolute()))
