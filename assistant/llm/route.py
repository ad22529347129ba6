"""How the offline planner and the LLM planner combine: offline first, the LLM when offline is unsure.

The rule (``route``), measured on the golden suite in docs/llm.md:

- ``final``: offline refused a write, pasted SQL, an action or a competitor, or asked back about a term the
  admins declared ambiguous (project.yaml ``ambiguous``: 渠道, channel, 门店). Final;
  never sent to the model — the curated question is the right answer there.
- ``confident``: offline planned a query and ignored no word (no notes). Offline
  answers; no call. This is the happy path on questions the catalog's words cover.
- ``unsure``: anything else — a query built while ignoring words, a clarification,
  a refusal for unknown words. The LLM plans, with the offline reading as a hint;
  if it fails (timeout, invalid twice) the offline plan stands, with a notice.

With ``route="always"`` every non-final question goes to the LLM first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from semantic_layer.guard import GuardedSQL
from semantic_layer.query import SemanticQuery
from semantic_layer.schema import Text

from .. import vocabulary as V
from ..planner import Plan, Planner
from ..terms import normalize

if TYPE_CHECKING:
    from .planner import LLMPlanner

Route = Literal["final", "confident", "unsure"]


def route(question: str, offline: Plan, ambiguous: Collection[str] = ()) -> Route:
    """Which planner answers, from the offline plan alone; ``ambiguous``: the catalog's declared terms.

    >>> route("2025年各地区的销售额", Plan("ok", "zh", query=SemanticQuery(metrics=["revenue"])))
    'confident'
    >>> route("删除所有订单", Plan("refused", "zh")), route("按渠道看销售额", Plan("clarify", "zh"), ["渠道"])
    ('final', 'final')
    """
    text = normalize(question)
    final_refusals = (V.WRITE_INTENT, V.PASTED_SQL, V.SET_VALUE, V.ACTION_REQUEST, V.COMPETITOR)
    if offline.status == "refused" and any(p.search(text) for p in final_refusals):
        return "final"  # writes, pasted SQL, actions and competitors never reach the model
    if offline.status == "clarify" and any(normalize(term) in text for term in ambiguous):
        return "final"
    if offline.status == "ok" and offline.query is not None and not offline.notes:
        return "confident"
    return "unsure"


@dataclass(frozen=True)
class Decision:
    """The plan to run, who made it, and what the user should be told about it."""

    plan: Plan
    source: Literal["offline", "llm"] = "offline"
    route: Route = "confident"
    sql: GuardedSQL | None = None  # analyst mode: guarded SQL proposed by the model (ungoverned)
    notices: tuple[Text, ...] = ()
    llm_calls: int = 0
    prompt_tokens: int = 0
    offline: Plan | None = None  # the offline planner's own plan, for hints, logs and measurement


class HybridPlanner:
    def __init__(self, offline: Planner, llm: LLMPlanner | None = None, *, mode: Literal["auto", "always"] = "auto") -> None:
        self.offline = offline
        self.llm = llm
        self.mode = mode
        self.ambiguous = tuple(a.term for a in offline.catalog.project.ambiguous)

    def plan(self, question: str, *, as_of: dt.date, previous: SemanticQuery | None = None, lang: str = "zh") -> Decision:
        offline = self.offline.plan(question, as_of=as_of, previous=previous, lang=lang)
        which = route(question, offline, self.ambiguous)
        if self.llm is None or which == "final" or (which == "confident" and self.mode == "auto"):
            return Decision(offline, "offline", which, offline=offline)
        result = self.llm.plan(question, as_of=as_of, previous=previous, lang=lang, hint=offline.query,
                               hint_notes=tuple(n.en for n in offline.notes))
        spent: dict[str, Any] = {"llm_calls": result.calls, "prompt_tokens": result.prompt_tokens, "offline": offline}
        if result.status == "failed":
            return Decision(offline, "offline", which, notices=result.notices, **spent)
        if result.status == "ok":
            if result.sql is not None:
                return Decision(Plan("ok", lang), "llm", which, sql=result.sql, **spent)
            return Decision(Plan("ok", lang, query=result.query), "llm", which, notices=(PLANNED_BY_LLM,), **spent)
        if offline.status == result.status:  # both ask back or both refuse: the curated wording and candidates
            return Decision(offline, "llm", which, **spent)
        message = result.message or _DEFAULT[result.status].get(lang)
        return Decision(Plan(result.status, lang, message=Text(zh=message, en=message)), "llm", which, **spent)


PLANNED_BY_LLM = Text(zh="这个问题由大模型解析为下方的语义查询, 请核对所用指标的定义和筛选条件。",
                      en="The LLM read this question as the semantic query shown; check the metric definitions "
                         "and filters it used.")

_DEFAULT = {
    "clarify": Text(zh="这个问题可以有几种理解, 请说得更具体一些。",
                    en="The question can be read several ways; please be more specific."),
    "refused": Text(zh="这个问题不在指标目录的范围内, 我无法回答, 也不会猜测。",
                    en="That is outside the metric catalog, so I cannot answer it and will not guess."),
}
