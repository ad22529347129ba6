"""The combination rule measured on the golden suite: few questions reach the LLM, each within the token budget."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from assistant.llm.budget import BUDGET, conversations, measure

SUITE = Path(__file__).resolve().parents[1] / "eval" / "suite.yaml"


@pytest.fixture(scope="module")
def report(catalog):
    try:
        cases = conversations(SUITE)
    except (OSError, yaml.YAMLError, KeyError, TypeError, AttributeError) as exc:  # a suite draft in flux
        pytest.skip(f"golden suite unreadable: {exc}")
    if not cases:
        pytest.skip("golden suite is empty")
    return measure(cases, catalog, as_of=dt.date(2025, 12, 31))


def test_most_questions_need_no_call(report) -> None:
    assert report.count("confident") + report.count("final") >= 0.7 * report.questions, "\n".join(report.lines())


def test_at_most_one_call_per_question_on_the_happy_path(report) -> None:
    """With a model that answers validly at once, a routed question costs exactly one call, others none."""
    assert all(r.calls == (1 if r.route == "unsure" else 0) for r in report.rows)


def test_every_prompt_fits_the_budget(report) -> None:
    assert report.tokens("cjk_aware"), "no question was routed to the LLM"
    assert max(report.tokens("approx")) <= BUDGET
    assert max(report.tokens("cjk_aware")) <= BUDGET


def test_final_questions_are_refusals_or_curated_clarifications(report) -> None:
    assert {r.offline for r in report.rows if r.route == "final"} <= {"refused", "clarify"}
    assert all(r.offline == "ok" for r in report.rows if r.route == "confident")
