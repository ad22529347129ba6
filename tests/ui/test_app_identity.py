"""Who is signed in, through AppTest: the server's --user, the local operator, OIDC, and what each may see.

Users come from the demo directory (``metrics/users.yaml``): admin; analyst
(business, every region); wang (manager, East); zhao (business, no region).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from assistant.audit import AuditLog
from semantic_layer.store import CatalogStore
from tests.ui.conftest import APP, REPO, TIMEOUT
from tests.ui.helpers import ask, texts

REGION_REVENUE = "2025年各地区的销售额"
CHURN = "哪些重要价值客户有流失风险?"
#: A minimal ``[auth]`` section: enough for the app to turn OIDC sign-in on (nothing is contacted).
AUTH = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
                 "client_id": "chatbi", "client_secret": "secret",
                 "server_metadata_url": "https://idp.example.com/.well-known/openid-configuration"}}


def fresh_app(*, user: str | None = None, local: bool = False, secrets: dict | None = None,
              login: dict | None = None):
    """The app as a visitor meets it: CHATBI_USER, the local-operator flag, OIDC secrets and login as given."""
    from streamlit.testing.v1 import AppTest

    os.environ.pop("CHATBI_USER", None)
    os.environ.pop("CHATBI_LOCAL_OPERATOR", None)
    if user:
        os.environ["CHATBI_USER"] = user
    if local:
        os.environ["CHATBI_LOCAL_OPERATOR"] = "1"
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    if secrets:
        at.secrets = secrets
    if login is not None:
        at.user = login
    at.run()
    assert not at.exception, at.exception
    return at


def sidebar_text(at) -> str:
    """The sidebar's captions as they read (Markdown escapes removed)."""
    return "\n".join(c.value for c in at.sidebar.caption).replace("\\", "")


def regions(at, i: int = -1) -> set[str]:
    return set(at.dataframe[i].value["地区"])


def customer_names(at) -> list[str]:
    frame = at.dataframe[-1].value
    column = next(c for c in frame.columns if "姓名" in c or "名称" in c or c == "customer_name")
    return [str(v) for v in frame[column]]


# --- what each user sees ----------------------------------------------------------------------


def test_a_regional_manager_sees_only_their_region_with_the_note(make_app):
    at = ask(make_app("wang"), REGION_REVENUE)
    assert regions(at) == {"华东"}
    assert any("行级权限" in t and "华东" in t for t in texts(at)), "the row-level note in the definitions"
    side = sidebar_text(at)
    assert "王经理(华东)" in side and "区域经理" in side and "地区: 华东" in side


def test_pii_is_masked_for_a_business_user_and_visible_to_an_admin(make_app):
    masked = customer_names(ask(make_app("analyst"), CHURN))
    assert masked and all(re.fullmatch(r".\*+", name) for name in masked), masked
    real = customer_names(ask(make_app("admin"), CHURN))
    assert len(real) == len(masked) and not any(re.fullmatch(r".\*+", name) for name in real)
    assert [n[0] for n in real] == [n[0] for n in masked], "the same customers, only masked"


def test_a_user_without_regions_sees_nothing_and_is_told_why(make_app):
    at = ask(make_app("zhao"), REGION_REVENUE)
    assert at.dataframe and at.dataframe[0].value.empty
    assert "没有符合条件的数据。" in [c.value for c in at.caption]
    assert any("行级权限" in t and "未获授权查看" in t for t in texts(at)), "the default-deny note"
    assert "尚未为您分配数据范围" in sidebar_text(at)


def test_two_users_asking_the_same_question_get_their_own_answers(make_app, ui_env):
    """The answer cache is keyed by the user: wang's East-only answer is never served to the analyst."""
    east = ask(make_app("wang"), REGION_REVENUE)
    assert regions(east) == {"华东"}
    everyone = ask(make_app("analyst"), REGION_REVENUE)
    assert len(regions(everyone)) == 7
    again = ask(make_app("wang"), REGION_REVENUE)
    assert regions(again) == {"华东"}
    log = AuditLog(ui_env / "home" / "audit.sqlite").search()
    mine = log[log["user_id"] == "wang"]
    assert len(mine) == 2, "a cached answer is still audited"
    assert set(mine["planner"]) == {"offline", "cache"}
    assert set(log["user_id"]) == {"wang", "analyst"}


def test_feedback_records_who_gave_it(make_app, ui_env):
    import json

    at = ask(make_app("wang"), REGION_REVENUE)
    msg = at.session_state["chat"]["messages"][0]["id"]
    at.button(key=f"up_{msg}").click().run()
    lines = (ui_env / "home" / "feedback.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[-1])["user"] == "wang"


# --- admin pages ---------------------------------------------------------------------------------


@pytest.mark.parametrize("user", ["wang", "analyst", "zhao"])
def test_only_admins_get_the_admin_and_audit_pages(make_app, user):
    at = make_app(user)
    for page in ("app_pages/admin.py", "app_pages/audit.py"):
        with pytest.raises(ValueError, match="Known pages") as err:
            at.switch_page(page)
        assert page.split("/")[1] not in str(err.value).split("Known pages")[1]


@pytest.mark.parametrize("page", ["admin.py", "audit.py"])
def test_require_admin_refuses_a_non_admin_reaching_the_page_directly(ui_env, monkeypatch, page):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("CHATBI_USER", "wang")
    at = AppTest.from_file(str(REPO / "ui" / "app_pages" / page), default_timeout=TIMEOUT).run()
    assert any("仅限管理员" in e.value for e in at.error)
    assert not at.text_area and not at.get("arrow_data_frame")


def test_a_page_reached_directly_without_anyone_signed_in_shows_the_sign_in_screen(ui_env, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.delenv("CHATBI_USER")
    at = AppTest.from_file(str(REPO / "ui" / "app_pages" / "chat.py"), default_timeout=TIMEOUT).run()
    assert not at.exception and not at.chat_input
    assert any("需要登录" in e.value for e in at.error)


def test_catalog_edits_record_their_author(make_app, ui_env):
    at = make_app("admin", page="app_pages/admin.py")
    at.selectbox(key="admin_file").select("metrics/sales.yaml").run()
    box = next(ta for ta in at.text_area if ta.key.startswith("admin_text::"))
    box.input(box.value.replace("en: Revenue}", "en: Turnover}")).run()
    at.button(key="admin_save").click().run()
    assert not at.exception, at.exception
    newest = CatalogStore(ui_env / "catalog").history("metrics/sales.yaml")[0]
    assert (newest.author, newest.action) == ("admin", "save")
    assert any("admin 保存" in t for t in texts(at)), "shown in the history list"


# --- how a session is signed in --------------------------------------------------------------------


def test_nobody_signed_in_gets_the_sign_in_screen_and_no_chat(ui_env):
    at = fresh_app()
    assert not at.chat_input and not at.button
    assert [t.value for t in at.title] == ["登录 ChatBI"]
    assert any("需要登录" in e.value and "--user" in e.value and "secrets.toml" in e.value for e in at.error)
    assert not at.sidebar.caption, "nothing about the data before sign-in"


def test_an_unknown_server_user_gets_a_clear_error(ui_env):
    at = fresh_app(user="wangg")
    assert not at.chat_input
    assert any("不在用户目录中" in e.value for e in at.error)
    assert any("您是不是要找: wang" in t for t in texts(at))


def test_the_local_operator_is_an_admin(ui_env):
    at = fresh_app(local=True)
    assert at.chat_input
    assert "本机操作员" in sidebar_text(at) and "管理员" in sidebar_text(at)
    at.switch_page("app_pages/admin.py").run()
    assert not at.exception and at.selectbox(key="admin_file")


def test_oidc_login_maps_the_email_to_the_directory(ui_env):
    at = fresh_app(user="admin", secrets=AUTH, login={"is_logged_in": True, "email": "WANG@example.com"})
    assert "王经理(华东)" in sidebar_text(at), "OIDC wins over the server's user; e-mail case does not matter"
    assert any(b.key == "sign_out" for b in at.sidebar.button)
    ask(at, REGION_REVENUE)
    assert regions(at) == {"华东"}
    with pytest.raises(ValueError, match="Known pages"):
        at.switch_page("app_pages/admin.py")


@pytest.mark.parametrize("authlib", [True, False])
def test_oidc_shows_a_login_screen_until_signed_in(ui_env, monkeypatch, authlib):
    import ui.auth

    monkeypatch.setattr(ui.auth, "authlib_installed", lambda: authlib)
    at = fresh_app(secrets=AUTH, login={"is_logged_in": False})
    assert not at.chat_input and not at.sidebar.caption
    assert [t.value for t in at.title] == ["登录 ChatBI"]
    assert any("登录" in i.value for i in at.info)
    if authlib:
        assert [(b.key, b.label) for b in at.button] == [("login_default", "登录")]
    else:
        assert not at.button and any("Authlib" in e.value for e in at.error)


@pytest.mark.parametrize("login", [{"is_logged_in": True, "email": "stranger@example.com"},
                                   {"is_logged_in": True, "email": "wang@example.com", "email_verified": False},
                                   {"is_logged_in": True}], ids=["unknown", "unverified", "no-email"])
def test_oidc_refuses_an_email_not_in_the_directory(ui_env, login):
    at = fresh_app(secrets=AUTH, login=login)
    assert not at.chat_input and not at.dataframe
    assert any("未授权" in e.value and "users.yaml" in e.value.replace("\\", "") for e in at.error)
    assert [b.key for b in at.button] == ["sign_out"], "nothing else but the way out"


def test_sign_out_returns_to_the_login_screen(ui_env):
    at = fresh_app(secrets=AUTH, login={"is_logged_in": True, "email": "admin@example.com"})
    assert at.chat_input
    at.sidebar.button(key="sign_out").click().run()
    assert not at.exception and not at.chat_input
    assert [t.value for t in at.title] == ["登录 ChatBI"]


def test_an_admin_can_still_reach_the_admin_page_with_a_broken_catalog(ui_env: Path):
    sales = ui_env / "catalog" / "metrics" / "sales.yaml"
    sales.write_text(sales.read_text(encoding="utf-8") + "\n  - name: [unclosed\n", encoding="utf-8")
    at = fresh_app(user="admin")
    at.switch_page("app_pages/admin.py").run()
    assert not at.exception and at.selectbox(key="admin_file")
    broken = fresh_app(user="wang")
    with pytest.raises(ValueError, match="Known pages"):
        broken.switch_page("app_pages/admin.py")


def test_secrets_without_auth_and_no_secrets_file_mean_no_oidc(ui_env):
    at = fresh_app(user="wang", secrets={"other": {"key": "value"}})
    assert at.chat_input and "王经理(华东)" in sidebar_text(at)


def test_a_directory_change_applies_on_the_next_question(make_app, ui_env, monkeypatch):
    """users.yaml is re-read when it changes: wang granted North too sees both, never a cached East-only answer."""
    users = ui_env / "users.yaml"
    text = (REPO / "metrics" / "users.yaml").read_text(encoding="utf-8")
    users.write_text(text, encoding="utf-8")
    monkeypatch.setenv("CHATBI_USERS", str(users))
    at = ask(make_app("wang"), REGION_REVENUE)
    assert regions(at) == {"华东"}
    users.write_text(text.replace("regions: [East]}", "regions: [East, North]}"), encoding="utf-8")
    ask(at, REGION_REVENUE)
    assert regions(at) == {"华东", "华北"}
    assert "地区: 华东、华北" in sidebar_text(at)


def test_a_policy_change_is_not_hidden_by_cached_answers(make_app, ui_env):
    """access.yaml is part of the catalog version the caches are keyed by."""
    assert all(re.fullmatch(r".\*+", n) for n in customer_names(ask(make_app("analyst"), CHURN)))
    access = ui_env / "catalog" / "access.yaml"
    text = access.read_text(encoding="utf-8")
    business = text.index("  business:")
    access.write_text(text[:business] + text[business:].replace("pii: masked", "pii: visible", 1), encoding="utf-8")
    assert not any(re.fullmatch(r".\*+", n) for n in customer_names(ask(make_app("analyst"), CHURN)))


def test_a_cached_answer_still_counts_against_the_rate_limit(make_app, ui_env):
    """Three new conversations ask the same question: the second is served from the cache (and audited),
    the third is over the limit of two a minute and refused, cache or not."""
    access = ui_env / "catalog" / "access.yaml"
    access.write_text(access.read_text(encoding="utf-8").replace("questions_per_minute: 30", "questions_per_minute: 2"),
                      encoding="utf-8")
    answers = [ask(make_app("wang"), REGION_REVENUE).session_state["chat"]["messages"][0]["answer"] for _ in range(3)]
    assert [a["status"] for a in answers] == ["ok", "ok", "refused"]
    assert answers[2]["error_code"] == 331 and "提问过于频繁" in answers[2]["message"]
    log = AuditLog(ui_env / "home" / "audit.sqlite").search()
    assert list(zip(log["status"], log["planner"])) == [("refused", "offline"), ("ok", "cache"), ("ok", "offline")]


def test_docstring_examples_run():
    """``ui/`` is not a doctest path, so the module's examples run here."""
    import doctest

    import ui.auth

    result = doctest.testmod(ui.auth)
    assert result.attempted and not result.failed
