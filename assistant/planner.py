"""Offline bilingual planner: question → semantic query, or a clarification or refusal.

Deterministic and catalog-driven: metrics, dimensions and values are found by
the term index; time by ``timeparse``; grammar (breakdowns, ranking, follow-up
cues, fillers) by ``vocabulary``. Writes and pasted SQL are refused before
anything else. Words it cannot place are either reported back or, when they
would change the meaning ("竞争对手的销售额", "按星座"), make it ask or refuse:
never an answer built on a guess presented as fact.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, field
from typing import Literal

from semantic_layer.catalog import Catalog
from semantic_layer.query import Filter, OrderBy, SemanticQuery, TimeSpec
from semantic_layer.schema import Text

from . import vocabulary as V
from .terms import Match, Target, TermIndex, normalize
from .timeparse import cn_number, overlaps, parse_time

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


@dataclass
class _Parse:
    """What one question says, before it is merged with the conversation."""

    metrics: list[str]
    dims: list[str]
    filters: list[Filter]
    time: TimeSpec | None
    order_by: list[OrderBy]
    limit: int | None
    desc: bool
    shares: bool
    unknown: list[tuple[str, bool]]  # (word, changes the meaning)
    ambiguous: Match | None


class Planner:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.index = TermIndex(catalog)

    # --- entry point --------------------------------------------------------------

    def plan(self, question: str, *, as_of: dt.date, previous: SemanticQuery | None = None,
             lang: str | None = None) -> Plan:
        lang = lang or detect_lang(question)
        text = normalize(question)
        if V.WRITE_INTENT.search(text):
            return Plan("refused", lang, message=Text(
                zh="我只能查询和分析数据, 不能修改、删除或写入数据。本次没有执行任何操作。",
                en="I can only read and analyse data; I cannot change, delete or write it. Nothing was executed."))
        if V.PASTED_SQL.search(text):
            return Plan("refused", lang, message=Text(
                zh="请用业务语言提问, 我不执行粘贴的 SQL。本次没有执行任何操作。",
                en="Please ask in business terms; I do not run pasted SQL. Nothing was executed."))

        if V.SET_VALUE.search(text):
            return Plan("refused", lang, message=Text(
                zh="我只能查询和分析数据, 不能修改数据。本次没有执行任何操作。",
                en="I can only read and analyse data; I cannot change it. Nothing was executed."))
        if V.ACTION_REQUEST.search(text):
            return Plan("refused", lang, message=Text(
                zh="我可以分析客户并给出策略建议, 但不能发送消息、优惠券或执行营销动作。本次没有执行任何操作。",
                en="I can analyse customers and suggest actions, but I cannot send messages, coupons or run campaigns. "
                   "Nothing was executed."))
        if V.COMPETITOR.search(text):
            return Plan("refused", lang, message=Text(
                zh="数仓里只有本公司的数据, 没有竞争对手的数据, 我不会猜测。",
                en="The warehouse holds only our own data, nothing about competitors, and I will not guess."))

        deep = _deep_analysis(question, text)
        if deep is not None and deep.name in ("save_segment", "track_segment"):
            if deep.name == "track_segment" and "since" not in deep.params:
                return Plan("clarify", lang, message=Text(
                    zh="请说明从哪一天开始比较, 例如: 分群 VIP挽回 自2025-10-01以来的变化",
                    en="From which date? For example: how has segment VIP moved since 2025-10-01"))
            return Plan("ok", lang, query=SemanticQuery(analysis=deep.name, params=deep.params))
        if deep is not None:  # the analysis words and a saved segment's name are not unknown words
            question, text = _blank(question, deep.spans), _blank(text, deep.spans)
        parsed = self._parse(question, text, as_of, previous)
        if deep is not None:
            return self._deep_plan(deep, parsed, lang)
        follow_up = previous is not None and (
            bool(V.FOLLOW_UP.search(text)) or bool(V.REPLACE_METRIC.search(text)) or not parsed.metrics)
        if parsed.ambiguous is not None:
            return self._clarify_ambiguous(parsed.ambiguous, lang)
        missing_dims = [w for w, role in parsed.unknown if role == "breakdown"]
        if missing_dims:
            return self._no_such_dimension(missing_dims, lang)
        modifiers = [w for w, role in parsed.unknown if role == "modifier"]
        if modifiers:
            return self._unknown(modifiers, lang, metric_like=any(V.METRIC_LIKE.search(w) for w in modifiers))
        notes = tuple(Text(zh=f"已忽略无法识别的词: {w}", en=f"Ignored a word I do not know: {w}") for w, _ in parsed.unknown)

        if follow_up and previous is not None:
            query = self._merge(previous, parsed, text)
            if query is not None:
                return Plan("ok", lang, query=query, notes=notes)
        name = _analysis_for(text, {f.field: f.values for f in parsed.filters})
        counts = {"customer_count", "segment_customers", "valued_customers"}
        asked = name is not None and bool(V.ANALYSIS_ASKED.search(text)) and set(parsed.metrics) <= counts
        if name is not None and (not parsed.metrics or asked):
            return Plan("ok", lang, notes=notes, query=SemanticQuery(
                analysis=name, filters=parsed.filters, time=parsed.time, limit=parsed.limit))
        if not parsed.metrics:
            words = [w for w, _ in parsed.unknown]
            if words and not any(V.METRIC_LIKE.search(w) for w in words) and not V.VAGUE.search(text):
                return self._unknown(words, lang, metric_like=False)
            return self._clarify_metric(lang)
        query = SemanticQuery(
            metrics=parsed.metrics, dimensions=parsed.dims, time=parsed.time, filters=parsed.filters,
            order_by=parsed.order_by, limit=parsed.limit,
            shares=[parsed.metrics[0]] if parsed.shares and parsed.dims else [],
        )
        return Plan("ok", lang, query=query, notes=notes)

    def _deep_plan(self, deep: _Deep, parsed: _Parse, lang: str) -> Plan:
        """A deeper analysis: filters say whose, dimensions how to group (survival), time which period."""
        if parsed.ambiguous is not None:
            return self._clarify_ambiguous(parsed.ambiguous, lang)
        missing_dims = [w for w, role in parsed.unknown if role == "breakdown"]
        if missing_dims:
            return self._no_such_dimension(missing_dims, lang)
        # The analysis words carry the intent; what is left ("经常被", "curves") is filler, not a doubt.
        notes: tuple[Text, ...] = ()
        dims = parsed.dims if deep.name == "survival" and "group_by" not in deep.params else []
        return Plan("ok", lang, notes=notes, query=SemanticQuery(
            analysis=deep.name, params=deep.params, filters=parsed.filters, dimensions=dims[:1],
            time=parsed.time if deep.name in ("basket", "survival") else None))

    # --- reading one question -----------------------------------------------------

    def _parse(self, question: str, text: str, as_of: dt.date, previous: SemanticQuery | None) -> _Parse:
        found = self.index.find(question)
        # A catalog term that spells a time phrase (近一年销售额) is the term, not a time.
        time = parse_time(question, as_of, blocked=[(m.start, m.end) for m in found if m.end - m.start >= 3])
        matches = [m for m in found if not overlaps((m.start, m.end), time.spans)]
        numeric, numeric_spans = self._numeric_filters(text, matches)
        matches = [m for m in matches if not overlaps((m.start, m.end), numeric_spans)]
        matches, ambiguous = self._resolve_ambiguity(matches, previous)

        matches = _drop_qualifiers(text, matches)
        metrics = _unique(t.name for m in matches for t in m.targets if t.kind == "metric")
        values: dict[str, list[str]] = {}
        excluded: set[str] = set()
        for m in matches:
            for t in m.targets:
                if t.kind == "value" and t.value is not None:
                    values.setdefault(t.name, [])
                    if t.value not in values[t.name]:
                        values[t.name].append(t.value)
                    if V.EXCLUDE.search(text[max(0, m.start - 8):m.start]):
                        excluded.add(t.name)
        dims = [d for d in _unique(t.name for m in matches for t in m.targets if t.kind == "dimension")
                if d not in values or _is_breakdown(text, d, matches)]
        dims = [d for d in dims if d not in {f.field for f in numeric} or _is_breakdown(text, d, matches)]
        if V.EACH_VALUE.search(text):  # "华东和华南各自的销售额": one row per named value
            dims = _unique([*dims, *(d for d, v in values.items() if len(v) > 1)])
        filters = [Filter(field=d, op=("not_in" if d in excluded else ("in" if len(v) > 1 else "=")), values=list(v))
                   for d, v in values.items()]
        filters += numeric
        if not metrics and V.COUNT_WORDS.search(text):  # "重要价值客户有多少个", "今年成交了多少单"
            metrics = ["order_count" if V.ORDER_WORDS.search(text) else "customer_count"]

        order_by: list[OrderBy] = []
        limit: int | None = None
        desc = True
        top, bottom = V.TOP_N.search(text), V.BOTTOM_N.search(text)
        ranked = top or bottom
        if ranked and not overlaps(ranked.span(), time.spans):
            limit = cn_number(ranked.group(1))
            desc = ranked is top
        elif dims and V.WHICH.search(text) and (V.SUPERLATIVE_TOP.search(text) or V.SUPERLATIVE_BOTTOM.search(text)):
            limit, desc = 1, not (V.SUPERLATIVE_BOTTOM.search(text) and not V.SUPERLATIVE_TOP.search(text))
        if limit is not None and metrics:
            order_by = [OrderBy(field=metrics[0], desc=desc)]
            # "销售额最高的5个客户" / "top 10 customers": rank customers themselves.
            if ranked and not dims and re.match(r"\s*(客户|顾客|会员|customers?)", text[ranked.end():ranked.end() + 10]):
                dims = ["customer_id"]
        metrics = self._count_metric_for(metrics, [*dims, *(f.field for f in filters)])

        consumed = list(time.spans) + numeric_spans + [(m.start, m.end) for m in found]
        if ranked:
            consumed.append(ranked.span())
        return _Parse(metrics, dims, filters, self._snapshot_time(metrics, time.spec), order_by, limit, desc,
                      bool(V.SHARE.search(text)),
                      _unknown_words(text, consumed, matches), ambiguous)

    def _snapshot_time(self, metrics: list[str], time: TimeSpec | None) -> TimeSpec | None:
        """"近一年购买频次大于5的客户": RFM already covers the last 365 days; the phrase restates it."""
        if time is None or not metrics:
            return time
        snapshot = all(
            getattr(m, "time", None) is None and getattr(m, "model", None) is not None
            and self.catalog.models[m.model].default_time is None  # type: ignore[union-attr]
            for m in (self.catalog.metrics[n] for n in metrics))
        rolling_year = (time.relative, time.n) in {("last_n_years", 1), ("last_n_days", 365), ("last_n_months", 12)}
        return None if snapshot and rolling_year and time.grain is None else time

    def _count_metric_for(self, metrics: list[str], fields: list[str]) -> list[str]:
        """Customers counted by an RFM or churn field are that model's customers, not all registrations.

        "各RFM分群的客户数" counts segmented customers (no "unsegmented" row); the
        model's own count metric says so in the catalog.
        """
        if "customer_count" not in metrics:
            return metrics
        homes = {m for m, d in self.catalog.dimensions() if d.name in fields and m != "customers"}
        homes = {m for m in homes if (p := self.catalog.models[m].primary) is not None and p.name == "customer"}
        counts = [m for m in self.catalog.simple_metrics()
                  if m.model in homes and m.agg == "count" and not m.filter and m.expr == "1"]
        if len(homes) != 1 or len(counts) != 1:
            return metrics
        return [counts[0].name if n == "customer_count" else n for n in metrics]

    def _numeric_filters(self, text: str, matches: list[Match]) -> tuple[list[Filter], list[tuple[int, int]]]:
        """"订单金额大于1000" → order_amount > 1000; "30岁以下" → age < 30."""
        filters: list[Filter] = []
        spans: list[tuple[int, int]] = []
        numeric = {d.name for _, d in self.catalog.dimensions() if d.type == "numeric"}
        for m in matches:
            target = next((t for t in m.targets if t.kind == "dimension" and t.name in numeric), None)
            if target is None:
                continue
            for pattern, op in V.COMPARATORS:
                found = pattern.search(text[m.end:m.end + 24])
                if found:
                    values = [v for v in found.groups() if v is not None]
                    filters.append(Filter(field=target.name, op=op, values=values))  # type: ignore[arg-type]
                    spans.append((m.start, m.end + found.end()))
                    break
        money = V.MONEY_CONDITION.search(text)
        amount = next((d.name for _, d in self.catalog.dimensions() if d.type == "numeric" and d.format == "currency"
                       and d.name == "order_amount"), None)
        if money and amount and not filters:
            filters.append(Filter(field=amount, op=V.MONEY_OPS[money.group(1).lower()], values=[money.group(2)]))  # type: ignore[arg-type]
            spans.append(money.span())
        if "age" in numeric and not any(f.field == "age" for f in filters) and not money:
            for pattern, op in V.AGE_PHRASES:
                found = pattern.search(text)
                if found:
                    filters.append(Filter(field="age", op=op, values=list(found.groups())))  # type: ignore[arg-type]
                    spans.append(found.span())
                    break
        return filters, spans

    def _resolve_ambiguity(self, matches: list[Match], previous: SemanticQuery | None) -> tuple[list[Match], Match | None]:
        """An ambiguous term next to a value of one candidate ("Online channel") means that one."""
        named = {t.name for m in matches if len(m.targets) == 1 for t in m.targets if t.kind in ("value", "dimension")}
        if previous is not None:
            named |= {d.rpartition(".")[2] for d in previous.dimensions} | {f.field for f in previous.filters}
        out: list[Match] = []
        for m in matches:
            if len(m.targets) > 1:
                chosen = [t for t in m.targets if t.name in named]
                if len({t.name for t in chosen}) == 1:
                    out.append(Match(m.start, m.end, m.text, (chosen[0],)))
                    continue
                return out, m
            out.append(m)
        return out, None

    # --- conversation -------------------------------------------------------------

    def _merge(self, previous: SemanticQuery, parsed: _Parse, text: str) -> SemanticQuery | None:
        """"按渠道呢?", "only Online", "换成销售额", "and in 2024?", "去掉时间限制", "前5个就行"."""
        if not (parsed.metrics or parsed.dims or parsed.filters or parsed.time or parsed.limit
                or V.DROP_TIME.search(text) or V.DROP_FILTERS.search(text) or parsed.shares):
            return None
        data = previous.model_dump()
        if parsed.metrics:
            adding = bool(V.ADD_DIMENSION.search(text)) and not V.REPLACE_METRIC.search(text)
            data["metrics"] = _unique([*previous.metrics, *parsed.metrics]) if adding else parsed.metrics
            data["analysis"] = None
            data["params"] = {}
            data["order_by"] = [o for o in data["order_by"] if o["field"] in data["metrics"]]
            data["shares"] = [s for s in data["shares"] if s in data["metrics"]]
        if parsed.dims:
            data["dimensions"] = _unique([*previous.dimensions, *parsed.dims]) if V.ADD_DIMENSION.search(text) else parsed.dims
        if V.DROP_FILTERS.search(text):
            data["filters"] = []
        if parsed.filters:
            fields = {f.field for f in parsed.filters}
            data["filters"] = [f for f in data["filters"] if f["field"] not in fields] + [f.model_dump() for f in parsed.filters]
        if V.DROP_TIME.search(text):
            data["time"] = None
        elif parsed.time is not None:
            new = parsed.time.model_dump(exclude_none=True)
            old = data["time"] or {}
            if set(new) == {"grain"}:  # "按季度看": same range, new grain
                data["time"] = {**old, "grain": new["grain"]}
            else:
                data["time"] = {**new, **({"grain": old["grain"]} if old.get("grain") and "grain" not in new else {})}
        if parsed.limit is not None:
            data["limit"] = parsed.limit
            metric = (data["metrics"] or [None])[0]
            data["order_by"] = [o.model_dump() for o in parsed.order_by] or (
                [{"field": metric, "desc": parsed.desc}] if metric else data["order_by"])
        if parsed.shares and data["metrics"]:
            data["shares"] = [data["metrics"][0]]
        return SemanticQuery.model_validate(data)

    # --- asking back --------------------------------------------------------------

    def _clarify_metric(self, lang: str) -> Plan:
        popular = [n for n in ["revenue", "buyers", "new_customers", "repeat_purchase_rate", "cac", "churn_rate"]
                   if n in self.catalog.metrics]
        return Plan("clarify", lang, candidates=tuple(self.catalog.metrics[n].label.get(lang) for n in popular), message=Text(
            zh="我没有找到要看的指标。您想看哪个指标? 例如: " + "、".join(self.catalog.metrics[n].label.zh for n in popular),
            en="I could not find a metric in the question. Which metric do you mean? For example: "
               + ", ".join(self.catalog.metrics[n].label.en for n in popular)))

    def _clarify_ambiguous(self, match: Match, lang: str) -> Plan:
        labels = [self._label(t, lang) for t in match.targets]
        return Plan("clarify", lang, candidates=tuple(labels), message=Text(
            zh=f"「{match.text}」可以指: {'、'.join(self._label(t, 'zh') for t in match.targets)}。请问您指哪一个?",
            en=f"'{match.text}' can mean: {', '.join(self._label(t, 'en') for t in match.targets)}. Which one do you mean?"))

    def _no_such_dimension(self, words: list[str], lang: str) -> Plan:
        """"按星座看销售额": a breakdown the catalog does not have is refused, with what exists."""
        dims = [d for _, d in self.catalog.dimensions() if d.type == "categorical" and d.values and "pii" not in d.tags]
        names_zh = "、".join(_unique(d.label.zh for d in dims[:12]))
        names_en = ", ".join(_unique(d.label.en for d in dims[:12]))
        shown_zh, shown_en = "、".join(words), ", ".join(words)
        return Plan("refused", lang, candidates=tuple(_unique(d.label.get(lang) for d in dims[:12])), message=Text(
            zh=f"指标目录里没有「{shown_zh}」这个维度, 我不会猜测。可以按这些维度拆分: {names_zh}。",
            en=f"The catalog has no dimension '{shown_en}', and I will not guess. You can break down by: {names_en}."))

    def _unknown(self, words: list[str], lang: str, *, metric_like: bool) -> Plan:
        """Close to a catalog term, or metric-like → ask; otherwise outside what we know → refuse."""
        close = _unique(c for w in words for c in difflib.get_close_matches(w, list(self.index.terms), n=2, cutoff=0.75))
        shown_zh, shown_en = "、".join(words), ", ".join(words)
        if metric_like and not close:
            plan = self._clarify_metric(lang)
            return Plan("clarify", lang, candidates=plan.candidates, message=Text(
                zh=f"指标目录里没有「{shown_zh}」。" + (plan.message.zh if plan.message else ""),
                en=f"The catalog has no metric '{shown_en}'. " + (plan.message.en if plan.message else "")))
        if close:
            return Plan("clarify", lang, candidates=tuple(close), message=Text(
                zh=f"我不认识「{shown_zh}」。您是不是指: {'、'.join(close)}?",
                en=f"I don't know '{shown_en}'. Did you mean: {', '.join(close)}?"))
        examples = "、".join(self.catalog.metrics[n].label.zh for n in ["revenue", "new_customers", "cac", "churn_rate"]
                            if n in self.catalog.metrics)
        return Plan("refused", lang, message=Text(
            zh=f"「{shown_zh}」不在指标目录中, 我无法回答, 也不会猜测。我可以回答与客户和销售相关的问题, 例如{examples}。",
            en=f"'{shown_en}' is not in the metric catalog, so I cannot answer it and will not guess. "
               "I can answer questions about customers and sales, such as revenue, new customers, CAC or churn."))

    def _label(self, target: Target, lang: str) -> str:
        if target.kind == "metric":
            return self.catalog.metrics[target.name].label.get(lang)
        dim = self.catalog.find_dimension(target.name)
        if target.kind == "dimension":
            return dim.label.get(lang)
        value = next((v for v in dim.values if v.value == target.value), None)
        label = value.label.get(lang) if value else str(target.value)
        return f"{dim.label.get(lang)}: {label}" if lang == "en" else f"{dim.label.zh}「{label}」"


@dataclass(frozen=True)
class _Deep:
    name: str
    params: dict[str, str]
    spans: tuple[tuple[int, int], ...]


#: The deeper analyses, asked for by name whatever else the question holds (first match wins).
#: "客户分群画像" is clusters (a profile of every group), "重要价值客户的画像" a profile of one.
DEEP_WORDS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"聚类|分群画像|客群画像|自动分群|\bclusters?\b|\bclustering\b|segment (?:our |the )?customers automatically"),
     "clusters"),
    (re.compile(r"购物篮|关联规则|关联分析|同时购买|一起购买|一起买|搭配购买|连带购买|market basket|\bbasket\b|"
                r"bought together|association rules|purchased together"), "basket"),
    (re.compile(r"生存曲线|生存分析|流失时间|多久(?:会|才|就)?流失|多久(?:会|才)?复购|多久(?:才|会)?(?:买|购买)第二次|第二次购买|二次购买|"
                r"复购等待|survival|time to (?:second purchase|churn|repeat)|how long (?:until|before|do) "), "survival"),
    (re.compile(r"流失预测|预测.{0,4}流失|可能流失|哪些客户.{0,6}会流失|流失评分|流失概率|churn (?:prediction|score|model)|"
                r"predict(?:ed)? churn|likely to churn|will churn"), "churn_prediction"),
    (re.compile(r"画像|有什么特征|有哪些特征|什么特点|有什么特点|特征是什么|profile|characteristics|\blook like\b"),
     "profile"),
]
_PRODUCT_LEVEL = re.compile(r"商品层面|商品级|单品|具体商品|哪些商品|哪些产品|\bproducts?\b|\bsku")
_CUSTOMER_UNIT = re.compile(r"同一(?:个)?客户|客户层面|客户维度|per customer|customer level|same customer")
_SECOND_PURCHASE = re.compile(r"复购|第二次|二次购买|second purchase|repeat|buy again")
_COHORT_GROUP = [(re.compile(r"按季度.{0,4}(?:同期群|首购)|首购季度|by (?:first[- ]purchase )?quarter(?:ly)? cohort"),
                  "cohort_quarter"),
                 (re.compile(r"按月.{0,4}(?:同期群|首购)|首购月份|by (?:first[- ]purchase )?month(?:ly)? cohort"),
                  "cohort_month"),
                 (re.compile(r"同期群|首购年份|按年份|按首购|cohort"), "cohort_year")]
#: A saved segment by name: quoted after 分群/segment, or the next word after a space.
_SAVED = re.compile(r"(?:分群|客群|segment)\s*(?:[「『\"“'‘]([^」』\"”'’]{1,64})[」』\"”'’]|\s([^\s,，。?？!！的]{1,64}?)"
                    r"(?=\s|的|自|从|以来|$|[,，。?？!！]))", re.IGNORECASE)
_NOT_NAMES = {"by", "and", "of", "the", "for", "in", "with", "is", "are", "was", "customers", "size", "sizes", "to",
              "a", "an", "or", "per", "vs", "than", "over"}
_SAVE = re.compile(r"存为|保存为|存成|保存成|另存为|save (?:these|them|this list|these customers|the list)?\s*as", re.IGNORECASE)
_SINCE = re.compile(r"(?:自|从|since)\s*(\d{4})\s*[-/年.]\s*(\d{1,2})\s*[-/月.]\s*(\d{1,2})", re.IGNORECASE)
_TRACK = re.compile(r"以来|变化|复盘|表现|moved|changed|since|track", re.IGNORECASE)


def _deep_analysis(question: str, text: str) -> _Deep | None:
    """"把这些客户存为分群 VIP挽回", "分群 VIP挽回 自2025-10-01以来的变化", "重要价值客户的画像", "购物篮分析"…"""
    saved = _SAVED.search(question)
    name = (saved.group(1) or saved.group(2)).strip() if saved else None
    if name and name.casefold() in _NOT_NAMES:  # "revenue by segment and region": not a saved segment
        name, saved = None, None
    spans: list[tuple[int, int]] = [saved.span()] if saved and name else []
    if name and _SAVE.search(text):
        return _Deep("save_segment", {"name": name}, tuple(spans))
    since = _SINCE.search(text)
    if name and (since or _TRACK.search(text)) and not any(p.search(text) for p, _ in DEEP_WORDS):
        params = {"segment": name}
        if since:
            y, m, d = (int(g) for g in since.groups())
            try:
                params["since"] = dt.date(y, m, d).isoformat()
            except ValueError:
                pass
        return _Deep("track_segment", params, tuple(spans))
    for pattern, analysis_name in DEEP_WORDS:
        found = pattern.search(text)
        if found is None:
            continue
        params: dict[str, str] = {"segment": name} if name and analysis_name != "churn_prediction" else {}
        spans.append(found.span())
        if analysis_name == "basket":
            if _PRODUCT_LEVEL.search(text) and not re.search(r"品类|类目|categor", text):
                params["level"] = "product"
            if _CUSTOMER_UNIT.search(text):
                params["unit"] = "customer"
        if analysis_name == "survival":
            if _SECOND_PURCHASE.search(text):
                params["event"] = "second_purchase"
            for group_pattern, group in _COHORT_GROUP:
                hit = group_pattern.search(text)
                if hit:
                    params["group_by"] = group
                    spans.append(hit.span())
                    break
        if analysis_name == "churn_prediction":
            return None if name else _Deep("churn_prediction", {}, ())  # an ordinary compiled query
        return _Deep(analysis_name, params, tuple(spans))
    return None


def _blank(text: str, spans: tuple[tuple[int, int], ...]) -> str:
    chars = list(text)
    for s, e in spans:
        for i in range(s, min(e, len(chars))):
            chars[i] = " "
    return "".join(chars)


#: Named analyses asked for by name, when the question names no metric.
ANALYSIS_WORDS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"同期群|cohort|留存矩阵|队列分析|留存分析|留存曲线"), "cohort"),
    (re.compile(r"\brfm\b|rfm|客户分层|价值分层|客户分群"), "rfm"),
    (re.compile(r"\babc\b|abc分析|abc分类"), "abc"),
    (re.compile(r"流失风险|churn risk|at risk|可能流失|快要流失|即将流失"), "churn_risk"),
    (re.compile(r"\bclv\b|终身价值|lifetime value|价值最高的客户|最有价值的客户|most valuable customers|高价值客户"), "clv_ranking"),
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


def _is_breakdown(text: str, dim: str, matches: list[Match]) -> bool:
    for m in matches:
        if any(t.kind == "dimension" and t.name == dim for t in m.targets):
            if V.BREAKDOWN_BEFORE.search(text[max(0, m.start - 12):m.start]) or V.BREAKDOWN_AFTER.search(text[m.end:m.end + 6]):
                return True
    return False


_WORD = re.compile(r"[\u4e00-\u9fff]+|[a-z][a-z\-]*(?:'[a-z]+)?")


def _unknown_words(text: str, consumed: list[tuple[int, int]], matches: list[Match]) -> list[tuple[str, str]]:
    """Words no rule or term explains, with their role: breakdown, modifier or loose.

    A word right after a breakdown marker (按星座), or right before a catalog term
    as its modifier (竞争对手的销售额, competitor revenue), changes the meaning.
    """
    chars = list(text)
    for s, e in consumed:
        for i in range(s, min(e, len(chars))):
            chars[i] = " "
    rest = "".join(chars)
    out: list[tuple[str, str]] = []
    for m in _WORD.finditer(rest):
        word, start, end = m.group(), m.start(), m.end()
        if word.isascii():
            if word in V.EN_FILLER or len(word) < 3:
                continue
            pieces = [(word, start, end)]
        else:
            pieces = _strip_filler(word, start)
        for piece, s, e in pieces:
            before = text[max(0, s - 12):s]
            breakdown = bool(V.BREAKDOWN_BEFORE.search(before)) or bool(re.search(r"\b(of|for|from|at)\s+(the\s+)?$", before))
            j = e
            while j < len(text) and text[j] in "的 ":
                j += 1
            modifier = any(mt.start == j for mt in matches)
            out.append((piece, "breakdown" if breakdown else ("modifier" if modifier else "loose")))
    return out


def _drop_qualifiers(text: str, matches: list[Match]) -> list[Match]:
    """"Social Media customers", "tier 2 cities": a word right after a value qualifies it.

    A dimension named right after a value (no breakdown marker) and a metric word
    right after a value while another metric is asked are not separate requests.
    """
    metrics = [m for m in matches if any(t.kind == "metric" for t in m.targets)]
    out: list[Match] = []
    for i, m in enumerate(matches):
        prev = matches[i - 1] if i else None
        after_value = prev is not None and any(t.kind == "value" for t in prev.targets) and 0 <= m.start - prev.end <= 1
        kind = m.targets[0].kind if len(m.targets) == 1 else None
        if after_value and kind == "dimension" and not V.BREAKDOWN_BEFORE.search(text[max(0, m.start - 12):m.start]):
            continue
        if after_value and kind == "metric" and len(metrics) > 1:
            metrics.remove(m)
            continue
        out.append(m)
    return out


def _strip_filler(run: str, offset: int) -> list[tuple[str, int, int]]:
    """The parts of a CJK run left after removing filler words (2+ characters only)."""
    mask = list(run)
    for filler in V.ZH_FILLER:
        for m in re.finditer(re.escape(filler), run):
            if all(c != " " for c in mask[m.start():m.end()]):
                for i in range(m.start(), m.end()):
                    mask[i] = " "
    out = []
    for m in re.finditer(r"[^ ]{2,}", "".join(mask)):
        out.append((m.group(), offset + m.start(), offset + m.end()))
    return out


def _unique(items: object) -> list[str]:
    out: list[str] = []
    for item in items:  # type: ignore[attr-defined]
        if item not in out:
            out.append(item)
    return out
