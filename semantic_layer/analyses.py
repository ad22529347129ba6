"""Named analyses: RFM, ABC, CLV ranking, churn-risk lists, cohort retention and the deeper customer analyses.

Most are ordinary semantic queries with curated defaults, so they pass through
the same compiler, guard and lineage as any question; the query's own filters,
limit and order refine them. Cohort retention is a matrix (cohort × months
since first order) and gets its own small SQL builder, still as a sqlglot tree
over catalog models so filters and row rules apply the same way.

The deeper analyses (``module=True``: profile, clusters, basket, survival,
save_segment, track_segment) run Python modules under ``metrics/`` through the
governed reader; the service routes them (``assistant/deep.py``) and the
compiler never sees them. Their options travel in ``SemanticQuery.params``,
checked here against ``PARAMS``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlglot import exp

from .catalog import Catalog
from .dialects import date_diff, date_trunc
from .errors import UserError, closest
from .expressions import Scope, date_literal
from .query import OrderBy, SemanticQuery
from .schema import SimpleMetric, Text


@dataclass(frozen=True)
class Analysis:
    name: str
    label: Text
    description: Text
    defaults: SemanticQuery | None  # None: a custom builder (cohort) or a Python module
    module: bool = False  # run by a metrics/ module through the governed reader, not compiled


ANALYSES: dict[str, Analysis] = {a.name: a for a in [
    Analysis("rfm", Text(zh="RFM 客户分层", en="RFM segmentation"),
             Text(zh="八类 RFM 分群的客户数、近一年销售额与平均 R/F/M。",
                  en="Customers, last-365-day revenue and average R/F/M per 8-class RFM segment."),
             SemanticQuery(metrics=["segment_customers", "segment_revenue", "avg_recency_days", "avg_frequency",
                                    "avg_monetary"], dimensions=["rfm_segment"],
                           order_by=[OrderBy(field="segment_revenue", desc=True)])),
    Analysis("abc", Text(zh="ABC 客户分类", en="ABC classification"),
             Text(zh="按近一年销售额累计占比划分的 A/B/C 类客户数与销售额。",
                  en="Customers and revenue per A/B/C class by cumulative share of last-365-day revenue."),
             SemanticQuery(metrics=["segment_customers", "segment_revenue"], dimensions=["abc_class"],
                           order_by=[OrderBy(field="abc_class", desc=False)])),
    Analysis("clv_ranking", Text(zh="客户价值(CLV)排名", en="CLV ranking"),
             Text(zh="预测 CLV 最高的客户及其存活概率和历史价值。",
                  en="Customers with the highest predicted CLV, with P(alive) and historical value."),
             SemanticQuery(metrics=["avg_clv", "avg_p_alive", "avg_historical_clv"],
                           dimensions=["customer_id", "customer_name"],
                           order_by=[OrderBy(field="avg_clv", desc=True)], limit=20)),
    Analysis("churn_risk", Text(zh="流失风险客户名单", en="Churn-risk list"),
             Text(zh="流失风险高的客户, 按历史价值排序, 附预测 CLV 与存活概率。",
                  en="High churn-risk customers ordered by historical value, with predicted CLV and P(alive)."),
             SemanticQuery(metrics=["avg_historical_clv", "avg_clv", "avg_p_alive"],
                           dimensions=["customer_id", "customer_name"],
                           order_by=[OrderBy(field="avg_historical_clv", desc=True)], limit=50)),
    Analysis("cohort", Text(zh="同期群留存分析", en="Cohort retention"),
             Text(zh="按首单月份分组, 第 k 个月仍有已完成订单的客户占比。",
                  en="Customers grouped by first-order month; share with a completed order k months later."),
             None),
    Analysis("churn_prediction", Text(zh="流失预测(模型评分)", en="Churn prediction (model scores)"),
             Text(zh="模型预测未来 90 天没有已完成订单的概率最高的客户(逻辑回归, 样本外验证), 附十分位。",
                  en="Customers the model scores most likely to make no completed order in the next 90 days "
                     "(logistic regression, checked out of time), with their decile."),
             SemanticQuery(metrics=["avg_churn_score"], dimensions=["customer_id", "customer_name", "churn_decile"],
                           order_by=[OrderBy(field="avg_churn_score", desc=True)], limit=50)),
    Analysis("profile", Text(zh="客户画像", en="Segment profile"),
             Text(zh="分群与全体客户在人口属性、会员、渠道、品类偏好上的占比差异(提升度)与关键指标对比。",
                  en="How a segment differs from all customers: shares (lift) by demographics, tier, channel and "
                     "category, and key measures."), None, module=True),
    Analysis("clusters", Text(zh="客户聚类分群", en="Customer clusters"),
             Text(zh="k-means 按最近购买、频次、金额、客单价、客龄与品类/渠道结构聚类, k 由轮廓系数选定, 按规则命名。",
                  en="k-means on recency, frequency, spend, AOV, tenure and category/channel mix; k by silhouette; "
                     "clusters named by rules."), None, module=True),
    Analysis("basket", Text(zh="购物篮关联分析", en="Market basket rules"),
             Text(zh="已完成订单中同时购买的品类(或商品)组合: 支持度、置信度、提升度。",
                  en="Categories (or products) bought together in completed orders: support, confidence, lift."),
             None, module=True),
    Analysis("survival", Text(zh="客户生存曲线", en="Customer survival curves"),
             Text(zh="Kaplan-Meier: 首购后未流失(或尚未第二次购买)的客户比例随天数的变化, 含置信带与对数秩检验。",
                  en="Kaplan-Meier: share of customers not yet churned (or without a second purchase) by days since "
                     "the first purchase, with bands and a log-rank test."), None, module=True),
    Analysis("save_segment", Text(zh="保存分群", en="Save a segment"),
             Text(zh="把上一个回答中的客户存为命名分群(定义为其语义查询)。",
                  en="Save the customers of the previous answer as a named segment (defined by its semantic query)."),
             None, module=True),
    Analysis("track_segment", Text(zh="分群复盘", en="Segment tracking"),
             Text(zh="已保存分群自某日以来的变化, 与事前行为匹配的对照组比较(双重差分)。",
                  en="How a saved segment moved since a date, against a control group matched on prior behaviour "
                     "(differences-in-differences)."), None, module=True),
]}

#: The options each analysis accepts in ``SemanticQuery.params`` (name → allowed values, None = free).
PARAMS: dict[str, dict[str, tuple[str, ...] | None]] = {
    "profile": {"segment": None},
    "clusters": {"segment": None},
    "basket": {"level": ("category", "product"), "unit": ("order", "customer"), "segment": None},
    "survival": {"event": ("churn", "second_purchase"), "group_by": None, "segment": None},
    "save_segment": {"name": None},
    "track_segment": {"segment": None, "since": None},
}


def check_params(query: SemanticQuery) -> None:
    """Unknown options or values of an analysis are a planning error (213), not a silent default."""
    allowed = PARAMS.get(query.analysis or "", {})
    for key, value in query.params.items():
        if key not in allowed:
            raise UserError(213, f"分析 '{query.analysis}' 没有参数 '{key}'",
                            f"analysis '{query.analysis}' has no option '{key}'", closest(key, allowed))
        choices = allowed[key]
        if choices is not None and str(value) not in choices:
            raise UserError(213, f"参数 {key} 只能是 {', '.join(choices)}",
                            f"option {key} must be one of {', '.join(choices)}", list(choices))

#: The churn-risk list keeps only high-risk customers unless the question says otherwise.
_DEFAULT_FILTERS = {"churn_risk": {"field": "churn_risk", "op": "=", "values": ["High"]}}


def analysis(name: str) -> Analysis:
    if name not in ANALYSES:
        raise UserError(213, f"未知分析 '{name}'", f"unknown analysis '{name}'", closest(name, ANALYSES))
    return ANALYSES[name]


def expand(query: SemanticQuery) -> SemanticQuery:
    """An analysis query as the ordinary semantic query it stands for."""
    spec = analysis(query.analysis or "")
    assert spec.defaults is not None
    data = spec.defaults.model_dump()
    data.pop("params", None)
    filters = [f.model_dump() for f in query.filters]
    default = _DEFAULT_FILTERS.get(spec.name)
    if default and not any(f["field"] == default["field"] for f in filters):
        filters.append(default)
    data.update(filters=filters, time=query.time.model_dump() if query.time else None, analysis=None)
    data["metrics"] = query.metrics or data["metrics"]
    data["dimensions"] = query.dimensions or data["dimensions"]
    if query.order_by:
        data["order_by"] = [o.model_dump() for o in query.order_by]
    if query.limit:
        data["limit"] = query.limit
    return SemanticQuery.model_validate(data)


def cohort_select(query: SemanticQuery, catalog: Catalog, as_of: dt.date, start: dt.date | None,
                  end: dt.date | None, filters: list[exp.Expression] | None = None,
                  scope: Scope | None = None) -> exp.Select:
    """Retention by cohort: share of a first-order month's customers buying k months later.

    Activity is the ``buyers`` metric's model and filter (completed orders), so
    the catalog's definition of "a customer who bought" is the only one used.
    """
    buyers = catalog.metric("buyers")
    if not isinstance(buyers, SimpleMetric):
        raise UserError(214, "同期群分析需要 buyers 为简单指标", "cohort analysis needs 'buyers' to be a simple metric")
    firsts_scope = scope or Scope(catalog, "customer_first_orders", as_of)
    first_day = firsts_scope.dimension("first_order_date")[1]
    dialect = firsts_scope.dialect
    month = lambda e: date_trunc("month", e, dialect)  # noqa: E731
    conds = list(filters or [])
    if start:
        conds.append(exp.GTE(this=first_day.copy(), expression=date_literal(start)))
    conds.append(exp.LTE(this=first_day.copy(), expression=date_literal(min(end or as_of, as_of))))
    firsts = firsts_scope.from_clause().select(
        exp.alias_(exp.column("customer_id", table="customer_first_orders"), "customer_id"),
        exp.alias_(month(first_day.copy()), "cohort"),
    ).where(exp.and_(*conds))

    act_scope = Scope(catalog, buyers.model, as_of, access=firsts_scope.access, dialect=firsts_scope.dialect)
    entity = act_scope.metric_expr(buyers.expr)
    order_day = act_scope.dimension(buyers.time or catalog.model(buyers.model).default_time or "")[1]
    act_conds = [exp.LTE(this=order_day.copy(), expression=date_literal(as_of))]
    if buyers.filter:
        act_conds.insert(0, act_scope.metric_expr(buyers.filter))
    active = act_scope.from_clause().select(
        exp.alias_(entity, "customer_id"), exp.alias_(month(order_day.copy()), "activity_month")
    ).distinct().where(exp.and_(*act_conds))

    sizes = exp.select("cohort", exp.alias_(exp.Count(this=exp.Star()), "cohort_size")).from_("firsts").group_by("cohort")
    months_since = date_diff("month", exp.column("cohort", table="f"), exp.column("activity_month", table="a"), dialect)
    retained = exp.Count(this=exp.Distinct(expressions=[exp.column("customer_id", table="f")]))
    size = exp.Max(this=exp.column("cohort_size", table="s"))
    select = (
        exp.select(
            exp.alias_(exp.column("cohort", table="f"), "cohort"),
            exp.alias_(months_since, "months_since"),
            exp.alias_(size, "cohort_size"),
            exp.alias_(retained.copy(), "retained_customers"),
            exp.alias_(exp.Div(this=exp.cast(retained, exp.DataType.Type.DOUBLE), expression=size.copy()),
                       "retention_rate"),
        )
        .from_(exp.table_("firsts", alias="f"))
        .join(exp.table_("active", alias="a"), on=exp.and_(
            exp.column("customer_id", table="a").eq(exp.column("customer_id", table="f")),
            exp.GTE(this=exp.column("activity_month", table="a"), expression=exp.column("cohort", table="f"))),
            join_type="inner")
        .join(exp.table_("sizes", alias="s"), on=exp.column("cohort", table="s").eq(exp.column("cohort", table="f")),
              join_type="inner")
        .group_by(exp.column("cohort", table="f"), months_since.copy())
        .order_by(exp.column("cohort"), exp.column("months_since"))
        .with_("firsts", as_=firsts).with_("active", as_=active).with_("sizes", as_=sizes)
    )
    return select
