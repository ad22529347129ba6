"""Semantic query → one SELECT, built as a sqlglot tree and rendered once.

Steps (SEMANTIC_LAYER.md): resolve names; expand ratio/derived metrics to
their leaves; one sub-query per (model, metric filter) aggregated at the query
grain; join the sub-queries on the shared keys; compute ratios outside, then
order and limit. Each leaf picks the first model variant from which every
requested dimension is reachable, so revenue by category sums order lines.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from sqlglot import exp

from .access import pii_dimensions, pii_metrics
from .analyses import ANALYSES, analysis, cohort_select, expand
from .catalog import Catalog
from .dialects import add_period, date_trunc, normalise_dialect
from .errors import UserError, closest
from .expressions import Scope, date_literal, dimension_label, parse_snippet
from .policy import Access
from .lineage import Definition, Lineage, OutputColumn, definitions_for, describe_filter
from .query import Filter, SemanticQuery
from .schema import (
    Agg, DerivedMetric, Dimension, EntityCountMetric, Grain, Metric, PeriodChurnMetric,
    RatioMetric, SimpleMetric, Text,
)
from .timerange import DateRange, resolve, shift, truncate

__all__ = ["CompiledQuery", "compile_query", "Definition", "Lineage", "OutputColumn"]


@dataclass(frozen=True)
class CompiledQuery:
    query: SemanticQuery
    sql: str
    tree: exp.Expression
    columns: tuple[OutputColumn, ...]
    lineage: Lineage


Leaf = SimpleMetric | EntityCountMetric | PeriodChurnMetric


@dataclass
class _Cte:
    alias: str
    body: exp.Select
    measures: list[str]
    helpers: list[tuple[str, exp.Select]] = field(default_factory=list)  # CTEs it reads


@dataclass
class _Plan:
    catalog: Catalog
    query: SemanticQuery
    as_of: dt.date
    range: DateRange
    grain: Grain | None
    dim_filters: list[Filter]
    metric_filters: list[Filter]
    access: Access | None = None
    dialect: str = "duckdb"

    @property
    def key_names(self) -> list[str]:
        names = [ref.rpartition(".")[2] for ref in self.query.dimensions]
        return names + ([self.grain.value] if self.grain else [])


def compile_query(
    query: SemanticQuery, catalog: Catalog, *, as_of: dt.date, dialect: str = "duckdb",
    access: Access | None = None,
) -> CompiledQuery:
    """Compile ``query`` to SQL for ``dialect`` with its lineage.

    ``access`` is the viewer's rights (``policy.resolve_access``): every source
    gets their row grants, PII comes from masked views, and a filter reaching
    outside the grants is refused rather than silently emptied. None: no
    restriction (trusted callers: validation, the dry run, admin tools).

    ``dialect`` is the target the tree is built for (``semantic_layer.dialects``):
    date truncation, period arithmetic and catalog snippets become that
    dialect's own nodes; the SQL is rendered once, never transpiled from DuckDB.

    >>> from semantic_layer.loader import load_catalog
    >>> q = SemanticQuery(metrics=["revenue"], dimensions=["region"])
    >>> compiled = compile_query(q, load_catalog(), as_of=dt.date(2025, 12, 31))
    >>> "SUM(orders.amount) AS revenue" in compiled.sql, [c.name for c in compiled.columns]
    (True, ['region', 'revenue'])
    """
    dialect = normalise_dialect(dialect)
    if query.analysis:
        spec = analysis(query.analysis)
        if spec.module:
            raise UserError(215, f"分析「{spec.label.zh}」由分析模块执行, 不编译为 SQL",
                            f"the {spec.label.en} analysis runs as a module, not as compiled SQL")
        if spec.defaults is None:
            return _compile_cohort(query, catalog, as_of, dialect, access)
        return compile_query(expand(query), catalog, as_of=as_of, dialect=dialect, access=access)
    metrics = [catalog.metric(name) for name in query.metrics]
    _check_dimensions(query, catalog)
    _check_access(query, catalog, access)
    metric_names = set(query.metrics)
    plan = _Plan(
        catalog, query, as_of, resolve(query.time, as_of), query.time.grain if query.time else None,
        [f for f in query.filters if f.field not in metric_names],
        [f for f in query.filters if f.field in metric_names],
        access, dialect,
    )
    leaves = _leaves(metrics, catalog)
    ctes = _build_ctes(plan, leaves)
    select, owner = _combine(plan, ctes)
    for metric in metrics:
        select = select.select(_metric_expr(metric, catalog, owner).as_(metric.name))
    for name in query.shares:  # share of the total over all result rows, before any LIMIT
        value = _metric_expr(catalog.metric(name), catalog, owner)
        total = exp.Window(this=exp.Sum(this=value.copy()))
        select = select.select(_ratio(value, total).as_(f"{name}_share"))
    select = _finish(plan, select, metrics)
    columns = _output_columns(plan, metrics)
    lineage = Lineage(
        definitions=definitions_for(metrics, catalog),
        filters=tuple(describe_filter(f, catalog) for f in query.filters),
        time_range=plan.range,
        grain=plan.grain,
        as_of=as_of,
        access=access_notes(select, catalog, access),
    )
    return CompiledQuery(query, select.sql(dialect=dialect, pretty=True), select, columns, lineage)


# --- names ------------------------------------------------------------------------


def _check_dimensions(query: SemanticQuery, catalog: Catalog) -> None:
    for ref in [*query.dimensions, *(f.field for f in query.filters if f.field not in query.metrics)]:
        name = ref.rpartition(".")[2]
        model = ref.rpartition(".")[0]
        dims = [d for m, d in catalog.dimensions() if d.name == name and (not model or m == model)]
        if not dims:
            known = catalog.dimension_names() | set(catalog.metrics)
            raise UserError(203, f"未知维度 '{ref}'", f"unknown dimension '{ref}'", closest(name, known))
        if ref in query.dimensions and dims[0].type == "time":
            raise UserError(
                205, f"时间维度 '{ref}' 请通过时间粒度(time.grain)使用",
                f"use the time grain (time.grain) for time dimension '{ref}'",
            )
    if len(set(query.dimensions)) != len(query.dimensions):
        raise UserError(206, "维度重复", "a dimension is listed twice")


def _check_access(query: SemanticQuery, catalog: Catalog, access: Access | None) -> None:
    """Refuse what the viewer may not ask: PII-derived metrics, PII filters, values outside their grants."""
    if access is None:
        return
    if not access.see_pii:
        private = [m for m in [*query.metrics, *(f.field for f in query.filters)] if m in pii_metrics(catalog)]
        if private:
            raise UserError(320, f"指标 {', '.join(private)} 由个人信息计算, 您的角色无权查看",
                            f"metric {', '.join(private)} is computed from personal data, which your role may not see")
        names = {ref.rpartition(".")[2] for ref in pii_dimensions(catalog)}
        for f in query.filters:
            if f.field.rpartition(".")[2] in names:
                label = catalog.find_dimension(f.field).label
                raise UserError(321, f"不能按个人信息({label.zh})筛选: 您的角色只能看到打码后的值",
                                f"you cannot filter on personal data ({label.en}): your role only sees masked values")
    for ref, values in access.allowed_values().items():
        dim = catalog.find_dimension(ref)
        for f in query.filters:
            same = f.field == ref or (f.field == ref.rpartition(".")[2])
            outside = [str(v) for v in f.values if str(v) not in values] if same and f.op in ("=", "in") else []
            if outside:
                mine = lambda lang: ", ".join(dimension_label(dim, v, lang) for v in sorted(values))  # noqa: E731
                theirs = lambda lang: ", ".join(dimension_label(dim, v, lang) for v in outside)  # noqa: E731
                raise UserError(
                    322, f"您的数据权限仅限 {dim.label.zh}: {mine('zh')}; 无权查看 {theirs('zh')} 的数据",
                    f"your data access covers {dim.label.en}: {mine('en')} only; you cannot see {theirs('en')}",
                    sorted(values))


def access_notes(tree: exp.Expression, catalog: Catalog, access: Access | None) -> tuple[Text, ...]:
    """Row grants that shaped this query's data, for the answer's definitions section."""
    if access is None:
        return ()
    read = {a.name for a in tree.find_all(exp.TableAlias)}
    notes: list[Text] = []
    scoped: dict[str, set[str]] = {}
    for model in sorted(read & set(access.grants)):
        grants = access.model_grants(model)
        if grants is None:
            continue
        label = catalog.model(model).label
        if not grants:
            notes.append(Text(zh=f"行级权限: 您未获授权查看「{label.zh}」的数据(角色或数据范围未授予), 相关数字为空",
                              en=f"Row-level access: you are not granted {label.en} data (by role or data scope); "
                                 "its figures are empty"))
        for g in grants:
            if g.dimension and g.values:
                scoped.setdefault(g.dimension, set()).update(g.values)
    for ref, values in scoped.items():
        dim = catalog.find_dimension(ref)
        zh = ", ".join(dimension_label(dim, v, "zh") for v in sorted(values))
        en = ", ".join(dimension_label(dim, v, "en") for v in sorted(values))
        notes.insert(0, Text(zh=f"行级权限: 仅含 {dim.label.zh} 为 {zh} 的数据",
                             en=f"Row-level access: only {dim.label.en} {en}"))
    return tuple(notes)


def _leaves(metrics: list[Metric], catalog: Catalog) -> list[Leaf]:
    """Simple, entity-count and churn metrics that the requested ones are built from."""
    out: dict[str, Leaf] = {}

    def visit(metric: Metric, depth: int) -> None:
        if depth > 20:
            raise UserError(107, f"指标 '{metric.name}' 存在循环引用", f"metric '{metric.name}' refers to itself")
        if isinstance(metric, (SimpleMetric, EntityCountMetric, PeriodChurnMetric)):
            out.setdefault(metric.name, metric)
        elif isinstance(metric, RatioMetric):
            visit(catalog.metric(metric.numerator), depth + 1)
            visit(catalog.metric(metric.denominator), depth + 1)
        elif isinstance(metric, DerivedMetric):
            for name in metric.inputs:
                visit(catalog.metric(name), depth + 1)

    for m in metrics:
        visit(m, 0)
    return list(out.values())


# --- leaves -> CTEs ---------------------------------------------------------------


def _time_ref(metric: Leaf, catalog: Catalog, plan: _Plan | None = None) -> str | None:
    """The metric's time dimension; with a plan that cuts by time, one is required."""
    ref = metric.time or catalog.model(metric.model).default_time
    cuts_time = plan is not None and (plan.grain or plan.range.start or plan.range.end)
    if ref is None and cuts_time:
        raise UserError(
            207,
            f"「{metric.label.zh}」是截至数据截止日的快照指标, 不能按时间筛选或按时间拆分; 请去掉时间条件",
            f"'{metric.label.en}' is a snapshot as of the as-of date; it cannot be filtered or split by time. "
            "Remove the time condition.",
        )
    return ref


def _choose_variant(metric: SimpleMetric, plan: _Plan) -> tuple[str, Agg, str]:
    """The first (model, agg, expr) from which every requested field is reachable."""
    catalog = plan.catalog
    needed = [*plan.query.dimensions, *(f.field for f in plan.dim_filters)]
    time_ref = _time_ref(metric, catalog, plan)
    if time_ref is not None and (plan.grain or plan.range.start or plan.range.end):
        needed.append(time_ref)
    options = [(metric.model, metric.agg, metric.expr)]
    options += [(v.model, v.agg or metric.agg, v.expr) for v in metric.variants]
    for model, agg, expr in options:
        if all(catalog.can_reach(model, ref) for ref in needed):
            return model, agg, expr
    missing = next(ref for ref in needed if not catalog.can_reach(metric.model, ref))
    label = catalog.find_dimension(missing).label
    valued = {d.name for _, d in catalog.dimensions() if d.values}  # conformed dims share their values
    usable = [d for m in catalog.join_paths(metric.model) for d in catalog.model(m).dimensions
              if d.type == "categorical" and d.name in valued and "pii" not in d.tags]
    zh = "、".join(d.label.zh for d in usable[:6]) or "时间"
    en = ", ".join(d.label.en for d in usable[:6]) or "time"
    raise UserError(
        301,
        f"指标「{metric.label.zh}」不能按「{label.zh}」拆分或筛选; 可以按: {zh}",
        f"metric '{metric.label.en}' cannot be broken down or filtered by '{label.en}'; it can be by: {en}",
        [d.name for d in usable[:6]],
    )


def _build_ctes(plan: _Plan, leaves: list[Leaf]) -> list[_Cte]:
    groups: dict[tuple[str, str, str], list[tuple[SimpleMetric, Agg, str]]] = {}
    ctes: list[_Cte] = []
    for leaf in leaves:
        if isinstance(leaf, SimpleMetric):
            model, agg, expr = _choose_variant(leaf, plan)
            key = (model, leaf.filter or "", _time_ref(leaf, plan.catalog, plan) or "")
            groups.setdefault(key, []).append((leaf, agg, expr))
        elif isinstance(leaf, EntityCountMetric):
            ctes.append(_entity_count_cte(plan, leaf, f"q{len(ctes) + 1}"))
        else:
            ctes.append(_churn_cte(plan, leaf, f"q{len(ctes) + 1}"))
    for (model, filter_sql, time_ref), items in groups.items():
        ctes.append(_simple_cte(plan, model, filter_sql, time_ref or None, items, f"q{len(ctes) + 1}"))
    return ctes


def _keys(plan: _Plan, scope: Scope, time_ref: str | None, grain: Grain | None) -> list[exp.Expression]:
    keys: list[exp.Expression] = []
    for ref in plan.query.dimensions:
        _, expr = scope.dimension(ref)
        keys.append(exp.alias_(expr, ref.rpartition(".")[2]))
    if grain is not None and time_ref is not None:
        keys.append(exp.alias_(_trunc(grain, _time(scope, time_ref, grain), plan.dialect), grain.value))
    return keys


def _time(scope: Scope, ref: str, grain: Grain | None) -> exp.Expression:
    resolved, expr = scope.dimension(ref)
    if grain is not None and grain not in resolved.dimension.grains:
        label = resolved.dimension.label
        grains_zh = "/".join(_GRAIN_ZH[g] for g in resolved.dimension.grains)
        grains_en = "/".join(g.value for g in resolved.dimension.grains)
        raise UserError(
            208,
            f"「{label.zh}」只支持按{grains_zh}统计, 不能按{_GRAIN_ZH[grain]}",
            f"'{label.en}' supports only {grains_en} grains, not {grain.value}",
        )
    return expr


_GRAIN_ZH = {Grain.day: "日", Grain.week: "周", Grain.month: "月", Grain.quarter: "季度", Grain.year: "年"}


def _trunc(grain: Grain, expr: exp.Expression, dialect: str) -> exp.Expression:
    return date_trunc(grain.value, expr, dialect)


def _add_period(expr: exp.Expression, grain: Grain, dialect: str) -> exp.Expression:
    return add_period(expr, grain.value, dialect)


def _conditions(plan: _Plan, scope: Scope, filter_sql: str | None, time_expr: exp.Expression | None,
                start: dt.date | None, end: dt.date | None) -> list[exp.Expression]:
    conds: list[exp.Expression] = []
    if filter_sql:
        conds.append(scope.metric_expr(filter_sql))
    for f in plan.dim_filters:
        resolved, expr = scope.dimension(f.field)
        conds.append(_filter_condition(expr, f, resolved.dimension))
    if time_expr is not None and start is not None:
        conds.append(exp.GTE(this=time_expr.copy(), expression=date_literal(start)))
    if time_expr is not None and end is not None:
        conds.append(exp.LTE(this=time_expr.copy(), expression=date_literal(end)))
    return conds


def _grouping(plan: _Plan, scope: Scope, time_ref: str | None,
              filter_sql: str | None) -> tuple[list[exp.Expression], list[exp.Expression]]:
    """Group-by keys at the query grain and WHERE conditions over the query's range."""
    keys = _keys(plan, scope, time_ref, plan.grain)
    has_range = plan.range.start is not None or plan.range.end is not None
    time_expr = _time(scope, time_ref, None) if has_range and time_ref else None
    return keys, _conditions(plan, scope, filter_sql, time_expr, plan.range.start, plan.range.end)


def _simple_cte(plan: _Plan, model: str, filter_sql: str, time_ref: str | None,
                items: list[tuple[SimpleMetric, Agg, str]], alias: str) -> _Cte:
    scope = Scope(plan.catalog, model, plan.as_of, access=plan.access, dialect=plan.dialect)
    keys, conds = _grouping(plan, scope, time_ref, filter_sql or None)
    measures = [exp.alias_(_aggregate(agg, scope.metric_expr(expr)), m.name) for m, agg, expr in items]
    body = scope.from_clause().select(*keys, *measures)
    body = _where(body, conds)
    if keys:
        body = body.group_by(*[k.this.copy() for k in keys])
    return _Cte(alias, body, [m.name for m, _, _ in items])


def _entity_count_cte(plan: _Plan, metric: EntityCountMetric, alias: str) -> _Cte:
    """Count entities whose per-period aggregate meets ``having`` (repeat buyers)."""
    scope = Scope(plan.catalog, metric.model, plan.as_of, access=plan.access, dialect=plan.dialect)
    time_ref = _time_ref(metric, plan.catalog, plan)
    keys, conds = _grouping(plan, scope, time_ref, metric.filter)
    entity = _entity_column(plan.catalog, metric.model, metric.entity)
    inner = scope.from_clause().select(
        *keys, exp.alias_(entity, "entity_id"), exp.alias_(_aggregate(metric.agg, scope.metric_expr(metric.expr)), "per_entity")
    )
    inner = _where(inner, conds).group_by(*[k.this.copy() for k in keys], entity.copy())
    condition = parse_snippet(f"per_entity {metric.having}")
    counted = exp.Sum(this=exp.Case(ifs=[exp.If(this=condition, true=exp.Literal.number(1))],
                                    default=exp.Literal.number(0)))
    outer = exp.select(*[exp.column(k.alias) for k in keys], exp.alias_(counted, metric.name))
    outer = outer.from_(exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier("per_entity_rows"))))
    if keys:
        outer = outer.group_by(*[exp.column(k.alias) for k in keys])
    return _Cte(alias, outer, [metric.name])


def _churn_cte(plan: _Plan, metric: PeriodChurnMetric, alias: str) -> _Cte:
    """Active in the previous period and not in this one, per key, at grain G.

    G is the query's grain, else the metric's; with no query grain the periods
    in range are pooled. Periods after the as-of date's are never counted.
    """
    grain = plan.grain or metric.grain
    scope = Scope(plan.catalog, metric.model, plan.as_of, access=plan.access, dialect=plan.dialect)
    time_ref = _time_ref(metric, plan.catalog)
    if time_ref is None:
        raise UserError(207, f"流失指标 '{metric.name}' 需要时间维度", f"churn metric '{metric.name}' needs a time dimension")
    time_expr = _time(scope, time_ref, grain)
    dims = [exp.alias_(scope.dimension(ref)[1], ref.rpartition(".")[2]) for ref in plan.query.dimensions]
    last = min(plan.range.end or plan.as_of, plan.as_of)
    first = truncate(plan.range.start, grain) if plan.range.start else None
    active_start = shift(first, grain, -1) if first else None
    conds = _conditions(plan, scope, metric.filter, time_expr, active_start, last)
    entity = _entity_column(plan.catalog, metric.model, metric.entity)
    active = scope.from_clause().select(
        *dims, exp.alias_(entity, "entity_id"), exp.alias_(_trunc(grain, time_expr.copy(), plan.dialect), "period")
    ).distinct()
    active = _where(active, conds)
    active_alias = f"{alias}_active"

    this_period = _add_period(exp.column("period", table="prev"), grain, plan.dialect)
    on = [exp.column("entity_id", table="cur").eq(exp.column("entity_id", table="prev")),
          exp.column("period", table="cur").eq(this_period.copy())]
    on += [exp.NullSafeEQ(this=exp.column(d.alias, table="cur"), expression=exp.column(d.alias, table="prev"))
           for d in dims]
    keys: list[exp.Expression] = [exp.alias_(exp.column(d.alias, table="prev"), d.alias) for d in dims]
    if plan.grain is not None:
        keys.append(exp.alias_(this_period.copy(), plan.grain.value))
    base = exp.Count(this=exp.Star())
    churned = exp.Sub(this=exp.Count(this=exp.Star()), expression=exp.Count(this=exp.column("entity_id", table="cur")))
    body = exp.select(*keys, exp.alias_(base, f"{metric.name}__base"), exp.alias_(churned, f"{metric.name}__churned"))
    body = body.from_(exp.table_(active_alias, alias="prev"))
    body = body.join(exp.table_(active_alias, alias="cur"), on=exp.and_(*on), join_type="left")
    conds_outer: list[exp.Expression] = [exp.LTE(this=this_period.copy(), expression=date_literal(truncate(last, grain)))]
    if first is not None:
        conds_outer.append(exp.GTE(this=this_period.copy(), expression=date_literal(first)))
    body = _where(body, conds_outer)
    if keys:
        body = body.group_by(*[k.this.copy() for k in keys])
    return _Cte(alias, body, [f"{metric.name}__base", f"{metric.name}__churned"], [(active_alias, active)])


def _entity_column(catalog: Catalog, model: str, entity: str) -> exp.Expression:
    for e in catalog.model(model).entities:
        if e.name == entity:
            return exp.column(e.column, table=model)
    raise UserError(108, f"模型 '{model}' 没有实体 '{entity}'", f"model '{model}' has no entity '{entity}'")


def _aggregate(agg: Agg, expr: exp.Expression) -> exp.Expression:
    if agg == "sum":
        return exp.Sum(this=expr)
    if agg == "count":
        is_one = isinstance(expr, exp.Literal) and expr.this == "1"
        return exp.Count(this=exp.Star() if is_one else expr)
    if agg == "count_distinct":
        return exp.Count(this=exp.Distinct(expressions=[expr]))
    if agg == "avg":
        return exp.Avg(this=expr)
    if agg == "min":
        return exp.Min(this=expr)
    if agg == "max":
        return exp.Max(this=expr)
    raise AssertionError(agg)


def _where(select: exp.Select, conds: list[exp.Expression]) -> exp.Select:
    return select.where(exp.and_(*conds)) if conds else select


# --- filters ----------------------------------------------------------------------

_COMPARE = {"=": exp.EQ, "!=": exp.NEQ, ">": exp.GT, ">=": exp.GTE, "<": exp.LT, "<=": exp.LTE}


def _literal(value: object, dim: Dimension | None) -> exp.Expression:
    if isinstance(value, dt.date):
        return date_literal(value)
    if dim is not None and dim.type == "numeric":
        try:
            return exp.Literal.number(float(value) if "." in str(value) else int(str(value)))
        except ValueError:
            raise UserError(
                209, f"「{dim.label.zh}」需要数值, 收到 '{value}'", f"'{dim.label.en}' needs a number, got '{value}'"
            ) from None
    if dim is not None and dim.type == "time":
        try:
            return date_literal(dt.date.fromisoformat(str(value)))
        except ValueError:
            raise UserError(
                209, f"「{dim.label.zh}」需要日期(YYYY-MM-DD), 收到 '{value}'",
                f"'{dim.label.en}' needs a date (YYYY-MM-DD), got '{value}'",
            ) from None
    if isinstance(value, (int, float)):
        return exp.Literal.number(value)
    return exp.Literal.string(str(value))


def _check_values(f: Filter, dim: Dimension) -> None:
    if not dim.values or f.op not in {"=", "!=", "in", "not_in"}:
        return
    known = {v.value for v in dim.values}
    for value in f.values:
        if str(value) not in known:
            raise UserError(
                210, f"「{dim.label.zh}」没有取值 '{value}'", f"'{dim.label.en}' has no value '{value}'",
                closest(str(value), known),
            )


def _filter_condition(expr: exp.Expression, f: Filter, dim: Dimension) -> exp.Expression:
    """One query filter as a condition on the dimension's expression."""
    _check_values(f, dim)
    values = [_literal(v, dim) for v in f.values]
    if f.op in _COMPARE:
        return _COMPARE[f.op](this=expr.copy(), expression=values[0])
    if f.op == "in":
        return exp.In(this=expr.copy(), expressions=values)
    if f.op == "not_in":
        return exp.Not(this=exp.In(this=expr.copy(), expressions=values))
    if f.op == "between":
        return exp.Between(this=expr.copy(), low=values[0], high=values[1])
    if f.op == "contains":
        needle = str(f.values[0]).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return exp.Escape(this=exp.ILike(this=expr.copy(), expression=exp.Literal.string(f"%{needle}%")),
                          expression=exp.Literal.string("\\"))
    raise AssertionError(f.op)


# --- combine and finish -----------------------------------------------------------


def _combine(plan: _Plan, ctes: list[_Cte]) -> tuple[exp.Select, dict[str, str]]:
    """Join the sub-queries on the shared keys; return the outer SELECT and measure owners."""
    keys = plan.key_names
    owner = {m: c.alias for c in ctes for m in c.measures}
    with_ctes: list[tuple[str, exp.Select]] = []
    for c in ctes:
        with_ctes += c.helpers
        with_ctes.append((c.alias, c.body))
    if len(ctes) == 1:
        select = exp.select(*[exp.column(k, table=ctes[0].alias).as_(k) for k in keys]).from_(ctes[0].alias)
    elif not keys:
        select = exp.select().from_(ctes[0].alias)
        for c in ctes[1:]:
            select = select.join(c.alias, join_type="cross")
    else:
        union: exp.Expression = exp.select(*keys).from_(ctes[0].alias)
        for c in ctes[1:]:
            union = exp.union(union, exp.select(*keys).from_(c.alias), distinct=True)
        with_ctes.append(("all_keys", union))  # type: ignore[arg-type]
        select = exp.select(*[exp.column(k, table="all_keys").as_(k) for k in keys]).from_("all_keys")
        for c in ctes:
            on = exp.and_(*[exp.NullSafeEQ(this=exp.column(k, table="all_keys"), expression=exp.column(k, table=c.alias))
                            for k in keys])
            select = select.join(c.alias, on=on, join_type="left")
    for alias, body in with_ctes:
        select = select.with_(alias, as_=body)
    return select, owner


def _metric_expr(metric: Metric, catalog: Catalog, owner: dict[str, str]) -> exp.Expression:
    """The outer expression of a metric over the joined sub-query columns."""
    if isinstance(metric, (SimpleMetric, EntityCountMetric)):
        return exp.column(metric.name, table=owner[metric.name])
    if isinstance(metric, PeriodChurnMetric):
        table = owner[f"{metric.name}__base"]
        base = exp.column(f"{metric.name}__base", table=table)
        churned = exp.column(f"{metric.name}__churned", table=table)
        if metric.measure == "base":
            return base
        if metric.measure == "churned":
            return churned
        return _ratio(churned, base)
    if isinstance(metric, RatioMetric):
        return _ratio(_metric_expr(catalog.metric(metric.numerator), catalog, owner),
                      _metric_expr(catalog.metric(metric.denominator), catalog, owner))
    if isinstance(metric, DerivedMetric):
        inputs = {name: _metric_expr(catalog.metric(name), catalog, owner) for name in metric.inputs}
        return exp.paren(parse_snippet(metric.expr).transform(
            lambda n: exp.paren(inputs[n.name].copy()) if isinstance(n, exp.Column) and n.name in inputs else n
        ))
    raise AssertionError(metric)


def _ratio(num: exp.Expression, den: exp.Expression) -> exp.Expression:
    """``num / NULLIF(den, 0)`` in floating point (integer division truncates on some engines)."""
    return exp.Div(this=exp.cast(num, exp.DataType.Type.DOUBLE),
                   expression=exp.Nullif(this=den, expression=exp.Literal.number(0)))


def _finish(plan: _Plan, select: exp.Select, metrics: list[Metric]) -> exp.Select:
    """Metric filters, ORDER BY and LIMIT over the output columns."""
    outputs = plan.key_names + [m.name for m in metrics] + [f"{n}_share" for n in plan.query.shares]
    if plan.metric_filters:
        wrapped = exp.select("*").from_(exp.Subquery(this=select, alias=exp.TableAlias(this=exp.to_identifier("result"))))
        conds = [_metric_condition(f) for f in plan.metric_filters]
        select = wrapped.where(exp.and_(*conds))
    order = plan.query.order_by
    for o in order:
        if o.field not in outputs:
            raise UserError(211, f"无法按 '{o.field}' 排序: 它不在结果中", f"cannot order by '{o.field}': it is not in the result",
                            closest(o.field, outputs))
    if order:
        terms = [exp.Ordered(this=exp.column(o.field), desc=o.desc, nulls_first=False) for o in order]
    elif plan.grain is not None:
        terms = [exp.Ordered(this=exp.column(plan.grain.value), desc=False, nulls_first=False)]
        terms += [exp.Ordered(this=exp.column(k), nulls_first=False) for k in plan.key_names[:-1]]
    elif plan.key_names and metrics:
        terms = [exp.Ordered(this=exp.column(metrics[0].name), desc=True, nulls_first=False)]
        terms += [exp.Ordered(this=exp.column(k), nulls_first=False) for k in plan.key_names]
    else:
        terms = []
    if terms:
        select = select.order_by(*terms)
    if plan.query.limit is not None:
        select = select.limit(plan.query.limit)
    return select


def _metric_condition(f: Filter) -> exp.Expression:
    values = [_literal(v, None) if not isinstance(v, str) else _number(v) for v in f.values]
    col = exp.column(f.field)
    if f.op in _COMPARE:
        return _COMPARE[f.op](this=col, expression=values[0])
    if f.op == "between":
        return exp.Between(this=col, low=values[0], high=values[1])
    raise UserError(212, f"指标筛选不支持 '{f.op}'", f"metric filters do not support '{f.op}'")


def _number(value: str) -> exp.Expression:
    try:
        return exp.Literal.number(float(value))
    except ValueError:
        raise UserError(209, f"需要数值, 收到 '{value}'", f"a number is needed, got '{value}'") from None


def _output_columns(plan: _Plan, metrics: list[Metric]) -> tuple[OutputColumn, ...]:
    cols: list[OutputColumn] = []
    for ref in plan.query.dimensions:
        dim = plan.catalog.find_dimension(ref)
        kind: Literal["dimension", "time", "metric"] = "dimension"
        cols.append(OutputColumn(ref.rpartition(".")[2], kind, dim.label,
                                 dim.format or ("number" if dim.type == "numeric" else "text"),
                                 value_labels=tuple((v.value, v.label) for v in dim.values),
                                 null_label=dim.null_label))
    if plan.grain is not None:
        cols.append(OutputColumn(plan.grain.value, "time", _GRAIN_LABEL[plan.grain], "date"))
    for m in metrics:
        cols.append(OutputColumn(m.name, "metric", m.label, m.format.kind, m.format.unit, m.format.decimals))
    for name in plan.query.shares:
        label = plan.catalog.metric(name).label
        cols.append(OutputColumn(f"{name}_share", "metric", Text(zh=f"{label.zh}占比", en=f"Share of {label.en}"), "percent"))
    return tuple(cols)


_GRAIN_LABEL = {
    Grain.day: Text(zh="日期", en="Day"), Grain.week: Text(zh="周", en="Week"),
    Grain.month: Text(zh="月份", en="Month"), Grain.quarter: Text(zh="季度", en="Quarter"),
    Grain.year: Text(zh="年份", en="Year"),
}


def _compile_cohort(query: SemanticQuery, catalog: Catalog, as_of: dt.date, dialect: str,
                    access: Access | None) -> CompiledQuery:
    """Cohort retention: the analysis's own SELECT, with the query's filters and range."""
    _check_access(query, catalog, access)
    scope = Scope(catalog, "customer_first_orders", as_of, access=access, dialect=dialect)
    conds = []
    for f in query.filters:
        resolved, expr = scope.dimension(f.field)
        conds.append(_filter_condition(expr, f, resolved.dimension))
    rng = resolve(query.time, as_of)
    select = cohort_select(query, catalog, as_of, rng.start, rng.end, conds, scope)
    if query.limit is not None:
        select = select.limit(query.limit)
    spec = ANALYSES["cohort"]
    columns = (
        OutputColumn("cohort", "dimension", Text(zh="首单月份", en="Cohort (first-order month)"), "date"),
        OutputColumn("months_since", "dimension", Text(zh="距首单月数", en="Months since first order"), "number"),
        OutputColumn("cohort_size", "metric", Text(zh="同期群客户数", en="Cohort size"), "count"),
        OutputColumn("retained_customers", "metric", Text(zh="留存客户数", en="Retained customers"), "count"),
        OutputColumn("retention_rate", "metric", Text(zh="留存率", en="Retention rate"), "percent"),
    )
    definition = Definition(
        "cohort_retention", spec.label,
        "COUNT(DISTINCT cohort customers buying in month k) / cohort size; cohort = month of first completed order",
        spec.description,
    )
    lineage = Lineage(
        definitions=(definition, *definitions_for([catalog.metric("buyers")], catalog)),
        filters=tuple(describe_filter(f, catalog) for f in query.filters),
        time_range=rng, grain=Grain.month, as_of=as_of, access=access_notes(select, catalog, access),
    )
    return CompiledQuery(query, select.sql(dialect=dialect, pretty=True), select, columns, lineage)
