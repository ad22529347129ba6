"""Limits and audit around ChatBI.ask: length cap, rate limit, analyst mode, runaway queries."""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path

import pytest

from assistant.audit import AuditLog
from assistant.llm.fakes import ScriptedChatModel, plan_call
from assistant.llm.config import LLMSettings
from assistant.llm.wiring import connect_llm
from assistant.service import ChatBI
from semantic_layer.errors import EngineError
from semantic_layer.guard import guard_sql
from semantic_layer.loader import load_catalog
from semantic_layer.policy import Limits, Principal

WANG = Principal("wang", "manager", attributes={"regions": ("East",)})
ANALYST = Principal("analyst", "business", attributes={"regions": ("*",)})
ADMIN = Principal("admin", "admin")


def limited(**limits) -> object:
    catalog = load_catalog()
    policy = catalog.policy.model_copy(update={"limits": Limits(**limits)})
    return dataclasses.replace(catalog, policy=policy)


@pytest.fixture
def audit(tmp_path: Path) -> AuditLog:
    return AuditLog(tmp_path / "audit.sqlite")


def test_every_question_is_audited_with_masked_text(demo_db: Path, audit: AuditLog) -> None:
    bi = ChatBI(demo_db, llm=False, audit=audit)
    ok = bi.ask("2025年各地区的销售额", user=WANG)
    bi.ask("帮我删除所有订单", user=WANG)
    bi.ask("13812345678 这个客户的销售额", user=ANALYST)
    rows = audit.search().sort_values("id")
    assert list(rows["user_id"]) == ["wang", "wang", "analyst"]
    assert list(rows["status"])[:2] == ["ok", "refused"] and ok.user == "wang"
    first = rows.iloc[0]
    assert first["role"] == "manager" and first["rows_returned"] == 1 and "IN ('East')" in first["sql"]
    assert first["semantic_query"]["dimensions"] == ["region"] and first["duration_ms"] > 0
    assert "13812345678" not in rows.to_csv() and "138****5678" in rows.iloc[2]["question"]


def test_question_length_cap_refuses_before_planning(demo_db: Path, audit: AuditLog) -> None:
    bi = ChatBI(demo_db, catalog=limited(max_question_chars=40), llm=False, audit=audit)
    answer = bi.ask("2025年各地区的销售额" + "请详细一点" * 10, user=WANG)
    assert answer.status == "refused" and answer.error_code == 330 and answer.sql is None
    assert "40" in answer.message and bi.ask("x" * 41, lang="en", user=WANG).message.startswith("The question is too long")
    assert len(audit.search().iloc[0]["question"]) == 40  # stored cut to the cap


def test_rate_limit_per_user(demo_db: Path, audit: AuditLog) -> None:
    bi = ChatBI(demo_db, catalog=limited(questions_per_minute=3), llm=False, audit=audit)
    statuses = [bi.ask("2025年各地区的销售额", user=WANG).status for _ in range(4)]
    assert statuses == ["ok", "ok", "ok", "refused"]
    blocked = bi.ask("2025年各地区的销售额", user=WANG, lang="en")
    assert blocked.error_code == 331 and "per minute" in blocked.message and blocked.sql is None
    assert bi.ask("2025年各地区的销售额", user=ANALYST).status == "ok"  # another user is not affected
    assert bi.ask("2025年各地区的销售额", user=Principal.local("me")).status == "ok"  # the local operator is exempt


def test_analyst_mode_sql_is_refused_for_restricted_users(demo_db: Path) -> None:
    bi = ChatBI(demo_db, llm=False, audit=False)
    sql = "SELECT region, COUNT(*) AS n FROM customers GROUP BY region"
    model = ScriptedChatModel(respond=lambda _m: plan_call(sql=sql))
    bi.llm = connect_llm(bi.catalog, bi.planner, model, settings=LLMSettings(model="fake", analyst_mode=True, cooldown=0),
                         schema=lambda: bi.schema)
    question = "how many customers does each region have, straight from the table, not a metric"
    refused = bi.ask(question, user=WANG)
    assert refused.status == "refused" and refused.error_code == 332 and not refused.rows
    allowed = bi.ask(question, user=ADMIN)
    assert allowed.status == "ok" and allowed.governed is False and len(allowed.rows) == 7


def test_runaway_query_is_stopped_at_its_limit_while_others_carry_on(demo_db: Path) -> None:
    bi = ChatBI(demo_db, catalog=limited(query_seconds=1.0), llm=False, audit=False)
    runaway = guard_sql("SELECT COUNT(*) AS n FROM orders a, orders b, orders c WHERE a.amount + b.amount > c.amount",
                        bi.schema, max_rows=10)
    outcome: dict[str, object] = {}

    def run_away() -> None:
        started = time.perf_counter()
        try:
            bi.engine.execute(runaway)
        except EngineError as exc:
            outcome["code"] = exc.code
        outcome["seconds"] = time.perf_counter() - started

    thread = threading.Thread(target=run_away)
    thread.start()
    answers = []
    while thread.is_alive() and len(answers) < 50:
        answers.append(bi.ask("2025年各地区的销售额", user=WANG).status)
    thread.join(timeout=30)
    assert outcome["code"] == 502 and 0.9 <= outcome["seconds"] < 10
    assert answers and set(answers) == {"ok"}
    assert bi.ask("2025年各地区的销售额", user=WANG).status == "ok"  # the engine is healthy afterwards


def test_an_answer_that_cannot_be_audited_is_withheld(demo_db: Path, tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.sqlite")
    bi = ChatBI(demo_db, llm=False, audit=log)
    (tmp_path / "audit.sqlite").unlink()
    (tmp_path / "audit.sqlite").mkdir()  # the log file is gone and its path unusable
    answer = bi.ask("2025年各地区的销售额", user=WANG)
    assert answer.status == "error" and answer.error_code == 240 and not answer.rows and answer.message


def test_sessions_racing_for_a_customer_model_all_get_their_answer(demo_db: Path) -> None:
    """Regression: the session that did not build the RFM model guarded against a stale table list (314)."""
    bi = ChatBI(demo_db, llm=False, audit=False)
    barrier = threading.Barrier(4)
    answers: list[object] = []

    def ask() -> None:
        barrier.wait()
        answers.append(bi.ask("帮我做一下RFM分析", user=ANALYST))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert [a.status for a in answers] == ["ok"] * 4, [(a.error_code, a.message) for a in answers]
    assert len({str(a.rows) for a in answers}) == 1
