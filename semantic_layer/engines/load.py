"""Copy a DuckDB warehouse into PostgreSQL (COPY through psycopg) or Parquet files (for Spark).

Trusted tooling for tests, benchmarks and first deployments: it reads the
warehouse file with a plain read-only DuckDB connection (no user SQL runs
here) and writes the same tables with the same column types, so the three
engines compute over identical data.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import duckdb

#: DuckDB column type → PostgreSQL column type (anything else: text).
_PG_TYPES = {
    "BOOLEAN": "boolean", "TINYINT": "smallint", "SMALLINT": "smallint", "INTEGER": "integer",
    "BIGINT": "bigint", "HUGEINT": "numeric(38, 0)", "FLOAT": "real", "DOUBLE": "double precision",
    "DATE": "date", "TIMESTAMP": "timestamp", "TIMESTAMP WITH TIME ZONE": "timestamptz", "VARCHAR": "text",
}
_DECIMAL = re.compile(r"^DECIMAL\((\d+),\s*(\d+)\)$")


def warehouse_tables(db_path: str | Path) -> dict[str, list[tuple[str, str]]]:
    """User tables of the warehouse file: name → [(column, DuckDB type)] in table order."""
    with duckdb.connect(str(db_path), read_only=True) as con:
        rows = con.execute(
            "SELECT c.table_name, c.column_name, c.data_type FROM duckdb_columns() c "
            "JOIN duckdb_tables() t ON t.table_oid = c.table_oid "
            "WHERE c.schema_name = 'main' AND NOT t.internal ORDER BY c.table_name, c.column_index"
        ).fetchall()
    out: dict[str, list[tuple[str, str]]] = {}
    for table, column, dtype in rows:
        out.setdefault(table, []).append((column, dtype))
    return out


def pg_type(duckdb_type: str) -> str:
    """The PostgreSQL column type for a DuckDB one.

    >>> pg_type("DECIMAL(12,2)"), pg_type("VARCHAR")
    ('numeric(12, 2)', 'text')
    """
    match = _DECIMAL.match(duckdb_type)
    if match:
        return f"numeric({match.group(1)}, {match.group(2)})"
    return _PG_TYPES.get(duckdb_type, "text")


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def copy_to_postgres(db_path: str | Path, dsn: str, *, schema: str = "public",
                     tables: list[str] | None = None) -> dict[str, int]:
    """Replace ``schema``'s copies of the warehouse tables; return rows copied per table.

    Each table goes DuckDB → CSV in a temp dir → ``COPY … FROM STDIN`` in blocks,
    one transaction for all tables, then ``ANALYZE``.
    """
    import psycopg

    layout = warehouse_tables(db_path)
    names = tables or sorted(layout)
    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="chatbi-pgload-") as tmp, \
            duckdb.connect(str(db_path), read_only=True) as src, psycopg.connect(dsn) as pg:
        with pg.cursor() as cur:
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {_ident(schema)}")
            for table in names:
                cols = layout[table]
                target = f"{_ident(schema)}.{_ident(table)}"
                cur.execute(f"DROP TABLE IF EXISTS {target} CASCADE")
                cur.execute(f"CREATE TABLE {target} ("
                            + ", ".join(f"{_ident(c)} {pg_type(t)}" for c, t in cols) + ")")
                path = Path(tmp) / f"{table}.csv"
                src.execute(f"COPY {_ident(table)} TO '{path}' (FORMAT csv, HEADER false)")
                column_list = ", ".join(_ident(c) for c, _ in cols)
                with cur.copy(f"COPY {target} ({column_list}) FROM STDIN (FORMAT csv)") as copy, \
                        path.open("rb") as fh:
                    while block := fh.read(1 << 20):
                        copy.write(block)
                path.unlink()
                counts[table] = cur.rowcount if cur.rowcount >= 0 else -1
            for table in names:
                cur.execute(f"ANALYZE {_ident(schema)}.{_ident(table)}")
    return counts


def export_parquet(db_path: str | Path, directory: str | Path, *, tables: list[str] | None = None) -> dict[str, Path]:
    """Write every warehouse table to ``directory/<table>.parquet``; return the paths."""
    out_dir = Path(directory)
    out_dir.mkdir(parents=True, exist_ok=True)
    layout = warehouse_tables(db_path)
    paths: dict[str, Path] = {}
    with duckdb.connect(str(db_path), read_only=True) as src:
        for table in tables or sorted(layout):
            path = out_dir / f"{table}.parquet"
            src.execute(f"COPY {_ident(table)} TO '{path}' (FORMAT parquet)")
            paths[table] = path
    return paths


def pg_options(**settings: Any) -> str:
    """libpq ``options`` for server settings: ``-c name=value`` pairs."""
    return " ".join(f"-c {k}={v}" for k, v in settings.items())
