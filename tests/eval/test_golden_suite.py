"""The golden suite: every question in tests/eval/suite.yaml must get the answer its check SQL gives.

The check SQL runs on the same demo warehouse file the assistant answers from
(the session-scoped ``demo_db`` fixture, as-of 2025-12-31). The holdout set
(tests/eval/holdout.yaml) is deliberately NOT asserted here: it is run once, by
hand, to measure accuracy on unseen phrasings.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from assistant.evaluate import Suite, load_suite, run_suite
from assistant.service import ChatBI

SUITE = Path(__file__).with_name("suite.yaml")
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def suite() -> Suite:
    return load_suite(SUITE)


def test_suite_shape(suite: Suite) -> None:
    cases = suite.cases
    ids = Counter(c.id for c in cases)
    assert not [i for i, n in ids.items() if n > 1], "duplicate case ids"
    first = [c.conversation()[0].question for c in cases]
    last = Counter(c.conversation()[-1].expect_status for c in cases)
    chinese = sum(bool(CJK.search(q)) for q in first)
    multi_turn = sum(len(c.conversation()) > 1 for c in cases)
    summary = (f"{len(cases)} cases, {chinese} Chinese, {multi_turn} multi-turn, "
               f"{last['refused']} refused, {last['clarify']} clarify")
    assert len(cases) >= 150, summary
    assert chinese * 2 >= len(cases), summary
    assert multi_turn >= 15, summary
    assert last["refused"] >= 10, summary
    assert last["clarify"] >= 10, summary


def test_suite_check_sql_runs(suite: Suite, demo_db: Path) -> None:
    """Every check query is valid SQL over the warehouse and returns rows."""
    import duckdb

    empty = []
    with duckdb.connect(str(demo_db), read_only=True) as con:
        for case in suite.cases:
            sql = case.conversation()[-1].check_sql
            if sql and not con.execute(sql).fetchall():
                empty.append(case.id)
    assert not empty, f"check SQL returns no rows: {empty}"


def test_golden_suite_passes(suite: Suite, demo_db: Path) -> None:
    report = run_suite(suite, ChatBI(demo_db), demo_db)
    failing = [line for line, r in zip(report.lines(), report.results) if not r.passed]
    assert not failing, (f"{len(failing)} of {len(report.results)} golden cases fail "
                         f"(accuracy {report.accuracy:.1%}):\n" + "\n".join(failing))
