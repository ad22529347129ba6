"""Measure the combination rule offline: how many questions would reach the LLM, and at what prompt size.

Runs every question of a golden suite (conversations turn by turn, the previous
query carried as a session would) through the offline planner and ``route``,
and through ``HybridPlanner`` with a fake model that answers each call with the
offline parser's reading, counting real calls. For each routed question it
builds the exact planning request and counts its tokens two ways (see
``prompt.prompt_tokens``). No endpoint, no database::

    python -m assistant.llm.budget tests/eval/suite.yaml [--db chatbi_demo.duckdb]

With ``--db`` it also runs the suite offline (``chatbi eval``) and crosses each
case's route with whether the offline answer passed: the cases a confident
offline plan gets wrong are the ones this rule keeps from the LLM.
"""

from __future__ import annotations

import datetime as dt
import statistics
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from semantic_layer.catalog import Catalog
from semantic_layer.query import SemanticQuery

from ..planner import Planner, detect_lang
from .config import LLMSettings
from .fakes import ScriptedChatModel, plan_call
from .planner import LLMPlanner
from .prompt import catalog_card, plan_tool, planning_messages, prompt_tokens
from .route import HybridPlanner, Route

BUDGET = 3000


@dataclass
class Measured:
    case: str
    question: str
    expected: str  # the suite's expected status of the final turn (ok when it has check SQL)
    offline: str  # offline plan status
    route: Route
    calls: int
    tokens: dict[str, int] = field(default_factory=dict)


@dataclass
class Report:
    rows: list[Measured]

    @property
    def questions(self) -> int:
        return len(self.rows)

    def count(self, which: Route) -> int:
        return sum(r.route == which for r in self.rows)

    def tokens(self, kind: str) -> list[int]:
        return [r.tokens[kind] for r in self.rows if r.tokens]

    def lines(self) -> list[str]:
        n = self.questions or 1
        sent = self.count("unsure")
        out = [f"questions (turns): {self.questions}",
               f"final, never sent (writes, pasted SQL, declared ambiguity): {self.count('final')}",
               f"offline confident (no call): {self.count('confident')} ({self.count('confident') / n:.0%})",
               f"sent to the LLM: {sent} ({sent / n:.0%})",
               f"LLM calls with a model that answers at once: {sum(r.calls for r in self.rows)}"]
        by = Counter((r.offline, r.route) for r in self.rows)
        out += [f"  offline {status:<8} → {which}: {k}" for (status, which), k in sorted(by.items())]
        expected = Counter((r.expected, r.route) for r in self.rows)
        out += [f"  suite expects {status:<8} → {which}: {k}" for (status, which), k in sorted(expected.items())]
        for kind in ("approx", "cjk_aware"):
            values = self.tokens(kind)
            if values:
                out.append(f"prompt tokens ({kind}): min {min(values)}, median {int(statistics.median(values))}, "
                           f"max {max(values)}, over {BUDGET}: {sum(v > BUDGET for v in values)}")
        return out


def conversations(suite: Path) -> list[tuple[str, list[str], str]]:
    """(case id, questions, expected final status) read straight from the YAML (tolerates a suite in flux)."""
    data = yaml.safe_load(suite.read_text(encoding="utf-8")) or {}
    out = []
    for case in data.get("cases", []):
        turns = [case] if case.get("question") else list(case.get("turns") or [])
        questions = [t["question"] for t in turns if t.get("question")]
        if questions:
            last = turns[-1]
            out.append((str(case.get("id")), questions, last.get("expect_status") or "ok"))
    return out


def measure(cases: list[tuple[str, list[str], str]], catalog: Catalog, *, as_of: dt.date) -> Report:
    card = catalog_card(catalog)
    tool = plan_tool()
    echo = ScriptedChatModel(respond=_echo_hint)
    hybrid = HybridPlanner(Planner(catalog), LLMPlanner(catalog, echo, settings=LLMSettings(model="fake", cooldown=0)))
    rows: list[Measured] = []
    for case_id, questions, expected in cases:
        previous: SemanticQuery | None = None
        for i, question in enumerate(questions):
            lang = detect_lang(question)
            before = echo.calls
            decision = hybrid.plan(question, as_of=as_of, previous=previous, lang=lang)
            plan, which = decision.offline, decision.route
            assert plan is not None
            tokens: dict[str, int] = {}
            if which == "unsure":
                messages = planning_messages(question, card, as_of=as_of, previous=previous, lang=lang, hint=plan.query,
                                             unknown_words=tuple(n.en for n in plan.notes))
                tokens = prompt_tokens(messages, [tool])
            rows.append(Measured(case_id, question, expected if i == len(questions) - 1 else "ok", plan.status, which,
                                 echo.calls - before, tokens))
            if decision.plan.status == "ok" and decision.plan.query is not None:
                previous = decision.plan.query
    return Report(rows)


def _echo_hint(messages: list[Any]) -> Any:
    """A stand-in model: returns the rule-based reading from the prompt, or asks back."""
    import json
    import re

    found = re.search(r"read it as (\{.*?\})(?: but|\n|$)", str(messages[-1].content))
    if found:
        return plan_call(query=json.loads(found.group(1)))
    return plan_call("clarify", message="?")


def cross_check(report: Report, suite: Path, db: Path) -> list[str]:
    """Route of each case's last turn × whether the offline answer passes the suite's check."""
    from ..evaluate import load_suite, run_suite
    from ..service import ChatBI

    passed = {r.case.id: r.passed for r in run_suite(load_suite(suite), ChatBI(db, llm=False), db).results}
    last = {r.case: r for r in report.rows}  # the last turn of each case wins
    table = Counter((m.route, passed.get(case)) for case, m in last.items() if case in passed)
    failing_confident = sorted(c for c, m in last.items() if m.route == "confident" and passed.get(c) is False)
    return ([f"  last turn {which:<9} offline {'passes' if ok else 'fails '}: {k}"
             for (which, ok), k in sorted(table.items(), key=str)]
            + [f"  confident but failing: {', '.join(failing_confident) or '-'}"])


def main(argv: list[str] | None = None) -> None:
    import argparse

    from semantic_layer.loader import load_catalog

    parser = argparse.ArgumentParser(prog="python -m assistant.llm.budget")
    parser.add_argument("suite", type=Path, nargs="?", default=Path("tests/eval/suite.yaml"))
    parser.add_argument("--as-of", default="2025-12-31")
    parser.add_argument("--db", type=Path, help="also run the suite offline on this warehouse and cross-check")
    args = parser.parse_args(argv if argv is not None else sys.argv[1:])
    report = measure(conversations(args.suite), load_catalog(), as_of=dt.date.fromisoformat(args.as_of))
    print("\n".join(report.lines()))
    if args.db:
        print("\n".join(cross_check(report, args.suite, args.db)))


if __name__ == "__main__":
    main()
