"""Every flag of every verb explains itself and shows its default in `--help`."""

from __future__ import annotations

import argparse

import pytest

from tcnvae.cli import build_parser


def _parsers(parser: argparse.ArgumentParser, path: str = "tcnvae"):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, f"{path} {name}")


PARSERS = dict(_parsers(build_parser()))


@pytest.mark.parametrize("path", sorted(PARSERS))
def test_every_flag_has_help_and_a_stated_default(path: str) -> None:
    parser = PARSERS[path]
    text = parser.format_help()
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        name = "/".join(action.option_strings) or action.dest
        assert action.help, f"{path}: {name} has no help text"
        shown = parser._get_formatter()._expand_help(action) if action.help else ""
        if action.default not in (None, False) and action.option_strings:
            assert "default" in shown, f"{path}: {name} does not show its default {action.default!r}"
    assert "(default: None)" not in text


def test_train_help_states_the_training_defaults() -> None:
    text = " ".join(PARSERS["tcnvae train"].format_help().split())
    for flag, default in (("--epochs", "30"), ("--batch-size", "64"), ("--lr", "0.002"), ("--seed", "0")):
        assert f"{flag} " in text and f"else {default})" in text, flag
    assert "--data-dir" in text and "~/.cache/tcnvae" in text
