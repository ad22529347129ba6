"""Catalog validation rules, run after parsing; each returns every issue it finds.

Layers (SEMANTIC_LAYER.md): graph (names exist, no cycles, joins, time grains),
SQL (snippets parse, no aggregates in ``expr``, filters reach their
dimensions), language (descriptions, synonym collisions). Adding a rule means
adding a function to ``RULES``. The dry run against an engine lives in
``dry_run.py`` because it needs data.
"""

from __future__ import annotations

import re
from typing import Callable, Iterator

import sqlglot
from sqlglot import exp

from .catalog import Catalog
from .errors import Issue, UserError, closest
from .expressions import Scope, parse_snippet
from .schema import (
    DerivedMetric, EntityCountMetric, Metric, PeriodChurnMetric, RatioMetric, SimpleMetric,
)

Rule = Callable[[Catalog], Iterator[Issue]]


def _issue(catalog: Catalog, key: str, code: int, zh: str, en: str, path: str | None = None,
           level: str = "error") -> Issue:
    file, line = catalog.locate(key)
    return Issue(level, code, zh, en, file, line, path)  # type: ignore[arg-type]


def metric_references_rule(catalog: Catalog) -> Iterator[Issue]:
    """Inputs, models and time dimensions named by metrics exist; no cycles."""
    for m in catalog.metrics.values():
        key = f"metric:{m.name}"
        for ref in _inputs(m):
            if ref not in catalog.metrics:
                hint = closest(ref, catalog.metrics)
                yield _issue(catalog, key, 110, f"指标 '{m.name}' 引用了不存在的指标 '{ref}'{_hint(hint, 'zh')}",
                             f"metric '{m.name}' refers to unknown metric '{ref}'{_hint(hint, 'en')}", m.name)
        model = getattr(m, "model", None)
        if model is not None and model not in catalog.models:
            hint = closest(model, catalog.models)
            yield _issue(catalog, key, 111, f"指标 '{m.name}' 的模型 '{model}' 不存在{_hint(hint, 'zh')}",
                         f"metric '{m.name}' uses unknown model '{model}'{_hint(hint, 'en')}", f"{m.name}.model")
            continue
        if isinstance(m, SimpleMetric):
            for v in m.variants:
                if v.model not in catalog.models:
                    yield _issue(catalog, key, 111, f"指标 '{m.name}' 的变体模型 '{v.model}' 不存在",
                                 f"metric '{m.name}' has a variant on unknown model '{v.model}'", f"{m.name}.variants")
        if isinstance(m, (SimpleMetric, EntityCountMetric, PeriodChurnMetric)) and model is not None:
            # No time at all is a snapshot metric (CLV as of the as-of date): fine.
            time = m.time or catalog.models[model].default_time
            if time is not None and not _is_time(catalog, model, time):
                yield _issue(catalog, key, 112, f"指标 '{m.name}' 的时间维度 '{time}' 不是可达的时间维度",
                             f"metric '{m.name}' time '{time}' is not a reachable time dimension", f"{m.name}.time")
        if isinstance(m, (EntityCountMetric, PeriodChurnMetric)) and model is not None:
            if m.entity not in {e.name for e in catalog.models[model].entities}:
                yield _issue(catalog, key, 113, f"模型 '{model}' 没有实体 '{m.entity}'",
                             f"model '{model}' has no entity '{m.entity}'", f"{m.name}.entity")
    yield from _cycles(catalog)


def _hint(names: list[str], lang: str) -> str:
    if not names:
        return ""
    return f"; 是否想用 {', '.join(names)}?" if lang == "zh" else f"; did you mean {', '.join(names)}?"


def _inputs(m: Metric) -> list[str]:
    if isinstance(m, RatioMetric):
        return [m.numerator, m.denominator]
    if isinstance(m, DerivedMetric):
        return list(m.inputs)
    return []


def _is_time(catalog: Catalog, model: str, ref: str) -> bool:
    try:
        return catalog.resolve_dimension(model, ref).dimension.type == "time"
    except UserError:
        return False


def _cycles(catalog: Catalog) -> Iterator[Issue]:
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(name: str, trail: list[str]) -> list[str] | None:
        if state.get(name) == 2 or name not in catalog.metrics:
            return None
        if state.get(name) == 1:
            return trail + [name]
        state[name] = 1
        for ref in _inputs(catalog.metrics[name]):
            if (cycle := visit(ref, trail + [name])) is not None:
                return cycle
        state[name] = 2
        return None

    for name in catalog.metrics:
        if (cycle := visit(name, [])) is not None:
            loop = " → ".join(cycle)
            yield _issue(catalog, f"metric:{cycle[0]}", 114, f"指标循环引用: {loop}", f"metrics refer to each other in a cycle: {loop}")
            return


def model_rule(catalog: Catalog) -> Iterator[Issue]:
    """default_time is a time dimension; entities and dimension names unique in a model."""
    primaries = {m.primary.name for m in catalog.models.values() if m.primary}
    for model in catalog.models.values():
        key = f"model:{model.model}"
        names = [d.name for d in model.dimensions]
        for dup in sorted({n for n in names if names.count(n) > 1}):
            yield _issue(catalog, key, 115, f"模型 '{model.model}' 中维度 '{dup}' 重复", f"dimension '{dup}' appears twice in model '{model.model}'")
        if model.default_time and model.default_time not in {d.name for d in model.dimensions if d.type == "time"}:
            yield _issue(catalog, key, 116, f"default_time '{model.default_time}' 不是本模型的时间维度",
                         f"default_time '{model.default_time}' is not a time dimension of this model", "default_time")
        for e in model.entities:
            if e.type == "foreign" and e.name not in primaries:
                yield _issue(catalog, key, 117, f"外键实体 '{e.name}' 没有以它为主键的模型, 无法关联",
                             f"foreign entity '{e.name}' has no model where it is primary, so it joins nothing",
                             "entities", level="warning")


def conformed_dimension_rule(catalog: Catalog) -> Iterator[Issue]:
    """Dimensions sharing a name across models are one concept: same type and values."""
    by_name: dict[str, list[tuple[str, object]]] = {}
    for model, d in catalog.dimensions():
        by_name.setdefault(d.name, []).append((model, d))
    for name, found in by_name.items():
        typed = {d.type for _, d in found}  # type: ignore[attr-defined]
        valued = [(m, tuple(v.value for v in d.values)) for m, d in found if d.values]  # type: ignore[attr-defined]
        if len(typed) > 1 or len({v for _, v in valued}) > 1:
            models = ", ".join(m for m, _ in found)
            yield _issue(catalog, f"dimension:{found[1][0]}.{name}", 118,
                         f"同名维度 '{name}'({models})类型或取值不一致", f"dimension '{name}' differs between models ({models})")


_AGG = (exp.AggFunc,)


def sql_rule(catalog: Catalog) -> Iterator[Issue]:
    """Snippets parse; metric expressions hold no aggregate; names they use resolve."""
    import datetime as dt

    for model in catalog.models.values():
        src = model.source
        if hasattr(src, "sql"):
            yield from _parses(catalog, f"model:{model.model}", src.sql, "source.sql", select=True)
        for d in model.dimensions:
            yield from _parses(catalog, f"dimension:{model.model}.{d.name}", d.sql(), f"dimensions.{d.name}.expr")
    for m in catalog.metrics.values():
        key = f"metric:{m.name}"
        snippets: list[tuple[str, str, str]] = []
        if isinstance(m, (SimpleMetric, EntityCountMetric)):
            snippets.append((m.model, m.expr, "expr"))
            snippets += [(m.model, f, "filter") for f in [m.filter] if f]
        if isinstance(m, SimpleMetric):
            snippets += [(v.model, v.expr, "variants.expr") for v in m.variants]
            snippets += [(v.model, f, "filter") for v in m.variants for f in [m.filter] if f]
        if isinstance(m, PeriodChurnMetric) and m.filter:
            snippets.append((m.model, m.filter, "filter"))
        if isinstance(m, EntityCountMetric):
            if not re.fullmatch(r"\s*(>=|<=|>|<|=|!=)\s*\d+(\.\d+)?\s*", m.having):
                yield _issue(catalog, key, 121, f"having 应形如 '>= 2', 收到 '{m.having}'",
                             f"having must look like '>= 2', got '{m.having}'", f"{m.name}.having")
        for model, sql, field in snippets:
            if model not in catalog.models:
                continue
            issues = list(_parses(catalog, key, sql, f"{m.name}.{field}"))
            if issues:
                yield from issues
                continue
            if field != "filter" and parse_snippet(sql).find(*_AGG):
                yield _issue(catalog, key, 120, f"'{field}' 不能包含聚合函数(聚合方式写在 agg): {sql}",
                             f"'{field}' must not contain an aggregate (put it in agg): {sql}", f"{m.name}.{field}")
            try:
                Scope(catalog, model, dt.date(2000, 1, 1)).metric_expr(sql)
            except UserError as exc:
                yield _issue(catalog, key, 122, exc.message_zh, exc.message_en, f"{m.name}.{field}")
        if isinstance(m, DerivedMetric):
            issues = list(_parses(catalog, key, m.expr, f"{m.name}.expr"))
            yield from issues
            if not issues:
                used = {c.name for c in parse_snippet(m.expr).find_all(exp.Column)}
                for extra in sorted(used - set(m.inputs)):
                    yield _issue(catalog, key, 123, f"派生指标表达式使用了未列入 inputs 的 '{extra}'",
                                 f"derived expression uses '{extra}', which is not listed in inputs", f"{m.name}.expr")


def _parses(catalog: Catalog, key: str, sql: str, path: str, select: bool = False) -> Iterator[Issue]:
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        first = str(exc).splitlines()[0]
        yield _issue(catalog, key, 119, f"SQL 无法解析: {first}", f"SQL does not parse: {first}", path)
        return
    if select and not isinstance(tree, exp.Select):
        yield _issue(catalog, key, 119, "source.sql 必须是一条 SELECT", "source.sql must be one SELECT", path)


def language_rule(catalog: Catalog) -> Iterator[Issue]:
    """Metrics are described; no term names two things unless declared ambiguous."""
    for m in catalog.metrics.values():
        if m.description is None:
            yield _issue(catalog, f"metric:{m.name}", 130, f"指标 '{m.name}' 缺少中英文说明 description",
                         f"metric '{m.name}' has no description (zh and en)", f"{m.name}.description")
    allowed = {t.term.casefold() for t in catalog.project.ambiguous}
    owners: dict[str, set[str]] = {}
    where: dict[str, str] = {}
    for term, target, key in _terms(catalog):
        norm = term.strip().casefold()
        owners.setdefault(norm, set()).add(target)
        where.setdefault(norm, key)
    for term, targets in sorted(owners.items()):
        if len(targets) > 1 and term not in allowed:
            names = ", ".join(sorted(targets))
            yield _issue(catalog, where[term], 131,
                         f"同义词 '{term}' 同时指向 {names}; 请删除其一, 或在 project.yaml 的 ambiguous 中声明",
                         f"synonym '{term}' names several things ({names}); remove one or declare it under ambiguous in project.yaml")


def _terms(catalog: Catalog) -> Iterator[tuple[str, str, str]]:
    """(term, target, location key) for every name, label and synonym users can type."""
    for m in catalog.metrics.values():
        target, key = f"metric:{m.name}", f"metric:{m.name}"
        for t in [m.name, m.label.zh, m.label.en, *m.synonyms.all()]:
            yield t, target, key
    for model, d in catalog.dimensions():
        target, key = f"dimension:{d.name}", f"dimension:{model}.{d.name}"
        for t in [d.name, d.label.zh, d.label.en, *d.synonyms.all()]:
            yield t, target, key
        for v in d.values:
            vt = f"value:{d.name}={v.value}"
            for t in [v.value, v.label.zh, v.label.en, *v.synonyms.all()]:
                yield t, vt, key


def access_rule(catalog: Catalog) -> Iterator[Issue]:
    """access.yaml names real roles and models; a rule's dimension is reachable and not PII."""
    policy = catalog.policy
    for model in policy.protected_models:
        if model not in catalog.models:
            yield _issue(catalog, "access:protected_models", 140, f"受保护模型 '{model}' 不存在", f"protected model '{model}' does not exist",
                         "protected_models")
    for i, rule in enumerate(policy.row_rules):
        key, path = f"access:row_rules.{i}", f"row_rules[{i}]"
        for role in rule.roles:
            if role not in policy.roles:
                hint = closest(role, policy.roles)
                yield _issue(catalog, f"{key}.roles", 141, f"行规则 '{rule.name}' 的角色 '{role}' 未定义{_hint(hint, 'zh')}",
                             f"row rule '{rule.name}' names undefined role '{role}'{_hint(hint, 'en')}", f"{path}.roles")
        for model in rule.models:
            if model not in catalog.models:
                hint = closest(model, catalog.models)
                yield _issue(catalog, f"{key}.models", 142, f"行规则 '{rule.name}' 的模型 '{model}' 不存在{_hint(hint, 'zh')}",
                             f"row rule '{rule.name}' names unknown model '{model}'{_hint(hint, 'en')}", f"{path}.models")
            elif model not in policy.protected_models:
                yield _issue(catalog, f"{key}.models", 143, f"行规则 '{rule.name}' 作用于未受保护的模型 '{model}', 不会生效",
                             f"row rule '{rule.name}' covers '{model}', which is not protected, so it has no effect",
                             f"{path}.models", level="warning")
            elif rule.dimension and not catalog.can_reach(model, rule.dimension):
                yield _issue(catalog, f"{key}.dimension", 144, f"行规则 '{rule.name}': 模型 '{model}' 无法关联到维度 '{rule.dimension}'",
                             f"row rule '{rule.name}': model '{model}' cannot reach dimension '{rule.dimension}'",
                             f"{path}.dimension")
        if rule.dimension:
            try:
                dim = catalog.find_dimension(rule.dimension)
            except UserError as exc:
                yield _issue(catalog, f"{key}.dimension", 145, exc.message_zh, exc.message_en, f"{path}.dimension")
                continue
            if "pii" in dim.tags:
                yield _issue(catalog, f"{key}.dimension", 146, f"行规则 '{rule.name}' 不能基于个人信息维度 '{rule.dimension}'",
                             f"row rule '{rule.name}' cannot filter on the PII dimension '{rule.dimension}'",
                             f"{path}.dimension")


RULES: tuple[Rule, ...] = (metric_references_rule, model_rule, conformed_dimension_rule, sql_rule, language_rule,
                           access_rule)


def validate_catalog(catalog: Catalog) -> list[Issue]:
    return [issue for rule in RULES for issue in rule(catalog)]
