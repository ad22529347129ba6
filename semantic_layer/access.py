"""What the guard may let a query touch, and how PII reaches those who may not see it.

The guard's allow-list is built from the semantic layer, not from whatever the
warehouse happens to hold, so a table or a column the catalog does not govern
cannot be reached. Columns behind ``pii``-tagged dimensions are withheld from
viewers without PII rights; those viewers read the table's masked view instead
(``customers__masked``: the same rows, PII columns masked in SQL), so masking
happens before any row leaves the engine: tables, exports, audit and prompts
only ever see 张* and 138****5678.

Tags propagate: a dimension or metric computed from a PII column is PII too.
"""

from __future__ import annotations

from typing import Collection, Mapping, Sequence

from sqlglot import exp

from .catalog import Catalog
from .expressions import masked_table_name, parse_snippet
from .schema import DerivedMetric, Metric, RatioMetric

#: SQL mask per kind, over a column ``x`` (DuckDB); ``semantic_layer.masking.mask_value`` is the Python twin.
MASK_SQL = {
    "name": "CASE WHEN x IS NULL OR x = '' THEN x ELSE left(x, 1) || repeat('*', greatest(length(x) - 1, 1)) END",
    "phone": "CASE WHEN x IS NULL THEN NULL WHEN length(x) >= 7 THEN left(x, 3) || '****' || right(x, 4) ELSE '****' END",
    "email": ("CASE WHEN x IS NULL THEN NULL WHEN strpos(x, '@') > 1 "
              "THEN left(x, 1) || '***' || substr(x, strpos(x, '@')) ELSE '***' END"),
    "full": "CASE WHEN x IS NULL THEN NULL ELSE '***' END",
}


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


def pii_columns(catalog: Catalog) -> dict[str, dict[str, str]]:
    """Table → {column: mask kind} for the columns a ``pii`` dimension exposes."""
    out: dict[str, dict[str, str]] = {}
    for model in catalog.models.values():
        table = getattr(model.source, "table", model.model)
        for d in model.dimensions:
            if "pii" in d.tags:
                for col in parse_snippet(d.sql()).find_all(exp.Column):
                    out.setdefault(table, {})[col.name] = d.mask or "full"
    return out


def masked_view_sql(table: str, pii: Mapping[str, str], source: str) -> str:
    """``SELECT * REPLACE (<mask> AS col, …) FROM source``: the view non-PII roles read.

    >>> print(masked_view_sql("customers", {"phone": "phone"}, "warehouse.main.customers"))
    SELECT * REPLACE (CASE WHEN phone IS NULL THEN NULL WHEN LENGTH(phone) >= 7 THEN LEFT(phone, 3) || '****' || RIGHT(phone, 4) ELSE '****' END AS phone) FROM warehouse.main.customers
    """
    replaced = []
    for column, kind in sorted(pii.items()):
        masked = parse_snippet(MASK_SQL[kind]).transform(
            lambda n: exp.column(column) if isinstance(n, exp.Column) and n.name == "x" else n)
        replaced.append(f"{masked.sql(dialect='duckdb')} AS {column}")
    return f"SELECT * REPLACE ({', '.join(replaced)}) FROM {source}"


def masked_view_select(pii: Mapping[str, str], columns: Sequence[str], source: exp.Expression,
                       dialect: str) -> str:
    """The masked view as an explicit column list, built for ``dialect`` (no ``* REPLACE`` outside DuckDB).

    >>> print(masked_view_select({"phone": "phone"}, ["customer_id", "phone"], exp.table_("customers", db="public"),
    ...                          "postgres"))
    SELECT customer_id, CASE WHEN phone IS NULL THEN NULL WHEN LENGTH(phone) >= 7 THEN LEFT(phone, 3) || '****' || RIGHT(phone, 4) ELSE '****' END AS phone FROM public.customers
    """
    from .dialects import adapt

    projections: list[exp.Expression] = []
    for column in columns:
        kind = pii.get(column)
        if kind is None:
            projections.append(exp.column(column))
            continue
        masked = parse_snippet(MASK_SQL[kind]).transform(
            lambda n: exp.column(column) if isinstance(n, exp.Column) and n.name == "x" else n)
        projections.append(exp.alias_(adapt(masked, dialect), column))
    return exp.select(*projections).from_(source).sql(dialect=dialect)


def allowed_schema(
    catalog: Catalog, tables: Mapping[str, Collection[str]], *, include_pii: bool = False
) -> dict[str, list[str]]:
    """The guard's schema: governed tables with their columns, PII withheld by default.

    Without PII rights a table's masked view (when the engine has it) is admitted
    with all its columns, since they are masked already.

    >>> from semantic_layer.loader import load_catalog
    >>> schema = allowed_schema(load_catalog(), {"customers": ["customer_id", "phone", "region"], "secrets": ["x"]})
    >>> schema
    {'customers': ['customer_id', 'region']}
    """
    governed = governed_tables(catalog)
    hidden = {} if include_pii else pii_columns(catalog)
    allowed = governed | ({masked_table_name(t) for t in hidden} if not include_pii else set())
    return {
        name: [c for c in cols if c not in hidden.get(name, {})]
        for name, cols in tables.items()
        if name in allowed
    }


def pii_dimensions(catalog: Catalog) -> set[str]:
    """``model.dimension`` refs that are PII: tagged, or computed from a PII column of their model."""
    columns = pii_columns(catalog)
    out: set[str] = set()
    for model in catalog.models.values():
        private = columns.get(getattr(model.source, "table", model.model), {})
        for d in model.dimensions:
            used = {c.name for c in parse_snippet(d.sql()).find_all(exp.Column)}
            if "pii" in d.tags or used & set(private):
                out.add(f"{model.model}.{d.name}")
    return out


def pii_metrics(catalog: Catalog) -> set[str]:
    """Metrics computed from PII: a bare name in their SQL is a PII dimension or column of their model."""
    dims = pii_dimensions(catalog)
    dim_names = {ref.rpartition(".")[2] for ref in dims}
    columns = pii_columns(catalog)
    out: set[str] = set()

    def direct(m: Metric) -> bool:
        model = getattr(m, "model", None)
        if model is None:
            return False
        private = set(columns.get(getattr(catalog.models[model].source, "table", model), {})) | dim_names
        sqls = [getattr(m, "expr", None), getattr(m, "filter", None), *(v.expr for v in getattr(m, "variants", []))]
        return any({c.name for c in parse_snippet(s).find_all(exp.Column)} & private for s in sqls if s)

    changed = True
    while changed:  # ratios and derived metrics inherit from their inputs
        changed = False
        for m in catalog.metrics.values():
            if m.name in out:
                continue
            inputs = ([m.numerator, m.denominator] if isinstance(m, RatioMetric)
                      else m.inputs if isinstance(m, DerivedMetric) else [])
            if direct(m) or any(i in out for i in inputs):
                out.add(m.name)
                changed = True
    return out


def _cte_names(sql: str) -> set[str]:
    return {cte.alias for cte in parse_snippet(sql).find_all(exp.CTE)}
