"""Offline bilingual planner: question → semantic query, or a clarification or refusal.

Deterministic and catalog-driven: metrics, dimensions and values are found by
the term index; time by ``timeparse``; writes and pasted SQL are refused
before anything else. When it is not sure it asks rather than guesses.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Literal

from semantic_layer.catalog import Catalog
from semantic_layer.query import Filter, OrderBy, SemanticQuery, TimeSpec
from semantic_layer.schema import Text

from .terms import Match, Target, TermIndex, normalize
from .timeparse import cn_number, parse_time

Status = Literal["ok", "clarify", "refused"]


@dataclass(frozen=True)
class Plan:
    status: Status
    lang: str
    query: SemanticQuery | None = None
    message: Text | None = None
    candidates: tuple[str, ...] = ()
    notes: tuple[Text, ...] = field(default_factory=tuple)


def detect_lang(text: str) -> str:
    """zh when the question holds any CJK character.

    >>> detect_lang("2025年各地区的销售额"), detect_lang("revenue by region")
    ('zh', 'en')
    """
    return "zh" if re.search(r"[\u4e00-\u9fff]", text) else "en"


#: Requests to change data: refused before planning, nothing runs.
WRITE_INTENT = re.compile(
    r"删除|删掉|清空|清除|修改数据|修改订单|修改客户|更新数据|更新订单|插入|写入|覆盖数据|改数据|"
    r"\b(drop|delete|truncate|update|insert|alter|grant|revoke|merge|attach|copy|pragma|install)\b",
    re.IGNORECASE,
)
#: SQL pasted into a question: we never run user SQL in governed mode.
PASTED_SQL = re.compile(r"\bselect\b[\s\S]+\bfrom\b|;\s*\w|--|/\*", re.IGNORECASE)

TOP_N = re.compile(r"(?:前|top\s*|最高的?|最多的?|最大的?|排名前|highest\s*|largest\s*)\s*(\d+|[一二两三四五六七八九十]+)\s*(?:个|名|位|家|条)?")
BOTTOM_N = re.compile(r"(?:后|bottom\s*|最低的?|最少的?|最小的?|lowest\s*|smallest\s*)\s*(\d+|[一二两三四五六七八九十]+)\s*(?:个|名|位|家|条)?")


class Planner:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.index = TermIndex(catalog)

    def plan(self, question: str, *, as_of: dt.date, previous: SemanticQuery | None = None,
             lang: str | None = None) -> Plan:
        lang = lang or detect_lang(question)
        text = normalize(question)
        if WRITE_INTENT.search(text):
            return Plan("refused", lang, message=Text(
                zh="我只能查询和分析数据, 不能修改、删除或写入数据。本次没有执行任何操作。",
                en="I can only read and analyse data; I cannot change, delete or write it. Nothing was executed."))
        if PASTED_SQL.search(text):
            return Plan("refused", lang, message=Text(
                zh="请用业务语言提问, 我不执行粘贴的 SQL。本次没有执行任何操作。",
                en="Please ask in business terms; I do not run pasted SQL. Nothing was executed."))

        found = self.index.find(question)
        # A catalog term that spells a time phrase (近一年销售额) is the term, not a time.
        time = parse_time(question, as_of, blocked=[(m.start, m.end) for m in found if m.end - m.start >= 4])
        matches = [m for m in found if not _inside(m, time.spans)]
        ambiguous = [m for m in matches if len(m.targets) > 1]
        if ambiguous:
            return self._clarify_ambiguous(ambiguous[0], lang)

        metrics = _unique(t.name for m in matches for t in m.targets if t.kind == "metric")
        dims = _unique(t.name for m in matches for t in m.targets if t.kind == "dimension")
        values: dict[str, list[str]] = {}
        for m in matches:
            for t in m.targets:
                if t.kind == "value" and t.value is not None:
                    values.setdefault(t.name, [])
                    if t.value not in values[t.name]:
                        values[t.name].append(t.value)
        # "华东的销售额" filters by East; "各地区" breaks down by region; a dimension
        # named only to qualify its own filter value ("华东地区") is not a breakdown.
        dims = [d for d in dims if d not in values or _is_breakdown(question, d, matches)]
        filters = [Filter(field=d, op="in" if len(v) > 1 else "=", values=list(v)) for d, v in values.items()]

        order_by: list[OrderBy] = []
        limit: int | None = None
        top = TOP_N.search(text)
        bottom = BOTTOM_N.search(text)
        if metrics and (top or bottom):
            found = top or bottom
            assert found is not None
            limit = cn_number(found.group(1))
            order_by = [OrderBy(field=metrics[0], desc=bool(top))]

        if not metrics:
            name = _analysis_for(text, values)
            if name is not None:
                return Plan("ok", lang, query=SemanticQuery(analysis=name, filters=filters, time=time.spec, limit=limit))
            if previous is not None and (dims or filters or time.spec):
                return self._follow_up(previous, dims, filters, time.spec, lang)
            return self._clarify_metric(lang)
        query = SemanticQuery(metrics=metrics, dimensions=dims, time=time.spec, filters=filters,
                              order_by=order_by, limit=limit)
        return Plan("ok", lang, query=query)

    def _follow_up(self, previous: SemanticQuery, dims: list[str], filters: list[Filter],
                   time: TimeSpec | None, lang: str) -> Plan:
        """"按渠道呢?" keeps the previous metrics and swaps in what the follow-up names."""
        kept = [f for f in previous.filters if f.field not in {g.field for g in filters}]
        query = previous.model_copy(update={
            "dimensions": dims or previous.dimensions,
            "filters": kept + filters,
            "time": time or previous.time,
        })
        return Plan("ok", lang, query=SemanticQuery.model_validate(query.model_dump()))

    def _clarify_metric(self, lang: str) -> Plan:
        popular = ["revenue", "buyers", "new_customers", "repeat_purchase_rate", "cac", "churn_rate"]
        names = [self.catalog.metrics[n].label.get(lang) for n in popular if n in self.catalog.metrics]
        return Plan("clarify", lang, candidates=tuple(names), message=Text(
            zh="我没有找到要看的指标。您想看哪个指标? 例如: " + "、".join(
                self.catalog.metrics[n].label.zh for n in popular if n in self.catalog.metrics),
            en="I could not find a metric in the question. Which metric do you mean? For example: " + ", ".join(
                self.catalog.metrics[n].label.en for n in popular if n in self.catalog.metrics)))

    def _clarify_ambiguous(self, match: Match, lang: str) -> Plan:
        labels = [self._label(t, lang) for t in match.targets]
        zh_labels = [self._label(t, "zh") for t in match.targets]
        en_labels = [self._label(t, "en") for t in match.targets]
        return Plan("clarify", lang, candidates=tuple(labels), message=Text(
            zh=f"「{match.text}」可以指: {'、'.join(zh_labels)}。请问您指哪一个?",
            en=f"'{match.text}' can mean: {', '.join(en_labels)}. Which one do you mean?"))

    def _label(self, target: Target, lang: str) -> str:
        if target.kind == "metric":
            return self.catalog.metrics[target.name].label.get(lang)
        dim = self.catalog.find_dimension(target.name)
        if target.kind == "dimension":
            return dim.label.get(lang)
        value = next((v for v in dim.values if v.value == target.value), None)
        label = value.label.get(lang) if value else str(target.value)
        return f"{dim.label.get(lang)}: {label}" if lang == "en" else f"{dim.label.zh}「{label}」"


#: Named analyses asked for by name, when the question names no metric.
ANALYSIS_WORDS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"同期群|cohort|留存矩阵|队列分析|留存分析|留存曲线"), "cohort"),
    (re.compile(r"\brfm\b|rfm分析|客户分层|价值分层|客户分群"), "rfm"),
    (re.compile(r"\babc\b|abc分析|abc分类"), "abc"),
    (re.compile(r"流失风险|churn risk|at risk|可能流失|快要流失"), "churn_risk"),
    (re.compile(r"\bclv\b|终身价值|lifetime value|价值最高的客户|最有价值的客户|most valuable customers"), "clv_ranking"),
]
_WHICH_CUSTOMERS = re.compile(r"哪些.*客户|哪些人|客户名单|which customers|list (of )?customers|who are")


def _analysis_for(text: str, values: dict[str, list[str]]) -> str | None:
    """"哪些重要价值客户有流失风险?" → the churn-risk list filtered to that segment."""
    if "churn_risk" in values:
        return "churn_risk"
    for pattern, name in ANALYSIS_WORDS:
        if pattern.search(text):
            return name
    if _WHICH_CUSTOMERS.search(text) and values:
        return "clv_ranking"
    return None


_BREAKDOWN = re.compile(r"(各|按|分|每个|每一|不同|by|per|each|across)\s*$", re.IGNORECASE)


def _is_breakdown(question: str, dim: str, matches: list[Match]) -> bool:
    for m in matches:
        if any(t.kind == "dimension" and t.name == dim for t in m.targets):
            if _BREAKDOWN.search(question[max(0, m.start - 6):m.start]):
                return True
    return False


def _inside(m: Match, spans: list[tuple[int, int]]) -> bool:
    return any(m.start < e and s < m.end for s, e in spans)


def _unique(items: object) -> list[str]:
    out: list[str] = []
    for item in items:  # type: ignore[attr-defined]
        if item not in out:
            out.append(item)
    return out
