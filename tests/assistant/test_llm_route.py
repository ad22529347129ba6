"""The combination rule: offline first when confident; writes, pasted SQL and declared ambiguity are final."""

from __future__ import annotations

import datetime as dt

import pytest

from assistant.llm.config import LLMSettings
from assistant.llm.fakes import ScriptedChatModel, plan_call
from assistant.llm.planner import LLMPlanner
from assistant.llm.route import HybridPlanner, route
from assistant.planner import Planner

AS_OF = dt.date(2025, 12, 31)


@pytest.mark.parametrize(("question", "expected"), [
    pytest.param("2025年各地区的销售额", "confident", id="offline_plans_every_word"),
    pytest.param("revenue by region this year", "confident", id="offline_plans_every_word_en"),
    pytest.param("删除所有订单", "final", id="write_refused_final"),
    pytest.param("SELECT * FROM customers", "final", id="pasted_sql_final"),
    pytest.param("按渠道看销售额", "final", id="declared_ambiguity_asks_offline"),
    pytest.param("东边今年赚了多少票子", "unsure", id="ok_but_ignored_words"),
    pytest.param("how much dough did we make in the East this year?", "unsure", id="unknown_word_refusal"),
    pytest.param("what did East bring in this year", "unsure", id="no_metric_found"),
])
def test_route(catalog, question, expected) -> None:
    planner = Planner(catalog)
    ambiguous = [a.term for a in catalog.project.ambiguous]
    assert route(question, planner.plan(question, as_of=AS_OF), ambiguous) == expected


def _hybrid(catalog, *replies, mode="auto"):
    model = ScriptedChatModel(messages=iter(replies))
    llm = LLMPlanner(catalog, model, settings=LLMSettings(model="fake", cooldown=0))
    return HybridPlanner(Planner(catalog), llm, mode=mode), model


def test_confident_and_final_questions_make_no_call(catalog) -> None:
    hybrid, model = _hybrid(catalog)
    for question in ["2025年各地区的销售额", "删除所有订单", "DROP TABLE customers", "按渠道看销售额"]:
        decision = hybrid.plan(question, as_of=AS_OF)
        assert decision.source == "offline" and decision.llm_calls == 0
    assert model.calls == 0


def test_always_mode_still_never_sends_writes(catalog) -> None:
    hybrid, model = _hybrid(catalog, plan_call(query={"metrics": ["revenue"], "dimensions": ["region"]}), mode="always")
    assert hybrid.plan("2025年各地区的销售额", as_of=AS_OF).source == "llm"
    assert hybrid.plan("删除所有订单", as_of=AS_OF).plan.status == "refused"
    assert model.calls == 1


def test_unsure_question_is_planned_by_the_llm_with_the_offline_reading_as_hint(catalog) -> None:
    query = {"metrics": ["gross_profit"], "time": {"relative": "this_year"},
             "filters": [{"field": "region", "values": ["East"]}]}
    hybrid, model = _hybrid(catalog, plan_call(query=query))
    decision = hybrid.plan("东边今年赚了多少票子", as_of=AS_OF, lang="zh")
    assert decision.source == "llm" and decision.route == "unsure" and decision.llm_calls == 1
    assert decision.plan.query is not None and decision.plan.query.filters[0].values == ["East"]
    prompt = model.requests[0][-1].content
    assert 'A rule-based parser read it as {"metrics":["gross_profit"]' in prompt and "东边" in prompt


def test_llm_failure_keeps_the_offline_plan_with_a_notice(catalog) -> None:
    hybrid, _ = _hybrid(catalog, TimeoutError("slow"))
    decision = hybrid.plan("东边今年赚了多少票子", as_of=AS_OF, lang="zh")
    assert decision.source == "offline" and decision.plan.status == "ok" and decision.plan.notes
    assert "超时" in decision.notices[0].zh


def test_llm_agreeing_to_refuse_keeps_the_curated_message(catalog) -> None:
    hybrid, _ = _hybrid(catalog, plan_call("refuse", message="Nope, see http://evil.test"))
    decision = hybrid.plan("按星座看销售额", as_of=AS_OF, lang="zh")
    assert decision.plan.status == "refused" and "星座" in decision.plan.message.zh


def test_llm_clarify_over_an_offline_guess_is_sanitised(catalog) -> None:
    hybrid, _ = _hybrid(catalog, plan_call("clarify", message="Do you mean the East region? ![p](http://x.test/a)"))
    decision = hybrid.plan("东边今年赚了多少票子", as_of=AS_OF, lang="en")
    assert decision.plan.status == "clarify"
    assert decision.plan.message.en == "Do you mean the East region?"
