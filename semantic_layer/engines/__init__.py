"""Engine adapters beyond the embedded DuckDB: PostgreSQL (psycopg) and Spark SQL (pyspark).

Every adapter has the DuckDB engine's surface (``semantic_layer.engine.DuckDBEngine``):
``dialect``, ``execute(GuardedSQL) -> QueryResult``, ``dataframe``, ``explain``,
``tables``, ``table_counts``, ``as_of_date``, ``data_version``, the trusted
workspace writes ``materialize`` / ``create_view`` / ``register_frame``,
``interrupt`` and ``close``. User SQL only arrives guarded, compiled for the
engine's dialect (``compile_query(..., dialect=engine.dialect)``) and checked
by ``guard_sql(..., dialect=engine.dialect)``; each adapter re-checks that the
text is one SELECT and runs it under a time limit with a row cap.

The adapters import their drivers lazily, so DuckDB-only installs never need them.
See docs/engines.md.
"""

from __future__ import annotations

from typing import Any

from .base import Engine

__all__ = ["Engine", "connect_engine", "is_spark_master"]


SPARK_MASTERS = ("spark://", "local", "yarn", "k8s://")


def is_spark_master(url: str) -> bool:
    """A Spark master URL (``spark://host:7077``, ``local[2]``, ``yarn``, ``k8s://…``)."""
    return url.startswith(SPARK_MASTERS)


def connect_engine(url: str, **options: Any) -> Engine:
    """An engine for ``url``: a DuckDB file path, ``postgresql://…``, or ``spark://…`` / ``local[N]``.

    Spark needs ``parquet_dir`` (the warehouse exported by ``engines.load.export_parquet``).
    """
    if url.startswith(("postgresql://", "postgres://")):
        from .postgres import PostgresEngine

        schema = _search_path(url)
        if schema:
            options.setdefault("schema", schema)
        return PostgresEngine(url, **options)
    if is_spark_master(url):
        from .spark import SparkEngine

        return SparkEngine(master=url, **options)
    from semantic_layer.engine import DuckDBEngine

    return DuckDBEngine(url, **options)


def _search_path(dsn: str) -> str | None:
    """The warehouse schema a DSN names with ``?options=-csearch_path%3Dsales`` (libpq's own syntax).

    >>> _search_path("postgresql://u@h/db?options=-csearch_path%3Dsales")
    'sales'
    """
    import re
    from urllib.parse import parse_qs, urlparse

    options = " ".join(parse_qs(urlparse(dsn).query).get("options", []))
    found = re.search(r"-c\s*search_path\s*=\s*([A-Za-z_][A-Za-z0-9_$]*)", options)
    return found.group(1) if found else None
