"""``chatbi demo --dirty`` and ``chatbi import`` as a person runs them: suggest, edit, import, report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def small_dirty(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli") / "export"
    result = runner.invoke(app, ["demo", "--dirty", str(folder), "--scale", "0.1", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "manifest.json" in result.output
    return folder


def _sources(folder: Path) -> list[str]:
    return sorted(str(p) for p in folder.iterdir() if p.suffix in (".csv", ".xlsx"))


def test_suggest_edit_import_report(small_dirty: Path, tmp_path: Path) -> None:
    manifest = json.loads((small_dirty / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["customers"] <= 200 and len(manifest["files"]) == 5
    mapping = tmp_path / "mapping.yaml"
    result = runner.invoke(app, ["import", *_sources(small_dirty), "--suggest", "--mapping", str(mapping)])
    assert result.exit_code == 0, result.output
    text = mapping.read_text(encoding="utf-8")
    assert "target: orders" in text and f"{Path('..')}" in text  # sources stored relative to the mapping file
    again = runner.invoke(app, ["import", *_sources(small_dirty), "--suggest", "--mapping", str(mapping)])
    assert again.exit_code == 2  # never overwrites an edited mapping without --force
    # the edit a person makes: a stricter business start date
    mapping.write_text(text.replace("business_start: '2000-01-01'", "business_start: '2023-01-01'"), encoding="utf-8")
    db, report = tmp_path / "shop.duckdb", tmp_path / "quality.html"
    result = runner.invoke(app, ["import", "--mapping", str(mapping), "--db", str(db), "--report", str(report)])
    assert result.exit_code == 0, result.output
    assert "reconciled" in result.output and "duplicate_customer" in result.output
    assert report.exists() and report.with_suffix(".json").exists()
    data = json.loads(report.with_suffix(".json").read_text(encoding="utf-8"))
    assert data["settings"]["business_start"] == "2023-01-01" and data["reconciled"]
    assert data["tables"][1]["quarantined_rows"] == manifest["expected"]["quarantined"]["orders"]


def test_one_step_import_saves_the_suggested_mapping(small_dirty: Path, tmp_path: Path) -> None:
    db = tmp_path / "quick.duckdb"
    result = runner.invoke(app, ["import", *_sources(small_dirty), "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "quick.mapping.yaml").exists()
    assert json.loads(result.stdout)["reconciled"] is True
    reuse = runner.invoke(app, ["import", *_sources(small_dirty), "--db", str(db)])
    assert reuse.exit_code == 2 and "--mapping" in reuse.output  # the saved one is reused, not overwritten


def test_a_bad_mapping_exits_1_with_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "m.yaml"
    bad.write_text("version: 1\nsources:\n  - source: a.csv\n    target: orders\n    columns: {x: amount}\n",
                   encoding="utf-8")
    result = runner.invoke(app, ["import", "--mapping", str(bad), "--db", str(tmp_path / "x.duckdb")])
    assert result.exit_code == 1
    assert f"{bad}:5 [sources[0].columns]" in result.output and "order_id" in result.output


@pytest.mark.parametrize("args", [["import", "--suggest"], ["import", "--db", "x.duckdb"], ["import", "a.csv"]])
def test_usage_errors_exit_2(args: list[str]) -> None:
    assert runner.invoke(app, args).exit_code == 2
