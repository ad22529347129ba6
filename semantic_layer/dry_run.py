"""Validation layer 5: every metric alone and with each reachable dimension, EXPLAINed.

Catches what static checks cannot: a column that does not exist in the
warehouse, a type error in an expression, a source SQL that fails.
"""

from __future__ import annotations

from .access import allowed_schema
from .catalog import Catalog
from .compiler import compile_query
from .engine import DuckDBEngine
from .errors import Issue, UserError
from .guard import guard_sql
from .materialize import Materializer
from .query import SemanticQuery


def dry_run(catalog: Catalog, engine: DuckDBEngine) -> tuple[list[Issue], int]:
    """(issues, number of queries checked); each query is planned by the engine, not run."""
    as_of = engine.as_of_date()
    if as_of is None:
        raise UserError(141, "数仓中没有订单数据, 无法确定数据截止日", "the warehouse has no orders, so there is no as-of date")
    materializer = Materializer(catalog, engine)
    materializer.ensure(materializer.materialized_models(), as_of)
    tables = allowed_schema(catalog, engine.tables(), include_pii=True)
    issues: list[Issue] = []
    checked = 0
    dims = sorted({d.name for _, d in catalog.dimensions() if d.type != "time"})
    for metric in catalog.metrics.values():
        for dim in [None, *dims]:
            query = SemanticQuery(metrics=[metric.name], dimensions=[dim] if dim else [])
            try:
                compiled = compile_query(query, catalog, as_of=as_of)
            except UserError as exc:
                if dim is not None and exc.code == 301:  # not reachable: fine, nothing to check
                    continue
                issues.append(_issue(catalog, metric.name, dim, exc.message_zh, exc.message_en))
                continue
            checked += 1
            try:
                engine.explain(guard_sql(compiled.sql, tables))
            except UserError as exc:
                issues.append(_issue(catalog, metric.name, dim, exc.message_zh, exc.message_en))
    return issues, checked


def _issue(catalog: Catalog, metric: str, dim: str | None, zh: str, en: str) -> Issue:
    file, line = catalog.locate(f"metric:{metric}")
    by = f" × {dim}" if dim else ""
    return Issue("error", 140, f"试运行失败 {metric}{by}: {zh}", f"dry run failed for {metric}{by}: {en}", file, line, metric)
