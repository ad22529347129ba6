"""docs/import.md covers every option, rule and setting; the importer's doctests pass."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from pathlib import Path

import click
import pytest
import typer

import ingest
from ingest.cli import import_command
from ingest.rules import RULES, Rules

DOC = (Path(__file__).resolve().parents[2] / "docs" / "import.md").read_text(encoding="utf-8")


def _options() -> list[str]:
    app = typer.Typer()
    app.command()(import_command)
    command = typer.main.get_command(app)
    return [name for p in command.params if isinstance(p, click.Option) for name in p.opts]


def test_every_import_option_is_documented() -> None:
    missing = [o for o in [*_options(), "--dirty"] if f"`{o}`" not in DOC]
    assert missing == []


def test_every_rule_code_is_documented() -> None:
    assert [r.code for r in RULES if f"`{r.code}`" not in DOC] == []


def test_every_setting_is_documented() -> None:
    assert [name for name in Rules.model_fields if f"`{name}`" not in DOC and f"`{name}," not in DOC] == []


@pytest.mark.parametrize("module", sorted(m.name for m in pkgutil.iter_modules(ingest.__path__)))
def test_doctests(module: str) -> None:
    result = doctest.testmod(importlib.import_module(f"ingest.{module}"))
    assert result.failed == 0
