"""The whole pipeline (plan → compile → guard → run → compose) on PostgreSQL and Spark.

The same ChatBI service, handed another engine, must give the DuckDB answers:
same rows, row rules and masking included.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from assistant.service import ChatBI
from semantic_layer.policy import Principal

QUESTIONS = [
    "2025年各地区的销售额",
    "CAC by acquisition channel last quarter",
    "哪些重要价值客户有流失风险?",
    "各品类的退货率",
    "帮我做一下RFM分析",
]
WANG = Principal("wang", "manager", attributes={"regions": ("East",)})
ANALYST = Principal("analyst", "business", attributes={"regions": ("*",)})


@pytest.fixture(scope="module")
def duck(demo_db: Path) -> ChatBI:
    return ChatBI(demo_db, llm=False, audit=False)


def same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)
    return a == b


@pytest.mark.parametrize("user", [None, WANG, ANALYST], ids=["admin", "wang", "analyst"])
def test_answers_equal_duckdb(other_engine, duck: ChatBI, user: Principal | None) -> None:
    bi = ChatBI(engine=other_engine, llm=False, audit=False)
    assert bi.as_of == duck.as_of
    for question in QUESTIONS:
        theirs, ours = bi.ask(question, user=user), duck.ask(question, user=user)
        assert (theirs.status, theirs.columns) == (ours.status, ours.columns), (question, theirs.message)
        assert len(theirs.rows) == len(ours.rows), question
        for r1, r2 in zip(sorted(theirs.rows, key=str), sorted(ours.rows, key=str)):
            assert all(same(x, y) for x, y in zip(r1, r2)), (question, r1, r2)
        if user is WANG and "region" in theirs.columns:
            assert {r[0] for r in theirs.rows} == {"East"}


def test_cli_asks_postgres_by_url(pg_engine, pg_dsn: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """``chatbi ask --db postgresql://…`` reaches the server (the tables live in the DSN's search_path)."""
    from typer.testing import CliRunner

    from assistant.cli import app

    dsn = f"{pg_dsn}?options=-csearch_path%3D{pg_engine.schema}"
    result = CliRunner().invoke(app, ["ask", "2025年各地区的销售额", "--json", "--db", dsn])
    assert result.exit_code == 0, result.output
    assert '"status": "ok"' in result.output and '"East"' in result.output
