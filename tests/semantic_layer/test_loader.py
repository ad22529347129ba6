"""The catalog loader: the default catalog is clean; invalid files are reported
with file, line and field, in Chinese and English, all problems at once.

Negative fixtures (sqlglot's ``*__invalid`` pairs): ``tests/fixtures/invalid_catalog/
<case>__invalid.yaml`` replaces the catalog file named in its first line, and
``<case>.expected`` lists lines that must appear in the error.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from semantic_layer.errors import CatalogError
from semantic_layer.loader import DEFAULT_CATALOG, load_catalog

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "invalid_catalog"
CASES = sorted(p.name.removesuffix("__invalid.yaml") for p in FIXTURES.glob("*__invalid.yaml"))


def test_default_catalog_is_clean(catalog) -> None:
    assert not catalog.warnings
    assert len(catalog.metrics) >= 17


@pytest.mark.parametrize("case", CASES)
def test_invalid_fixture_is_reported_with_location(case: str) -> None:
    text = (FIXTURES / f"{case}__invalid.yaml").read_text(encoding="utf-8")
    target = text.splitlines()[0].removeprefix("# replaces:").strip()
    with pytest.raises(CatalogError) as info:
        load_catalog(overrides={target: text})
    message = str(info.value).replace(str(DEFAULT_CATALOG) + "/", "")
    for expected in (FIXTURES / f"{case}.expected").read_text(encoding="utf-8").splitlines():
        assert expected in message, f"missing: {expected}\n--- got:\n{message}"


def test_every_fixture_has_expectations() -> None:
    assert len(CASES) >= 12
    for case in CASES:
        assert (FIXTURES / f"{case}.expected").read_text(encoding="utf-8").strip()


def test_overrides_do_not_touch_files_on_disk() -> None:
    before = {p: p.read_bytes() for p in DEFAULT_CATALOG.rglob("*.yaml")}
    with pytest.raises(CatalogError):
        load_catalog(overrides={"metrics/service.yaml": "area: [broken"})
    assert before == {p: p.read_bytes() for p in DEFAULT_CATALOG.rglob("*.yaml")}


def test_duplicate_metric_across_files_names_both_places() -> None:
    extra = (DEFAULT_CATALOG / "metrics" / "service.yaml").read_text(encoding="utf-8").replace(
        "area: service", "area: service_copy")
    with pytest.raises(CatalogError) as info:
        load_catalog(overrides={"metrics/zz_copy.yaml": extra})
    message = str(info.value)
    assert "metrics/zz_copy.yaml" in message and "first at" in message and "service.yaml" in message


def test_missing_project_file(tmp_path: Path) -> None:
    with pytest.raises(CatalogError) as info:
        load_catalog(tmp_path)
    assert "project.yaml" in str(info.value)
