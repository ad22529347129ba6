"""The one read path of the deeper analyses: guarded SQL, with the viewer's row rules.

Basket rules, survival curves and churn features are SQL over catalog tables
(``orders``, ``order_items``, ``products``, ``customers``, ``surveys``). They all
read through a ``Reader`` — ``read(sql) -> DataFrame`` — the same shape the
Materializer hands a Python model builder (``semantic_layer/materialize.py``).
``governed_reader`` builds one:

1. when a viewer's ``Access`` is given, every table reference that is a catalog
   model is replaced by the compiler's own relation for that model
   (``semantic_layer.expressions.Scope.source``): a protected model becomes
   ``(SELECT * FROM orders WHERE orders.customer_id IN (SELECT … WHERE region IN
   ('East'))) AS o`` and PII tables read their masked views, exactly as in a
   compiled query — so a regional manager's basket rules count only their
   customers' orders;
2. the rewritten text goes through ``guard_sql`` with the caller's schema (one
   SELECT, known tables and columns only, row cap);
3. ``engine.dataframe`` runs the regenerated SQL on the locked-down engine.

Without an ``Access`` (the Materializer's case: customer models are computed over
the whole base and filtered when queried) step 1 is skipped. The row cap is a
safety net, not a sampling device: a result that reaches it raises rather than
returning a silently truncated table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping

import pandas as pd
import sqlglot
from sqlglot import exp

from semantic_layer.catalog import Catalog
from semantic_layer.errors import UserError
from semantic_layer.expressions import Scope
from semantic_layer.guard import guard_sql
from semantic_layer.policy import Access

Reader = Callable[[str], pd.DataFrame]

E_TRUNCATED = 263
DEFAULT_MAX_ROWS = 50_000_000  # the Materializer's cap for model builders


def governed_reader(
    engine: object,
    schema: Mapping[str, Collection[str]],
    *,
    catalog: Catalog | None = None,
    access: Access | None = None,
    as_of: dt.date | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> Reader:
    """A ``Reader`` over ``engine`` admitting only ``schema``, with ``access``'s row rules.

    ``engine`` is anything with ``dataframe(GuardedSQL)`` (``DuckDBEngine``).
    ``catalog`` and ``as_of`` are needed only with ``access``. In the service:
    ``governed_reader(bi.engine, bi.schema, catalog=bi.catalog,
    access=bi.access_for(user), as_of=bi.as_of)``.
    """
    if access is not None and catalog is None:
        raise ValueError("row rules need the catalog: pass catalog= with access=")
    day = as_of or dt.date.today()

    def read(sql: str) -> pd.DataFrame:
        text = apply_row_rules(sql, catalog, access, day) if access is not None and catalog else sql
        guarded = guard_sql(text, schema, max_rows=max_rows)
        frame: pd.DataFrame = engine.dataframe(guarded)  # type: ignore[attr-defined]
        if len(frame) >= max_rows:
            raise UserError(E_TRUNCATED, f"分析结果超过 {max_rows} 行的上限,请缩小范围。",
                            f"The analysis result reached the {max_rows}-row cap; narrow the scope.")
        return frame

    return read


def apply_row_rules(sql: str | exp.Expression, catalog: Catalog, access: Access | None, as_of: dt.date, *,
                    dialect: str = "duckdb") -> str:
    """``sql`` with each catalog table replaced by the compiler's governed relation.

    CTE names are left alone; aliases are kept (``orders o`` stays ``… AS o``).
    """
    tree = sqlglot.parse_one(sql, read="duckdb") if isinstance(sql, str) else sql
    models = _table_models(catalog)
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}

    def swap(node: exp.Expression) -> exp.Expression:
        if not isinstance(node, exp.Table) or node.db or node.catalog:
            return node
        name = node.name.lower()
        if name in ctes or name not in models:
            return node
        model = models[name]
        alias = node.alias or node.name
        relation = Scope(catalog, base=model, as_of=as_of, access=access, dialect=dialect).source(model)
        relation.set("alias", exp.TableAlias(this=exp.to_identifier(alias)))
        return relation

    return tree.transform(swap).sql(dialect=dialect)


def _table_models(catalog: Catalog) -> dict[str, str]:
    """Engine table name → the catalog model that reads it (warehouse and workspace tables)."""
    out: dict[str, str] = {}
    for model in catalog.models.values():
        table = getattr(model.source, "table", None)
        out.setdefault((table or model.model).lower(), model.model)
    return out
