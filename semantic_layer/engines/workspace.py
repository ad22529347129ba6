"""Workspace objects trusted code builds in any engine: masked views of PII tables.

DuckDB keeps its ``SELECT * REPLACE (…)`` views (``access.masked_view_sql``);
PostgreSQL and Spark get an explicit column list built for their dialect
(``access.masked_view_select``), since ``* REPLACE`` is DuckDB-only.
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from semantic_layer.access import masked_view_select, masked_view_sql, pii_columns
from semantic_layer.catalog import Catalog
from semantic_layer.expressions import masked_table_name


def create_masked_views(engine: Any, catalog: Catalog) -> list[str]:
    """One ``<table>__masked`` view per warehouse table with PII columns; return the view names."""
    tables = engine.tables()
    made: list[str] = []
    for table, pii in pii_columns(catalog).items():
        if table not in tables:
            continue
        if engine.dialect == "duckdb":
            sql = masked_view_sql(table, pii, f"warehouse.main.{table}")
        else:
            schema = getattr(engine, "schema", None)  # PostgreSQL: name the warehouse schema
            source = exp.table_(table, db=schema) if schema else exp.table_(table)
            sql = masked_view_select(pii, tables[table], source, engine.dialect)
        engine.create_view(masked_table_name(table), sql)
        made.append(masked_table_name(table))
    return made
