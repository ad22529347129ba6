"""The Audit log page through AppTest: rows from a temp log, filters, CSV, retention, role gating."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from assistant.audit import AuditEntry, AuditLog

AUDIT = "app_pages/audit.py"
NOW = dt.datetime.now(dt.UTC)


@pytest.fixture
def audit_db(ui_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temp audit log with five entries from three users, one of them 60 days old; retention 90 days."""
    access = ui_env / "catalog" / "access.yaml"
    text = access.read_text(encoding="utf-8")
    assert "retention_days: 180" in text
    access.write_text(text.replace("retention_days: 180", "retention_days: 90"), encoding="utf-8")
    path = ui_env / "audit.sqlite"
    monkeypatch.setenv("CHATBI_AUDIT", str(path))
    log = AuditLog(path, retention_days=0)
    rows = [
        ("alice", "2025年各地区的销售额", "ok", dt.timedelta(hours=1)),
        ("alice", "渠道的销售额", "clarify", dt.timedelta(hours=2)),
        ("bob", "客户 13812345678 的订单", "refused", dt.timedelta(days=1)),
        ("carol", "=HYPERLINK(\"http://evil\")", "error", dt.timedelta(days=2)),
        ("bob", "去年的复购率", "ok", dt.timedelta(days=60)),
    ]
    for user, question, status, ago in rows:
        log.record(AuditEntry(user_id=user, role="business", question=question, status=status, ts=NOW - ago,
                              sql="SELECT 1" if status == "ok" else None,
                              semantic_query={"metrics": ["revenue"]} if status == "ok" else None))
    return path


def questions(at) -> list[str]:
    return list(at.dataframe[0].value["question"]) if at.dataframe else []


def test_admin_sees_recent_entries_newest_first(make_app, audit_db):
    at = make_app(page=AUDIT)
    assert questions(at) == ["2025年各地区的销售额", "渠道的销售额", "客户 138****5678 的订单",
                             "=HYPERLINK(\"http://evil\")"], "the last 30 days by default, the phone masked"
    table = at.dataframe[0].value
    assert {"ts", "user_id", "status", "sql", "semantic_query", "duration_ms"} <= set(table.columns)
    assert '"revenue"' in table["semantic_query"].iloc[0]
    captions = " ".join(c.value for c in at.caption)
    assert "保留 90 天" in captions and "共 4 条记录" in captions


@pytest.mark.parametrize("key, value, expected", [
    ("audit_user", "alice", ["2025年各地区的销售额", "渠道的销售额"]),
    ("audit_status", "refused", ["客户 138****5678 的订单"]),
    ("audit_text", "13812345678", ["客户 138****5678 的订单"]),
    ("audit_text", "销售额", ["2025年各地区的销售额", "渠道的销售额"]),
], ids=["user", "status", "text-masked", "text"])
def test_filters_narrow_the_rows(make_app, audit_db, key, value, expected):
    at = make_app(page=AUDIT)
    widget = at.text_input(key=key) if key == "audit_text" else at.selectbox(key=key)
    (widget.input(value) if key == "audit_text" else widget.select(value)).run()
    assert not at.exception, at.exception
    assert questions(at) == expected


def test_user_list_and_date_range(make_app, audit_db):
    at = make_app(page=AUDIT)
    assert at.selectbox(key="audit_user").options == ["(全部)", "alice", "bob", "carol"]
    today = NOW.date()
    at.date_input(key="audit_dates").set_value((today - dt.timedelta(days=90), today - dt.timedelta(days=30))).run()
    assert questions(at) == ["去年的复购率"]
    at.selectbox(key="audit_user").select("alice").run()
    assert not questions(at) and any("没有符合条件" in c.value for c in at.caption)


def test_csv_download_is_formula_safe(make_app, audit_db):
    from ui.audit_view import csv_bytes, display_frame

    at = make_app(page=AUDIT)
    assert at.get("download_button"), "a CSV download is offered"
    data = csv_bytes(display_frame(AuditLog(audit_db).search())).decode("utf-8-sig")
    assert "'=HYPERLINK" in data and ",=HYPERLINK" not in data
    assert "nan" not in data


def test_retention_comes_from_the_access_policy_and_is_applied(make_app, audit_db, ui_env):
    access = ui_env / "catalog" / "access.yaml"
    access.write_text(access.read_text(encoding="utf-8").replace("retention_days: 90", "retention_days: 30"),
                      encoding="utf-8")
    at = make_app(page=AUDIT)
    assert any("保留 30 天" in c.value for c in at.caption)
    assert "去年的复购率" not in set(AuditLog(audit_db, retention_days=0).search()["question"]), "purged at 30 days"


def test_a_broken_catalog_still_shows_the_log_and_deletes_nothing(make_app, audit_db, ui_env):
    at = make_app(page=AUDIT)  # signed in while the catalog loads (the last good catalog resolves users)
    AuditLog(audit_db, retention_days=0).record(AuditEntry("dave", "business", "ancient", "ok",
                                                           ts=NOW - dt.timedelta(days=1000)))
    sales = ui_env / "catalog" / "metrics" / "sales.yaml"
    sales.write_text(sales.read_text(encoding="utf-8") + "\n  - name: [unclosed\n", encoding="utf-8")
    at.run()
    assert not at.exception, at.exception
    assert len(questions(at)) == 4
    assert any("保留期限未知" in c.value for c in at.caption)
    assert len(AuditLog(audit_db, retention_days=0).search()) == 6, "nothing purged, not even a 1000-day-old row"


def test_empty_log_shows_a_note(make_app, ui_env, monkeypatch):
    monkeypatch.setenv("CHATBI_AUDIT", str(ui_env / "empty" / "audit.sqlite"))
    at = make_app(page=AUDIT)
    assert any("没有符合条件" in c.value for c in at.caption)
    assert not at.dataframe


@pytest.mark.parametrize("role", ["business", "manager"])
def test_audit_page_is_for_admins_only(make_app, audit_db, role):
    at = make_app(role=role)
    with pytest.raises(ValueError, match="Known pages") as err:
        at.switch_page(AUDIT)
    assert "audit.py" not in str(err.value).split("Known pages")[1], "no Audit page in the navigation"


def test_audit_page_reached_directly_still_checks_the_role(ui_env, audit_db, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.ui.conftest import REPO, TIMEOUT

    monkeypatch.setenv("CHATBI_USER", "analyst")
    at = AppTest.from_file(str(REPO / "ui" / "app_pages" / "audit.py"), default_timeout=TIMEOUT).run()
    assert any("仅限管理员" in e.value for e in at.error)
    assert not at.dataframe and not at.selectbox


def test_docstring_examples_run():
    """``ui/`` is not a doctest path, so the view's examples run here."""
    import doctest

    import ui.audit_view

    result = doctest.testmod(ui.audit_view)
    assert result.attempted and not result.failed
