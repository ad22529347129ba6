"""The deeper customer analyses behind chat: profile, clusters, basket, survival, saved segments.

Each runner takes the service, the semantic query (``analysis`` + ``params``,
filters, time, dimensions) and the viewer's ``Access``, reads the warehouse only
through the governed path (``metrics.governed_reader`` or ``customer_features``
with ``catalog`` + ``access``: row grants and masked PII apply), calls the
``metrics/`` module and returns the ``Answer`` shape: a columns/rows table, a
Vega-Lite chart (``assistant/charts.py``), a narrative from the module's
findings (defanged), definitions and, where the playbook fits, suggestions.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

import pandas as pd
import sqlglot
from sqlglot import exp

from metrics.basket import BasketSpec, basket_rules, category_labels_from
from metrics.clustering import cluster_customers
from metrics.features import customer_features
from metrics.governed_reader import governed_reader
from metrics.profiles import profile, select
from metrics.segment_filter import Segment
from metrics.segments import SegmentStore
from metrics.survival import survival_at, survival_curves
from metrics.tracking import track
from semantic_layer.analyses import analysis, check_params
from semantic_layer.compiler import access_notes
from semantic_layer.errors import UserError
from semantic_layer.policy import Access
from semantic_layer.query import Filter, SemanticQuery
from semantic_layer.schema import Text
from semantic_layer.timerange import resolve

from . import charts
from .defang import defang, defang_all

if TYPE_CHECKING:
    from .service import Answer, ChatBI

#: Customer columns a segment condition may name (customers table), and the customer models beside it.
_CUSTOMER_MODELS = ("customers", "customer_segments", "customer_value")
#: Survival groupings the planner may ask for: cohorts of the first purchase, or a customers column.
_SURVIVAL_GROUPS = {"cohort_year", "cohort_quarter", "cohort_month", "region", "city_tier", "membership_tier",
                    "acquisition_channel", "gender"}
_MAX_RULES = 20
_CURVE_STEP = 7  # days between plotted points of a survival curve


@dataclass
class Outcome:
    columns: list[str]
    rows: list[list[Any]]
    narrative: str
    definitions: list[dict[str, str]]
    chart: dict[str, Any] | None = None
    suggestions: list[dict[str, Any]] = field(default_factory=list)
    clauses: list[str] = field(default_factory=list)
    sql: list[str] = field(default_factory=list)


@dataclass
class Context:
    bi: ChatBI
    query: SemanticQuery
    lang: str
    access: Access
    previous: SemanticQuery | None
    sql: list[str] = field(default_factory=list)

    def t(self, zh: str, en: str) -> str:
        return zh if self.lang == "zh" else en

    def reader(self) -> Callable[[str], pd.DataFrame]:
        bi = self.bi
        read = governed_reader(bi.engine, bi._schemas[self.access.see_pii], catalog=bi.catalog, access=self.access,
                               as_of=bi.as_of)

        def recorded(sql: str) -> pd.DataFrame:
            self.sql.append(sql)
            return read(sql)

        return recorded

    def features(self) -> pd.DataFrame:
        bi = self.bi
        bi.ensure_models(["customer_segments"])
        return customer_features(bi.engine, bi._schemas[self.access.see_pii], bi.as_of, catalog=bi.catalog,
                                 access=self.access)

    def saved_ids(self) -> tuple[str, list[Any]] | None:
        name = self.query.params.get("segment")
        if not name:
            return None
        seg = SegmentStore().get(str(name))
        return seg.name, list(seg.customer_ids)

    def label(self) -> Text:
        """The segment's name: saved name, filter values, or everyone."""
        parts_zh, parts_en = [], []
        saved = self.query.params.get("segment")
        if saved:
            parts_zh.append(f"分群「{saved}」")
            parts_en.append(f"segment '{saved}'")
        for f in self.query.filters:
            dim = self.bi.catalog.find_dimension(f.field)
            vals = {v.value: v.label for v in dim.values}
            shown = [vals[v] if v in vals else Text(zh=str(v), en=str(v)) for v in f.values]
            neg = f.op in ("!=", "not_in")
            parts_zh.append(("非" if neg else "") + "、".join(s.zh for s in shown))
            parts_en.append(("not " if neg else "") + ", ".join(s.en for s in shown))
        if not parts_zh:
            return Text(zh="全体客户", en="all customers")
        zh = "".join(parts_zh)
        return Text(zh=zh if saved or zh.endswith(("客户", "会员")) else zh + "客户", en=" ".join(parts_en) + " customers")

    def segment(self) -> Segment | None:
        """Filters and a saved segment as one SQL condition on the customer id."""
        conds = [self._condition(f) for f in self.query.filters]
        saved = self.saved_ids()
        ids = frozenset(int(i) for i in saved[1]) if saved else None
        if not conds and ids is None:
            return None
        return Segment(customer_ids=ids, where=" AND ".join(conds) if conds else None, label=self.label())

    def _condition(self, f: Filter) -> str:
        name = f.field.rpartition(".")[2]
        owner = next((m for m, d in self.bi.catalog.dimensions() if d.name == name and m in _CUSTOMER_MODELS
                      and (d.expr is None or d.expr == d.name)), None)
        if owner is None:
            raise UserError(216, f"这个分析只能按客户属性筛选, 不支持「{name}」",
                            f"this analysis filters by customer attributes only, not '{name}'")
        col = exp.column(name)
        vals = [exp.Literal.string(v) if isinstance(v, str) else exp.Literal.number(v) for v in f.values
                if not isinstance(v, dt.date)]
        node: exp.Expression
        match f.op:
            case "=" | "in":
                node = col.isin(*vals)
            case "!=" | "not_in":
                node = exp.Not(this=col.isin(*vals))
            case ">":
                node = exp.GT(this=col, expression=vals[0])
            case ">=":
                node = exp.GTE(this=col, expression=vals[0])
            case "<":
                node = exp.LT(this=col, expression=vals[0])
            case "<=":
                node = exp.LTE(this=col, expression=vals[0])
            case "between":
                node = exp.Between(this=col, low=vals[0], high=vals[1])
            case _:
                raise UserError(216, f"这个分析不支持筛选方式 {f.op}", f"this analysis does not support the {f.op} filter")
        sql = node.sql(dialect="duckdb")
        if owner == "customers":
            return sql
        self.bi.ensure_models([owner])
        return f"customer_id IN (SELECT customer_id FROM {owner} WHERE {sql})"

    def period(self) -> tuple[dt.date, dt.date] | None:
        if self.query.time is None:
            return None
        rng = resolve(self.query.time, self.bi.as_of)
        start = rng.start or dt.date(1900, 1, 1)
        return start, min(rng.end or self.bi.as_of, self.bi.as_of)

    def definitions(self, what: Text, params: dict[str, Any]) -> list[dict[str, str]]:
        spec = analysis(self.query.analysis or "")
        shown = ", ".join(f"{k}={v}" for k, v in params.items() if v is not None)
        return [{"metric": spec.name, "label": spec.label.get(self.lang), "formula": shown,
                 "description": what.get(self.lang)}]

    def clauses(self, models: tuple[str, ...] = ("orders", "customers")) -> list[str]:
        out = [self.t(f"分析对象: {self.label().zh}", f"Scope: {self.label().en}")] if models else []
        if models:
            tree = sqlglot.parse_one("SELECT 1 FROM " + ", ".join(f"{m} AS {m}" for m in models))
            out += [n.get(self.lang) for n in access_notes(tree, self.bi.catalog, self.access)]
        out.append(self.t(f"数据截止日: {self.bi.as_of.isoformat()}", f"As-of date: {self.bi.as_of.isoformat()}"))
        return out


# --- runners ----------------------------------------------------------------------------------------


def _profile(ctx: Context) -> Outcome:
    if not ctx.query.filters and not ctx.query.params.get("segment"):
        raise UserError(217, "要看哪一类客户的画像? 例如: 重要价值客户的画像、金卡会员有什么特征、分群「VIP挽回」的画像",
                        "Whose profile? For example: profile of Important Value customers, Gold members, "
                        "or a saved segment", ["重要价值客户的画像", "金卡会员有什么特征"])
    features = ctx.features()
    saved = ctx.saved_ids()
    mask = select(features, ids=saved[1] if saved else None, filters=ctx.query.filters)
    label = ctx.label()
    dims = [d for d in ("gender", "age_band", "region", "city_tier", "membership_tier", "acquisition_channel",
                        "top_category", "top_channel", "rfm_segment")
            if not any(f.field.rpartition(".")[2] == d for f in ctx.query.filters)]
    prof = profile(features, mask, label, catalog=ctx.bi.catalog, dimensions=dims)
    lang = ctx.lang
    rows, chart_rows = [], []
    for f in prof.findings:
        dim_label = _feature_label(ctx, f.field)
        value_label = _value_label(prof.distributions, f.field, f.value, lang)
        rows.append([dim_label, value_label, round(f.segment, 6), round(f.base, 6), round(f.lift, 6)])
        chart_rows.append({"label": f"{dim_label}: {value_label}", "lift": round(f.lift, 4)})
    columns = ["feature", "value", "segment_share", "base_share", "lift"]
    narrative = prof.summary(lang)
    return Outcome(
        columns, rows, narrative,
        ctx.definitions(prof.rule, {"segment_size": prof.size, "base_size": prof.base_size}),
        chart=charts.lift_bars_chart(chart_rows, lang, title=ctx.t(f"{label.zh}画像: 相对全体的提升度",
                                                                   f"Profile of {label.en}: lift over all customers"))
        if chart_rows else None,
        suggestions=_playbook_suggestions(ctx, prof.size),
        clauses=ctx.clauses(("orders", "customers", "customer_segments")))


def _clusters(ctx: Context) -> Outcome:
    features = ctx.features()
    saved = ctx.saved_ids()
    if ctx.query.filters or saved:
        features = features[select(features, ids=saved[1] if saved else None, filters=ctx.query.filters)]
    result = cluster_customers(features.reset_index(drop=True), catalog=ctx.bi.catalog)
    table = result.table(ctx.lang)
    columns = ["cluster", "name", "customers", "share", "recency_median", "orders_365", "aov", "revenue_365",
               "traits"]
    rows = [[_plain(v) for v in rec] for rec in table[columns].itertuples(index=False)]
    bars = [{"label": f"{r.cluster}. {r.name}", "customers": int(r.customers), "share": float(r.share)}
            for r in table.itertuples(index=False)]
    what = Text(zh="k-means 聚类(最近购买、频次、金额、客单价、客龄、品类与渠道结构, 标准化), k 由轮廓系数在 3–8 中选定; "
                   "按中心点与全体的比较规则命名。",
                en="k-means on recency, frequency, spend, AOV, tenure and category/channel mix (standardised); k in "
                   "3–8 by silhouette; clusters named by rules over centroids against the base.")
    return Outcome(columns, rows, result.summary(ctx.lang),
                   ctx.definitions(what, {"k": result.k, "silhouette": round(result.silhouettes[result.k], 3),
                                          "customers": int(table["customers"].sum())}),
                   chart=charts.size_bars_chart(bars, ctx.lang, title=ctx.t("客户聚类: 各客群人数", "Clusters by size")),
                   clauses=ctx.clauses(("orders", "customers")))


def _basket(ctx: Context) -> Outcome:
    level = str(ctx.query.params.get("level", "category"))
    unit = str(ctx.query.params.get("unit", "order"))
    support = {("category", "order"): 0.01, ("category", "customer"): 0.05,
               ("product", "order"): 0.0005, ("product", "customer"): 0.01}[(level, unit)]
    spec = BasketSpec(level=level, unit=unit, min_support=support, period=ctx.period(),  # type: ignore[arg-type]
                      segment=ctx.segment(), top_rules=200)
    result = basket_rules(ctx.reader(), spec, category_labels=category_labels_from(ctx.bi.catalog))
    lang = ctx.lang
    rules = result.rules.head(_MAX_RULES)
    rows, bars = [], []
    for r in rules.to_dict("records"):
        a, c = r[f"antecedent_{lang}"], r[f"consequent_{lang}"]
        rows.append([a, c, int(r["count"]), round(float(r["support"]), 6), round(float(r["confidence"]), 6),
                     round(float(r["lift"]), 6)])
        bars.append({"label": f"{a} → {c}", "lift": round(float(r["lift"]), 4)})
    narrative = result.summary(lang)
    for note in result.notes:
        narrative += "\n" + note.get(lang)
    return Outcome(["antecedent", "consequent", "count", "support", "confidence", "lift"], rows, narrative,
                   ctx.definitions(result.definition, {"level": level, "unit": unit, "min_support": support,
                                                       "transactions": result.n_transactions}),
                   chart=charts.lift_bars_chart(bars, lang, rule="basket_lift", title=ctx.t(
                       "关联规则的提升度", "Association rules by lift")) if bars else None,
                   clauses=ctx.clauses(("orders", "order_items", "customers")), sql=ctx.sql)


def _survival(ctx: Context) -> Outcome:
    event = str(ctx.query.params.get("event", "churn"))
    group = ctx.query.params.get("group_by") or (ctx.query.dimensions[0].rpartition(".")[2]
                                                 if ctx.query.dimensions else None)
    if group is not None and group not in _SURVIVAL_GROUPS:
        raise UserError(218, f"生存曲线不能按「{group}」分组; 可按首购年份/季度、地区、城市等级、会员等级、获客渠道、性别",
                        f"survival curves cannot be grouped by '{group}'; try first-purchase year or quarter, region, "
                        "city tier, membership tier, acquisition channel or gender")
    result = survival_curves(ctx.reader(), ctx.bi.as_of, event=event, group_by=group,  # type: ignore[arg-type]
                             segment=ctx.segment(), first_between=ctx.period())
    lang = ctx.lang
    dim = ctx.bi.catalog.find_dimension(group) if group and not str(group).startswith("cohort_") else None
    names = {v.value: v.label.get(lang) for v in dim.values} if dim is not None else {}
    rows = []
    for r in result.summary.to_dict("records"):
        rows.append([names.get(r["grp"], r["grp"]), int(r["customers"]), int(r["events"]), _plain(r["median_days"]),
                     *(_plain(r[f"s_{c}"]) for c in (90, 180, 365, 730))])
    points = []
    for grp, curve in result.curves.groupby("grp", sort=True):
        horizon = int(curve["time"].max())
        for day in range(0, horizon + _CURVE_STEP, _CURVE_STEP):
            points.append({"group": names.get(grp, grp), "days": day, "survival": survival_at(curve, day),
                           "lower": survival_at(curve, day, "lower"), "upper": survival_at(curve, day, "upper")})
    return Outcome(["group", "customers", "events", "median_days", "s_90", "s_180", "s_365", "s_730"], rows,
                   _survival_text(result, rows, lang, dim.label.get(lang) if dim is not None else group), ctx.definitions(result.definition, {"event": event, "group_by": group}),
                   chart=charts.survival_band_chart(points, lang, title=result.title.get(lang),
                                                    group_title=dim.label.get(lang) if dim is not None else ""),
                   clauses=ctx.clauses(("orders", "customers")), sql=ctx.sql)


def _save_segment(ctx: Context) -> Outcome:
    name = str(ctx.query.params.get("name") or "")
    prev = ctx.previous
    if prev is None:
        raise UserError(219, "没有可保存的客户: 请先问一个列出客户的问题(例如 哪些重要价值客户有流失风险?)",
                        "Nothing to save: first ask a question that lists customers (e.g. which customers are at risk?)")
    _, _, result = ctx.bi._execute(prev, ctx.access)
    if "customer_id" not in result.columns:
        raise UserError(219, "上一个回答没有列出客户, 无法存为分群", "The previous answer lists no customers to save")
    i = result.columns.index("customer_id")
    ids = [row[i] for row in result.rows]
    store, author = SegmentStore(), ctx.access.principal.id
    definition = {"semantic_query": prev.model_dump(mode="json", exclude_defaults=True)}
    try:
        seg = store.save(name, ids, author=author, as_of=ctx.bi.as_of, definition=definition)
    except UserError as exc:  # one's own segment saved again is updated; someone else's name is refused
        if exc.code != 264 or store.get(name).author != author:
            raise
        seg = store.save(name, ids, author=author, as_of=ctx.bi.as_of, definition=definition, overwrite=True)
    what = Text(zh="保存上一个回答中的客户编号, 定义为其语义查询; 作者为当前用户。",
                en="The previous answer's customer ids, defined by its semantic query; author = the current user.")
    return Outcome(["segment", "customers", "author", "as_of"],
                   [[seg.name, seg.size, seg.author, seg.as_of.isoformat() if seg.as_of else None]],
                   ctx.t(f"已将 {seg.size:,} 位客户存为分群「{seg.name}」。可以问「分群 {seg.name} 的画像」或"
                         f"「分群 {seg.name} 自某日以来的变化」。",
                         f"Saved {seg.size:,} customers as segment '{seg.name}'. Ask for its profile or how it "
                         "has moved since a date."),
                   ctx.definitions(what, {"name": seg.name}), clauses=ctx.clauses(()))


def _track_segment(ctx: Context) -> Outcome:
    name, ids = ctx.saved_ids() or ("", [])
    since = ctx.query.params.get("since")
    if not name or since is None:
        raise UserError(219, "请说明分群名称和起始日期, 例如: 分群 VIP挽回 自2025-10-01以来的变化",
                        "Name the segment and a start date, e.g. how has segment VIP since 2025-10-01")
    day = since if isinstance(since, dt.date) else dt.date.fromisoformat(str(since))
    bi = ctx.bi
    result = track(bi.engine, bi._schemas[ctx.access.see_pii], ids, day, bi.as_of, segment=Text(zh=name, en=name),
                   catalog=bi.catalog, access=ctx.access)
    label = "label_zh" if ctx.lang == "zh" else "label_en"
    columns = ["metric", "segment_pre", "segment_post", "control_pre", "control_post", "did"]
    rows = [[r[label], *(_plain(r[c]) for c in columns[1:])] for r in result.table.to_dict("records")]
    what = Text(zh="事后 = 起始日至数据截止日, 事前 = 之前同样天数; 对照组按事前行为(订单数、金额四分位、距上次购买天数)"
                   "精确匹配并加权; 双重差分 = (分群事后 − 事前) − (对照事后 − 事前)。",
                en="Post = the start date to the as-of date, pre = as many days before; controls matched exactly on "
                   "pre-period behaviour (orders, revenue quartile, days since the last order) and weighted; "
                   "DiD = (segment post − pre) − (control post − pre).")
    return Outcome(columns, rows, result.summary(ctx.lang),
                   ctx.definitions(what, {"segment": name, "since": day.isoformat(), "matched": result.matched,
                                          "controls": result.controls}),
                   clauses=ctx.clauses(("orders", "customers")))


RUNNERS: dict[str, Callable[[Context], Outcome]] = {
    "profile": _profile, "clusters": _clusters, "basket": _basket, "survival": _survival,
    "save_segment": _save_segment, "track_segment": _track_segment,
}


def run_module(bi: ChatBI, query: SemanticQuery, *, question: str, lang: str, access: Access,
               previous: SemanticQuery | None = None) -> Answer:
    """One deeper analysis as an ``Answer``; user errors become an error answer (the service maps codes)."""
    from .service import Answer

    dumped = query.model_dump(mode="json", exclude_defaults=True)
    try:
        check_params(query)
        ctx = Context(bi, query, lang, access, previous)
        out = RUNNERS[query.analysis or ""](ctx)
    except UserError as exc:
        return Answer("error", question, lang, semantic_query=dumped, message=exc.message(lang),
                      candidates=list(exc.suggestions), error_code=exc.code)
    return Answer("ok", question, lang, semantic_query=dumped, sql=";\n".join(out.sql) or None,
                  columns=out.columns, rows=[[_plain(v) for v in r] for r in out.rows], chart=out.chart,
                  narrative=defang(out.narrative), suggestions=[defang_all(s) for s in out.suggestions],
                  definitions=out.definitions, clauses=out.clauses)


# --- helpers ------------------------------------------------------------------------------------------


def _playbook_suggestions(ctx: Context, size: int) -> list[dict[str, Any]]:
    """Playbook rules for an RFM segment the profile is about (重要挽留客户 → win-back offer…)."""
    from .playbook import SegmentWhen

    out = []
    wanted = {(f.field.rpartition(".")[2], str(v)) for f in ctx.query.filters if f.op in ("=", "in") for v in f.values}
    for rule in sorted(ctx.bi.playbook().rules, key=lambda r: r.priority):
        when = rule.when
        if isinstance(when, SegmentWhen) and (when.dimension, when.value) in wanted:
            label = ctx.label()
            out.append({"id": rule.id, "title": rule.title.get(ctx.lang), "action": rule.action.get(ctx.lang),
                        "trigger": ctx.t(f"画像对象「{label.zh}」", f"profile of {label.en}"),
                        "target": label.get(ctx.lang),
                        "size": ctx.t(f"{size:,} 位客户", f"{size:,} customers"), "priority": rule.priority})
    return out


def _survival_text(result: Any, rows: list[list[Any]], lang: str, group: str | None) -> str:
    """Each group's S at one year and its median, then the log-rank test (group names in ``lang``)."""
    title = result.title.get(lang).split("(按")[0].split(" by ")[0]
    if group:
        title += f"(按{group})" if lang == "zh" else f" by {group}"
    lines = [title]
    for name, n, _, med, *_s, s365, _s730 in rows:
        shown = "—" if med is None else f"{med:.0f}"
        s_text = "—" if s365 is None else f"{s365:.1%}"
        lines.append(f"- {name}: {n:,} 位客户, 365 天时 S={s_text}, 中位时间 {shown} 天" if lang == "zh" else
                     f"- {name}: {n:,} customers, S(365 d) = {s_text}, median {shown} days")
    lr = result.logrank
    if lr is not None:
        differ = lr.p_value < 0.05
        lines.append(f"对数秩检验: χ²={lr.statistic:.1f}, 自由度 {lr.dof}, p={lr.p_value:.3g}"
                     f"({'各组曲线差异显著' if differ else '各组差异不显著'})" if lang == "zh" else
                     f"Log-rank test: χ² = {lr.statistic:.1f} on {lr.dof} df, p = {lr.p_value:.3g}"
                     f" ({'the curves differ' if differ else 'no significant difference'})")
    return "\n".join(lines)


def _feature_label(ctx: Context, column: str) -> str:
    from metrics.labels import Labels

    return Labels(ctx.bi.catalog).column(column).get(ctx.lang)


def _value_label(dist: pd.DataFrame, dim: str, value: Any, lang: str) -> str:
    hit = dist[(dist["dimension"] == dim) & (dist["value"] == value)]
    if hit.empty:
        return str(value)
    return str(hit.iloc[0]["label_zh" if lang == "zh" else "label_en"])


def _plain(value: Any) -> Any:
    """numpy scalars to Python; NaN to None (JSON has no NaN)."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 6)
    return value
