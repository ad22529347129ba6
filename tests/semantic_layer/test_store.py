"""CatalogStore: versioned compare-and-swap saves, validation before writing, history and restore."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from semantic_layer.errors import CatalogError, Issue, UserError
from semantic_layer.loader import DEFAULT_CATALOG
from semantic_layer.store import MISSING, CatalogStore, StaleVersionError, version_of

SALES = "metrics/sales.yaml"


@pytest.fixture
def store(tmp_path: Path) -> CatalogStore:
    root = tmp_path / "catalog"
    shutil.copytree(DEFAULT_CATALOG, root, ignore=shutil.ignore_patterns(".history"))
    return CatalogStore(root)


def test_read_returns_text_and_content_hash(store):
    text, version = store.read(SALES)
    assert "name: revenue" in text and version == version_of(text)
    assert store.read("metrics/new_area.yaml") == ("", MISSING)


def test_files_are_the_editable_ones_in_a_stable_order(store):
    files = store.files()
    assert files[0] == "project.yaml"
    assert files.index("models/orders.yaml") < files.index(SALES)
    assert not any(".history" in f for f in files)


@pytest.mark.parametrize("rel", ["../etc/passwd", "/etc/passwd", "models/../../x.yaml", "metrics/a.txt",
                                 ".history/metrics/sales.yaml/x.yaml", "models/Orders.yaml"])
def test_only_catalog_files_can_be_edited(store, rel):
    with pytest.raises(UserError) as err:
        store.read(rel)
    assert err.value.code == 160


def test_save_is_compare_and_swap(store):
    text, version = store.read(SALES)
    new = text.replace("en: Revenue}", "en: Net revenue}")
    new_version = store.save(SALES, new, version)
    assert store.read(SALES) == (new, new_version)
    with pytest.raises(StaleVersionError):
        store.save(SALES, text, version)  # edited against the old version
    assert store.read(SALES)[0] == new


def test_invalid_edit_is_never_written_and_lists_every_issue(store):
    text, version = store.read(SALES)
    broken = text.replace("agg: sum\n", "agg: summ\n", 1)
    broken = broken.replace("    agg: count\n", "    agg: count\n    colour: x\n", 1)
    with pytest.raises(CatalogError) as err:
        store.save(SALES, broken, version)
    assert {i.path for i in err.value.issues} >= {"metrics[0].agg", "metrics[1].colour"}
    assert all(i.line for i in err.value.issues)
    assert store.read(SALES)[0] == text
    assert store.history(SALES) == []


def test_yaml_syntax_error_is_an_issue_with_a_line(store):
    text, _ = store.read(SALES)
    result = store.check(SALES, text + "\n  - name: [unclosed\n")
    assert not result.ok and result.errors[0].line


def test_cross_file_breakage_is_caught(store):
    """Removing a metric another file builds on fails the save of this file."""
    text, version = store.read(SALES)
    start = text.index("  - name: buyers")
    end = text.index("  - name:", start + 5)
    with pytest.raises(CatalogError) as err:
        store.save(SALES, text[:start] + text[end:], version)
    assert any("buyers" in i.message_en for i in err.value.issues)


def test_history_keeps_the_replaced_and_new_versions_and_restore_brings_one_back(store):
    original, v0 = store.read(SALES)
    v1 = store.save(SALES, original.replace("en: Revenue}", "en: Turnover}"), v0)
    v2 = store.save(SALES, original.replace("en: Revenue}", "en: Sales}"), v1)
    assert [e.version for e in store.history(SALES)] == [v2, v1, v0]
    v3 = store.restore(SALES, v0, v2)
    assert v3 == v0 and store.read(SALES)[0] == original
    with pytest.raises(StaleVersionError):
        store.restore(SALES, v1, v2)  # restore also refuses a stale editor
    with pytest.raises(UserError):
        store.restore(SALES, "0000000000000000", v0)


def test_catalog_version_changes_with_any_file(store):
    before = store.catalog_version()
    text, version = store.read("models/orders.yaml")
    store.save("models/orders.yaml", text + "\n# note\n", version)
    assert store.catalog_version() != before


def test_extra_validator_runs_for_its_file_with_the_edited_catalog(store):
    calls = []

    def playbook_rule(catalog, text, file):
        calls.append(sorted(catalog.metrics)[:1])
        return [] if "ok" in text else [Issue("error", 151, "坏", "bad", file, 1, "rules")]

    store.validators["playbook.yaml"] = playbook_rule
    _, version = store.read("playbook.yaml")
    with pytest.raises(CatalogError):
        store.save("playbook.yaml", "rules: []  # not fine\n", version)
    assert store.save("playbook.yaml", "rules: []  # ok\n", version)
    assert calls


def test_concurrent_saves_against_one_version_let_exactly_one_win(store):
    text, version = store.read(SALES)
    results: list[str] = []

    def save(n: int) -> None:
        try:
            store.save(SALES, text.replace("en: Revenue}", f"en: Revenue {n}}}"), version)
            results.append("saved")
        except StaleVersionError:
            results.append("stale")

    threads = [threading.Thread(target=save, args=(n,)) for n in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(results) == ["saved", "stale", "stale", "stale"]


def test_atomic_write_leaves_no_temp_files(store):
    text, version = store.read(SALES)
    store.save(SALES, text + "\n", version)
    assert not [p for p in (store.root / "metrics").iterdir() if p.name.endswith(".tmp")]


def test_history_records_who_saved_and_who_restored(store):
    original, v0 = store.read(SALES)
    v1 = store.save(SALES, original.replace("en: Revenue}", "en: Turnover}"), v0, author="wang@example.com")
    assert [(e.version, e.author, e.action) for e in store.history(SALES)] == [
        (v1, "wang@example.com", "save"), (v0, None, None)], "the replaced version has no recorded author"
    store.restore(SALES, v0, v1, author="admin")
    restored = next(e for e in store.history(SALES) if e.version == v0)
    assert (restored.author, restored.action) == ("admin", "restore") and restored.changed_at is not None
    assert len(store.history(SALES)) == 2, "a restore adds an event, not a second copy of the version"
    store.save(SALES, original + "\n", v0)
    assert store.history(SALES)[0].author is None, "a save without an author records none"
