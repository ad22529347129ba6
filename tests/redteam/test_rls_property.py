"""Row-level security as a property of the whole golden suite.

Every case of tests/eval/suite.yaml (conversations included, read with
``assistant.evaluate``) is asked as wang (regional manager, East). For every
turn that answers ``ok`` with a semantic query:

- no row names another region, another region's customer or city;
- the rows equal the admin's answer to the same semantic query with the filter
  ``customers.region in (East)`` added, compiled, guarded and run with the
  admin's access (``ChatBI._execute``, the governed path of ``ChatBI.run``
  without its chart and comparison periods) — the strongest check: grants on every source must mean the
  same as one filter on the joined result;
- where the query reads a model the manager is denied (marketing_spend: CAC,
  marketing spend), those figures are empty or None instead.

The same runs for li (North + Northeast) on every sixth case. Cases checked and
skipped (with the reason) are printed in the terminal summary.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assistant.evaluate import Case, load_suite
from assistant.service import ChatBI
from assistant.session import Session

SUITE = Path(__file__).resolve().parents[1] / "eval" / "suite.yaml"
CASES: list[Case] = load_suite(SUITE).cases
LI_SAMPLE = CASES[::6]


def _check_case(case: Case, user_id: str, bi: ChatBI, oracle: Any, report: dict[str, Any]) -> None:
    user = oracle.users.get(user_id)
    session = Session(f"rls-{user_id}-{case.id}")
    turns = case.conversation()
    for n, turn in enumerate(turns, 1):
        answer = bi.ask(turn.question, session=session, user=user)
        where = f"{case.id} turn {n} ({turn.question!r})"
        assert answer.status in ("ok", "clarify", "refused", "error"), where
        if answer.status != "ok" or answer.semantic_query is None:
            assert answer.message, f"{where}: {answer.status} without a message"
            expected = turn.expect_status or ("ok" if turn.check_sql else None)
            if n == len(turns):
                # Not ok where the admin gets ok: only a refusal of a region outside the grant is acceptable.
                if expected == "ok":
                    assert answer.error_code == 322, f"{where}: {answer.status} {answer.error_code} {answer.message}"
                reason = f"{answer.status} {answer.error_code or ''}".strip()
                report["rls"][(user_id, "not_ok")] += 1
                report["rls_skipped"][(user_id, reason + (" (suite expects it)" if expected != "ok" else
                                                          " (foreign region refused)"))] += 1
            continue
        try:
            outcome, detail = oracle.rls_check(answer, user)
        except AssertionError as exc:
            raise AssertionError(f"{where}: {exc}") from None
        if n == len(turns):
            report["rls"][(user_id, outcome)] += 1
            if outcome == "skipped":
                report["rls_skipped"][(user_id, detail)] += 1


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_manager_east_sees_only_east(case: Case, bi: ChatBI, oracle: Any, report: dict[str, Any]) -> None:
    _check_case(case, "wang", bi, oracle, report)


@pytest.mark.parametrize("case", LI_SAMPLE, ids=[c.id for c in LI_SAMPLE])
def test_manager_north_sees_only_north_and_northeast(case: Case, bi: ChatBI, oracle: Any,
                                                     report: dict[str, Any]) -> None:
    _check_case(case, "li", bi, oracle, report)


def test_property_covered_most_of_the_suite(report: dict[str, Any]) -> None:
    """Runs last in this module: most wang cases that answer are checked row for row or as denied."""
    counts = report["rls"]
    if not counts:
        pytest.skip("the per-case tests did not run (deselected)")
    checked = counts[("wang", "equal")] + counts[("wang", "empty_denied")]
    assert checked >= 0.8 * sum(n for (u, o), n in counts.items() if u == "wang" and o != "not_ok"), counts
