"""Golden-suite evaluation: questions (or conversations) with the answer they must give.

A case either has ``check_sql`` — hand-written SQL whose rows the final answer
must match — or ``expect_status`` (clarify / refused / error). Rows compare as
multisets, each row as its sorted normalised values, so a check query need not
guess column order. Admins run it after catalog edits (``chatbi eval``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import duckdb
import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from .service import Answer, ChatBI
from .session import Session


class Turn(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    question: str
    check_sql: str | None = None
    expect_status: Literal["ok", "clarify", "refused", "error"] | None = None
    #: For module analyses (rows from Python, not SQL): the answer must be ok and its semantic
    #: query must hold these keys and values (e.g. {analysis: basket, params: {level: product}}).
    expect_query: dict[str, Any] | None = None


class Case(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    question: str | None = None
    turns: list[Turn] = []
    check_sql: str | None = None
    expect_status: Literal["ok", "clarify", "refused", "error"] | None = None
    expect_query: dict[str, Any] | None = None
    tags: list[str] = []

    @model_validator(mode="after")
    def _one_form(self) -> Case:
        if bool(self.question) == bool(self.turns):
            raise ValueError("a case has either question or turns")
        last = self.conversation()[-1]
        if not last.check_sql and not last.expect_status and not last.expect_query:
            raise ValueError("the last turn needs check_sql or expect_status")
        return self

    def conversation(self) -> list[Turn]:
        if self.question:
            return [Turn(question=self.question, check_sql=self.check_sql, expect_status=self.expect_status,
                         expect_query=self.expect_query)]
        return list(self.turns)


class Suite(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    cases: list[Case]


@dataclass(frozen=True)
class CaseResult:
    case: Case
    passed: bool
    detail: str
    answer: Answer | None = None


@dataclass
class Report:
    results: list[CaseResult] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return sum(r.passed for r in self.results) / len(self.results) if self.results else 0.0

    def lines(self) -> list[str]:
        out = [f"{'PASS' if r.passed else 'FAIL'}  {r.case.id}: {r.detail}" for r in self.results]
        passed = sum(r.passed for r in self.results)
        out.append(f"{passed} passed, {len(self.results) - passed} failed")
        out.append(f"accuracy: {self.accuracy:.1%} ({passed}/{len(self.results)})")
        return out


def load_suite(path: str | Path) -> Suite:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return Suite.model_validate(data)


def run_suite(suite: Suite, bi: ChatBI, check_db: str | Path) -> Report:
    """Ask every case through ``bi`` and check it against SQL run on ``check_db``."""
    report = Report()
    with duckdb.connect(str(check_db), read_only=True) as con:
        for case in suite.cases:
            report.results.append(_run_case(case, bi, con))
    return report


def _run_case(case: Case, bi: ChatBI, con: duckdb.DuckDBPyConnection) -> CaseResult:
    session = Session(f"eval-{case.id}")
    answer: Answer | None = None
    turns = case.conversation()
    for turn in turns:
        answer = bi.ask(turn.question, session=session)
    assert answer is not None
    last = turns[-1]
    if last.expect_status:
        ok = answer.status == last.expect_status
        return CaseResult(case, ok, f"status {answer.status}" + ("" if ok else f", expected {last.expect_status}: {answer.message}"), answer)
    if answer.status != "ok":
        return CaseResult(case, False, f"status {answer.status}: {answer.message}", answer)
    if last.expect_query is not None:
        got_query = answer.semantic_query or {}
        wrong = {k: got_query.get(k) for k, v in last.expect_query.items() if got_query.get(k) != v}
        if wrong or not answer.rows:
            return CaseResult(case, False, f"query {got_query} differs in {wrong} (rows: {len(answer.rows)})", answer)
        if not last.check_sql:
            return CaseResult(case, True, f"query matches, {len(answer.rows)} rows", answer)
    expected = con.execute(last.check_sql or "").fetchall()
    got, want = _bag(answer.rows), _bag(expected)
    if got == want:
        return CaseResult(case, True, f"{len(expected)} rows match", answer)
    missing = list((want - got).elements())[:2]
    extra = list((got - want).elements())[:2]
    return CaseResult(case, False, f"rows differ: {len(answer.rows)} vs {len(expected)} expected; "
                                   f"missing {missing}, unexpected {extra}; query {answer.semantic_query}", answer)


def _bag(rows: list[Any]) -> Counter[tuple[str, ...]]:
    return Counter(tuple(sorted(_norm(v) for v in row)) for row in rows)


def _norm(value: Any) -> str:
    """Comparable text: numbers to 6 significant digits, dates as ISO, None as ∅.

    >>> _norm(1234.5678901), _norm(dt.date(2025, 1, 1)), _norm(3)
    ('1234.57', '2025-01-01', '3')
    """
    if value is None:
        return "∅"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)) or type(value).__name__ == "Decimal":
        number = float(value)
        if math.isnan(number):
            return "nan"
        # Answers carry 6 decimals (JSON); round both sides alike before 6 significant digits.
        return f"{round(number, 6):.6g}"
    text = str(value)
    if len(text) >= 10 and text[4] == "-" and text[7] == "-":
        return text[:10]
    return text
