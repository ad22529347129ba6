"""What the guard may let a query touch: the catalog's tables, minus PII columns.

The guard's allow-list is built from the semantic layer, not from whatever the
warehouse happens to hold, so a table or a column the catalog does not
govern cannot be reached, and columns behind ``pii``-tagged dimensions are
withheld unless the caller may see PII.
"""

from __future__ import annotations

from typing import Collection, Mapping

from sqlglot import exp

from .catalog import Catalog
from .expressions import parse_snippet


def governed_tables(catalog: Catalog) -> set[str]:
    """Every warehouse or workspace table a catalog model reads."""
    tables: set[str] = set()
    for model in catalog.models.values():
        src = model.source
        if hasattr(src, "table"):
            tables.add(src.table)
        elif hasattr(src, "sql"):
            if src.materialize:
                tables.add(model.model)
            tables |= {t.name for t in parse_snippet(src.sql).find_all(exp.Table)} - _cte_names(src.sql)
        else:
            tables.add(model.model)
            tables |= set(getattr(src, "reads", []))
    return tables


def pii_columns(catalog: Catalog) -> dict[str, set[str]]:
    """Columns, per table, that a ``pii`` dimension exposes."""
    out: dict[str, set[str]] = {}
    for model in catalog.models.values():
        table = getattr(model.source, "table", model.model)
        for d in model.dimensions:
            if "pii" in d.tags:
                cols = {c.name for c in parse_snippet(d.sql()).find_all(exp.Column)}
                out.setdefault(table, set()).update(cols)
    return out


def allowed_schema(
    catalog: Catalog, tables: Mapping[str, Collection[str]], *, include_pii: bool = False
) -> dict[str, list[str]]:
    """The guard's schema: governed tables with their columns, PII withheld by default.

    >>> from semantic_layer.loader import load_catalog
    >>> schema = allowed_schema(load_catalog(), {"customers": ["customer_id", "phone", "region"], "secrets": ["x"]})
    >>> schema
    {'customers': ['customer_id', 'region']}
    """
    governed = governed_tables(catalog)
    hidden = {} if include_pii else pii_columns(catalog)
    return {
        name: [c for c in cols if c not in hidden.get(name, set())]
        for name, cols in tables.items()
        if name in governed
    }


def _cte_names(sql: str) -> set[str]:
    return {cte.alias for cte in parse_snippet(sql).find_all(exp.CTE)}
