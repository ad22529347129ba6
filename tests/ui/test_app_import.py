"""The Data page's import section through AppTest: an admin imports the messy demo export and reads its report.

AppTest cannot upload files, so the tests use the other real source the page
offers admins: a folder on the server. The report shown must agree with the
generator's manifest rule by rule and reconcile; an invalid mapping shows its
line and field and runs nothing; only admins see the section.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from ingest.dirty import write_dirty
from ingest.mapping import load_mapping
from ingest.rules import RULE_BY_CODE
from semantic_layer.errors import UserError
from ui import import_ops
from ui.i18n import t

DATA = "app_pages/data.py"
REPO = Path(__file__).resolve().parents[2]
BAD_MAPPING = REPO / "tests" / "ingest" / "fixtures" / "invalid_mapping" / "unknown_column.yaml"
TODAY = dt.date(2026, 6, 30)  # the latest allowed date, so the future-date rule does not move with the clock


@pytest.fixture(scope="module")
def dirty(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The messy demo export at a small size (300 customers), with its manifest of planted defects."""
    folder = tmp_path_factory.mktemp("dirty")
    return folder, write_dirty(folder, seed=7, customers=300)


def _col(key: str) -> str:
    return t(key, "zh")


def _frame(at: Any, *columns: str) -> Any:
    """The one dataframe on the page that has all of ``columns`` (zh headers)."""
    found = [d.value for d in at.dataframe if set(columns) <= set(d.value.columns)]
    assert len(found) == 1, [list(d.value.columns) for d in at.dataframe]
    return found[0]


def _key(at: Any, name: str) -> str:
    """A mapping-form widget's key (the form's keys change whenever it is rebuilt from the YAML)."""
    return f"imp_f{at.session_state['imp_form']}_{name}"


def _suggest(at: Any, paths: str) -> Any:
    at.text_area(key="imp_paths").set_value(paths)
    at.button(key="imp_suggest").click().run()
    assert not at.exception, at.exception
    return at


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_admin_imports_the_dirty_export_and_the_report_matches_the_manifest(make_app, dirty, demo_db, ui_env):
    folder, manifest = dirty
    served = _sha(demo_db)
    at = _suggest(make_app(page=DATA), str(folder))

    # the suggested mapping: five sources, customers ×3 and orders ×2, each column with its reason
    targets = sorted(s.value for s in at.selectbox if str(s.key).startswith(_key(at, "target_")))
    assert targets == ["customers"] * 3 + ["orders"] * 2
    by_label = {s.label: s.value for s in at.selectbox if str(s.key).startswith(_key(at, "col_"))}
    assert by_label["实付金额"] == "amount" and by_label["客户编号"] == "customer_id" and by_label["备注"] is None
    assert any("同义词 · 置信度 0.95" in c.value for c in at.caption)
    assert any("映射有效: 5 个数据源" in s.value for s in at.success)

    # a cleaning option goes into the mapping's rules
    at.date_input(key=_key(at, "latest_date")).set_value(TODAY).run()
    draft = at.session_state["imp_draft"]
    assert import_ops.form_model(draft.text).rules.latest_date == TODAY

    at.button(key="imp_run").click().run()
    assert not at.exception, at.exception
    assert any("对账通过 ✓" in s.value for s in at.success), [e.value for e in at.error]

    # every planted defect is counted as the manifest says, table by table, column by column
    rules = _frame(at, _col("imp_col_code"), _col("imp_col_count"))
    found: dict[tuple[str, str, str], int] = {}
    for table, code, column, count in zip(rules[_col("imp_col_table")], rules[_col("imp_col_code")],
                                          rules[_col("imp_col_column")], rules[_col("imp_col_count")]):
        for col in (column, "*"):
            found[(table, code, col)] = found.get((table, code, col), 0) + int(count)
    for kind in ("planted", "standardised"):
        for table, entries in manifest[kind].items():
            for key, n in entries.items():
                code, _, column = key.partition(":")
                col = "*" if code == "duplicate_customer" else column
                assert found.get((table, code, col)) == n, (kind, table, key)
    # bilingual titles; customer merges by the key that matched
    merged, dup = RULE_BY_CODE["duplicate_customer"], rules[rules[_col("imp_col_code")] == "duplicate_customer"]
    assert all(x.startswith(merged.zh) for x in dup[_col("imp_col_title")])
    assert all(x.startswith(merged.en) for x in dup[_col("imp_col_title_other")])
    assert dict(zip(dup[_col("imp_col_column")], dup[_col("imp_col_count")])) == manifest["merges"]["by_key"]

    # rows and amounts reconcile: clean + quarantined = raw, marked ✓
    totals = _frame(at, _col("imp_col_table"), _col("imp_col_raw"), _col("imp_col_ok"))
    rows = {r[_col("imp_col_table")]: r for r in totals.to_dict("records")}
    for table in ("customers", "orders"):
        row = rows[table]
        assert row[_col("imp_col_raw")] == manifest["raw_rows"][table]
        assert row[_col("imp_col_clean")] == manifest["expected"][table]
        assert row[_col("imp_col_quarantined")] == manifest["expected"]["quarantined"][table]
        assert row[_col("imp_col_clean")] + row[_col("imp_col_quarantined")] == row[_col("imp_col_raw")]
    assert set(totals[_col("imp_col_ok")]) == {"✓"}
    money = _frame(at, _col("imp_col_amount"), _col("imp_col_adjusted"))
    assert set(money[_col("imp_col_ok")]) == {"✓"}
    flags = _frame(at, _col("imp_col_missing"), _col("imp_col_rate"))
    assert sorted(flags[_col("imp_col_column")]) == manifest["flagged_missing"]
    quarantined = sum(manifest["expected"]["quarantined"].values())
    assert len(_frame(at, "reason_code", "row_number")) == min(quarantined, import_ops.PREVIEW_ROWS)

    # the new warehouse, its mapping and report sit in the import's folder; the served warehouse is untouched
    workspace = draft.workspace
    assert workspace.parent == ui_env / "home" / "imports"
    new_db = workspace / "warehouse.duckdb"
    assert new_db.exists() and _sha(demo_db) == served
    assert load_mapping(workspace / "mapping.yaml").rules.latest_date == TODAY
    assert json.loads((workspace / "quality.json").read_text(encoding="utf-8"))["reconciled"] is True
    assert any(f"chatbi serve --db {new_db}" in c.value for c in at.code)
    labels = {b.proto.label for b in at.get("download_button")}
    assert {t("imp_download_html", "zh"), t("imp_download_json", "zh"), t("imp_download_quarantine", "zh")} <= labels
    csv = import_ops.quarantine_csv(new_db).decode("utf-8-sig")
    assert csv.count("\r\n") == quarantined + 1
    assert ",'-" in csv  # negative amounts, neutralised for spreadsheets


def test_an_invalid_mapping_shows_line_and_field_and_runs_nothing(make_app, dirty):
    folder, _ = dirty
    at = _suggest(make_app(page=DATA), str(folder))
    draft = at.session_state["imp_draft"]
    at.text_area(key="imp_yaml").set_value(BAD_MAPPING.read_text(encoding="utf-8"))
    at.button(key="imp_yaml_apply").click().run()
    assert not at.exception, at.exception
    assert any("映射有 2 个错误" in e.value for e in at.error)
    issues = _frame(at, "line", "field", "message")
    found = set(zip(issues["line"], issues["field"]))
    assert found == {(9, "sources[0].columns.实付金额"), (5, "sources[0].columns")}
    assert any("ammount" in m and "amount" in m for m in issues["message"])
    assert set(issues["file"]) == {"mapping.yaml"}

    assert at.button(key="imp_run").disabled  # AppTest, like a browser, refuses to click it
    at.run()
    assert not (draft.workspace / "warehouse.duckdb").exists() and not (draft.workspace / "mapping.yaml").exists()
    assert "imp_result" not in at.session_state

    # fixing it in the form rewrites the YAML, and the mapping becomes valid
    wrong = next(s for s in at.selectbox if s.label == "实付金额")
    assert wrong.value == "ammount"
    wrong.set_value("amount").run()
    assert any("映射有效: 1 个数据源" in s.value for s in at.success)
    assert '"实付金额": amount' in at.session_state["imp_draft"].text
    assert not at.button(key="imp_run").disabled


def test_another_target_table_reassigns_the_columns_as_the_suggester_would(make_app, dirty):
    folder, _ = dirty
    at = _suggest(make_app(page=DATA), str(folder / "orders.csv"))

    def columns() -> dict[str, str | None]:
        return {s.label: s.value for s in at.selectbox if str(s.key).startswith(_key(at, "col_0_"))}

    at.selectbox(key=_key(at, "target_0")).set_value("customers").run()
    assert columns()["客户编号"] == "customer_id" and columns()["实付金额"] is None
    assert import_ops.form_model(at.session_state["imp_draft"].text).sources[0].target == "customers"
    at.selectbox(key=_key(at, "target_0")).set_value("orders").run()
    assert columns()["实付金额"] == "amount" and columns()["订单编号"] == "order_id"
    assert any("映射有效: 1 个数据源" in s.value for s in at.success)


@pytest.mark.parametrize("role", ["manager", "business"])
def test_only_admins_get_the_import_section(make_app, role):
    at = make_app(role=role, page=DATA)
    assert len(at.dataframe) == 1, "the tables of the Data page, and nothing of the import"
    keys = {w.key for w in [*at.button, *at.text_area, *at.selectbox]}
    assert not {"imp_suggest", "imp_paths", "imp_run"} & keys
    assert t("imp_title", "zh") not in [h.value for h in at.header]


def test_the_target_is_never_the_served_warehouse_nor_another_existing_file(tmp_path, demo_db):
    draft = import_ops.Draft(tmp_path / "ws", [], "")
    draft.workspace.mkdir()
    (draft.workspace / "warehouse.duckdb").write_bytes(b"")  # an earlier run of this import: replaced
    assert import_ops.check_target(str(draft.default_target), draft, demo_db) == draft.default_target.resolve()
    for text, code in [(str(demo_db), 642), (str(tmp_path / ".." / tmp_path.name / "ws" / ".." / "ws" / "x.txt"), 644),
                       ("", 644)]:
        with pytest.raises(UserError) as err:
            import_ops.check_target(text, draft, demo_db)
        assert err.value.code == code
    other = tmp_path / "other.duckdb"
    other.write_bytes(b"")
    with pytest.raises(UserError) as err:
        import_ops.check_target(str(other), draft, demo_db)
    assert err.value.code == 643


def test_server_paths_and_uploads(tmp_path):
    (tmp_path / "a.csv").write_text("x\n1\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not data", encoding="utf-8")
    assert import_ops.server_locations(f"{tmp_path}\n\n# a comment\npostgresql://u@h/db") == [
        str((tmp_path / "a.csv").resolve()), "postgresql://u@h/db"]
    with pytest.raises(UserError) as err:
        import_ops.server_locations(f"{tmp_path / 'nope.csv'}\n{tmp_path / 'gone'}")
    assert err.value.code == 641 and "nope.csv" in err.value.message_en and "gone" in err.value.message_en
    saved = import_ops.save_uploads(tmp_path, [("../../etc/a.csv", b"x\n"), ("a.csv", b"y\n")])
    assert [Path(p).name for p in saved] == ["a.csv", "a_2.csv"]
    assert all(Path(p).parent == tmp_path / "sources" and Path(p).stat().st_mode & 0o077 == 0 for p in saved)


def test_docstring_examples_run():
    import doctest

    result = doctest.testmod(import_ops)
    assert result.attempted and not result.failed
