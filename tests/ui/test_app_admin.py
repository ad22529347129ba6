"""The Admin page through AppTest: validate, save, conflict, restore, preview, suite, feedback, role gating."""

from __future__ import annotations

import pytest

from semantic_layer.store import CatalogStore
from tests.ui.helpers import ask

ADMIN = "app_pages/admin.py"
SALES = "metrics/sales.yaml"


def open_file(at, rel: str = SALES):
    at.selectbox(key="admin_file").select(rel).run()
    assert not at.exception, at.exception
    return at


def editor(at):
    return next(ta for ta in at.text_area if ta.key.startswith("admin_text::"))


def test_admin_page_lists_catalog_files_and_the_playbook(make_app, ui_env):
    at = make_app(page=ADMIN)
    options = at.selectbox(key="admin_file").options
    assert options[0] == "project.yaml"
    assert SALES in options and "models/orders.yaml" in options
    assert options[-2:] == ["playbook.yaml", "access.yaml"]  # roles and row rules are edited like the rest


def test_validate_lists_every_issue_with_its_line(make_app, ui_env):
    at = open_file(make_app(page=ADMIN))
    text = editor(at).value
    broken = text.replace("agg: sum\n", "agg: summ\n", 1)
    broken = broken.replace("    agg: count\n", "    agg: count\n    colour: red\n", 1)
    editor(at).input(broken).run()
    at.button(key="admin_validate").click().run()
    issues = at.dataframe[0].value
    rows = issues.to_dict("records") if hasattr(issues, "to_dict") else issues
    mine = [r for r in rows if r["file"] == SALES and r["level"] == "error"]
    assert len(mine) == 2 and all(r["line"] for r in mine)
    assert {r["field"] for r in mine} == {"metrics[0].agg", "metrics[1].colour"}
    assert broken.splitlines()[mine[0]["line"] - 1].strip() == "agg: summ" or \
        broken.splitlines()[mine[1]["line"] - 1].strip() == "agg: summ"


def test_save_writes_the_file_atomically_and_keeps_history(make_app, ui_env):
    at = open_file(make_app(page=ADMIN))
    path = ui_env / "catalog" / SALES
    edited = editor(at).value.replace("label: {zh: 销售额, en: Revenue}", "label: {zh: 销售总额, en: Revenue}")
    editor(at).input(edited).run()
    at.button(key="admin_save").click().run()
    assert not at.exception
    assert path.read_text(encoding="utf-8") == edited
    assert any("已保存" in s.value for s in at.success)
    history = CatalogStore(ui_env / "catalog").history(SALES)
    assert len(history) == 2, "the replaced version and the new one"
    assert editor(at).value == edited, "the editor now holds the saved version"


def test_invalid_yaml_is_never_saved(make_app, ui_env):
    at = open_file(make_app(page=ADMIN))
    path = ui_env / "catalog" / SALES
    before = path.read_text(encoding="utf-8")
    editor(at).input(before + "\n  - name: [unclosed\n").run()
    at.button(key="admin_save").click().run()
    assert path.read_text(encoding="utf-8") == before
    assert any("未保存" in e.value for e in at.error)
    assert not CatalogStore(ui_env / "catalog").history(SALES)


def test_stale_edit_is_detected_not_overwritten(make_app, ui_env):
    at = open_file(make_app(page=ADMIN))
    store = CatalogStore(ui_env / "catalog")
    text, version = store.read(SALES)
    theirs = text.replace("en: Revenue}", "en: Sales revenue}")
    store.save(SALES, theirs, version)  # another admin saves first
    mine = text.replace("zh: 销售额,", "zh: 销售收入额,")
    editor(at).input(mine).run()
    at.button(key="admin_save").click().run()
    assert any("冲突" in e.value for e in at.error)
    assert store.read(SALES)[0] == theirs, "their save survives"
    assert editor(at).value == mine, "my edit is still in the editor"
    at.button(key="admin_reload").click().run()
    assert editor(at).value == theirs


def test_restore_an_earlier_version(make_app, ui_env):
    at = open_file(make_app(page=ADMIN))
    original = editor(at).value
    edited = original.replace("en: Revenue}", "en: Turnover}")
    editor(at).input(edited).run()
    at.button(key="admin_save").click().run()
    store = CatalogStore(ui_env / "catalog")
    old = next(e for e in store.history(SALES) if e.read() == original)
    at.button(key=f"restore_{old.version}").click().run()
    assert not at.exception
    assert store.read(SALES)[0] == original
    assert any("已恢复" in s.value for s in at.success)


def test_saved_catalog_is_used_by_the_chat(make_app, ui_env):
    at = open_file(make_app(page=ADMIN))
    edited = editor(at).value.replace("label: {zh: 销售额, en: Revenue}", "label: {zh: 成交金额, en: Revenue}")
    edited = edited.replace("synonyms: {zh: [营收,", "synonyms: {zh: [销售额, 营收,", 1)
    editor(at).input(edited).run()
    at.button(key="admin_save").click().run()
    at.switch_page("app_pages/chat.py").run()
    ask(at, "2025年各地区的销售额")
    assert "成交金额 (CNY)" in list(at.dataframe[0].value.columns)


def test_preview_compiles_and_runs_a_metric_with_the_unsaved_edit(make_app):
    at = make_app(page=ADMIN)
    at.selectbox(key="admin_preview_metric").select("revenue").run()
    at.selectbox(key="admin_preview_dim").select("region").run()
    at.button(key="admin_preview").click().run()
    assert any("SUM(" in c.value for c in at.code)
    assert len(at.dataframe[-1].value) == 7


def test_run_the_golden_suite_shows_accuracy(make_app):
    at = make_app(page=ADMIN)
    at.button(key="admin_run_suite").click().run()
    assert not at.exception
    assert at.metric[0].value == "100.0%"


def test_promote_feedback_into_the_suite(make_app, ui_env):
    at = ask(make_app(), "2025年各地区的销售额")
    msg = at.session_state["chat"]["messages"][0]["id"]
    at.button(key=f"down_{msg}").click().run()
    at.text_area(key=f"correction_{msg}").input("只要华东").run()
    at.button(key=f"send_{msg}").click().run()
    at.switch_page(ADMIN).run()
    sql_box = next(ta for ta in at.text_area if ta.key.startswith("fb_sql_"))
    assert "SELECT" in sql_box.value, "prefilled with the answer's SQL"
    sql_box.input("SELECT 'East', SUM(amount) FROM orders").run()
    next(b for b in at.button if b.key.startswith("fb_promote_")).click().run()
    assert not at.exception
    suite = (ui_env / "suite.yaml").read_text(encoding="utf-8")
    assert suite.startswith("# a two-case suite"), "comments kept"
    assert "question: 2025年各地区的销售额" in suite.split("clarify_channel_zh")[1]
    from assistant.evaluate import load_suite

    assert len(load_suite(ui_env / "suite.yaml").cases) == 3
    assert any("已加入测试集" in s.value for s in at.success)


@pytest.mark.parametrize("role", ["business", "manager"])
def test_admin_page_is_for_admins_only(make_app, role):
    at = make_app(role=role)
    with pytest.raises(ValueError, match="Known pages") as err:
        at.switch_page(ADMIN)
    assert "admin.py" not in str(err.value).split("Known pages")[1], "no Admin page in the navigation"
    assert "chat.py" in str(err.value) and "data.py" in str(err.value)


def test_admin_page_reached_directly_still_checks_the_role(ui_env, monkeypatch):
    """Defence in depth: the page script itself refuses a non-admin."""
    from streamlit.testing.v1 import AppTest

    from tests.ui.conftest import REPO, TIMEOUT

    monkeypatch.setenv("CHATBI_USER", "analyst")
    at = AppTest.from_file(str(REPO / "ui" / "app_pages" / "admin.py"), default_timeout=TIMEOUT).run()
    assert any("仅限管理员" in e.value for e in at.error)
    assert not at.text_area
