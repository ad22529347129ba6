"""Write the generated frames into a DuckDB file: schema, keys, comments, atomic swap.

Frames carry the contract's column names with raw encodings: DATE columns hold day
indices from season.START and DECIMAL columns hold integer cents. The SELECT that
loads each table converts them, so money is exact DECIMAL(12,2) and no Python loop
touches a row. Tables are created with CREATE TABLE AS and keyed afterwards with
ALTER TABLE ... ADD PRIMARY KEY: 12 s for 25M order lines where inserting into a
keyed table took 18 s. The file is built beside the target and swapped in with
os.replace, so readers never see a half-built warehouse.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from warehouse import season

MONEY = "DECIMAL(12,2)"


@dataclass(frozen=True)
class Table:
    """Schema of one warehouse table."""

    name: str
    columns: tuple[tuple[str, str], ...]  # (column, SQL type)
    primary_key: tuple[str, ...]
    comment: str


# fmt: off
TABLES: tuple[Table, ...] = (
    Table("customers", (
        ("customer_id", "INTEGER"), ("customer_name", "VARCHAR"), ("gender", "VARCHAR"),
        ("age", "INTEGER"), ("city", "VARCHAR"), ("region", "VARCHAR"), ("city_tier", "VARCHAR"),
        ("signup_date", "DATE"), ("acquisition_channel", "VARCHAR"),
        ("membership_tier", "VARCHAR"), ("email", "VARCHAR"), ("phone", "VARCHAR"),
    ), ("customer_id",), "One row per registered customer; age is at 2025-12-31. "
                         "customer_name, email and phone are PII."),
    Table("orders", (
        ("order_id", "INTEGER"), ("customer_id", "INTEGER"), ("order_date", "DATE"),
        ("sales_channel", "VARCHAR"), ("status", "VARCHAR"), ("amount", MONEY),
        ("discount_amount", MONEY), ("cost_amount", MONEY),
    ), ("order_id",), "One row per order, all statuses. amount is paid after discount "
                      "and equals the sum of its lines; cost_amount is the sum of "
                      "quantity × unit_cost."),
    Table("order_items", (
        ("order_id", "INTEGER"), ("line_no", "SMALLINT"), ("product_id", "INTEGER"),
        ("quantity", "INTEGER"), ("line_amount", MONEY),
    ), ("order_id", "line_no"), "Order lines (1–5 per order); line_amount is paid, "
                                "after the order's discount."),
    Table("products", (
        ("product_id", "INTEGER"), ("product_name", "VARCHAR"), ("category", "VARCHAR"),
        ("brand", "VARCHAR"), ("list_price", MONEY), ("unit_cost", MONEY),
    ), ("product_id",), "Product catalogue."),
    Table("marketing_spend", (
        ("month", "DATE"), ("acquisition_channel", "VARCHAR"), ("spend", MONEY),
    ), ("month", "acquisition_channel"), "Monthly spend per paid acquisition channel "
                                         "(month = first day); Organic has no rows."),
    Table("surveys", (
        ("survey_id", "INTEGER"), ("customer_id", "INTEGER"), ("survey_date", "DATE"),
        ("nps_score", "INTEGER"), ("satisfaction", "INTEGER"),
    ), ("survey_id",), "Post-purchase surveys: nps_score 0–10, satisfaction 1–5."),
)
# fmt: on


def write_warehouse(path: str | Path, frames: dict[str, pd.DataFrame]) -> None:
    """Build every table into `path`.tmp, then atomically replace `path`."""
    target = Path(path)
    tmp = target.with_name(target.name + ".tmp")
    _remove(tmp, Path(str(tmp) + ".wal"))
    con = duckdb.connect(str(tmp))
    try:
        for table in TABLES:
            _load(con, table, frames[table.name])
        con.execute("CHECKPOINT")
    except BaseException:
        con.close()
        _remove(tmp, Path(str(tmp) + ".wal"))
        raise
    con.close()
    _remove(Path(str(target) + ".wal"))  # a stale WAL would be replayed onto the new file
    os.replace(tmp, target)


def _load(con: duckdb.DuckDBPyConnection, table: Table, frame: pd.DataFrame) -> None:
    source = f"{table.name}__src"
    con.register(source, frame)
    select = ", ".join(f"{_convert(col, typ)} AS {col}" for col, typ in table.columns)
    con.execute(f"CREATE TABLE {table.name} AS SELECT {select} FROM {source}")
    con.unregister(source)
    con.execute(f"ALTER TABLE {table.name} ADD PRIMARY KEY ({', '.join(table.primary_key)})")
    comment = table.comment.replace("'", "''")
    con.execute(f"COMMENT ON TABLE {table.name} IS '{comment}'")


def _convert(column: str, sql_type: str) -> str:
    """SQL turning a frame's raw column into its stored type (days → DATE, cents → money)."""
    if sql_type == "DATE":
        return f"(DATE '{season.START.isoformat()}' + CAST({column} AS INTEGER))"
    if sql_type == MONEY:
        return f"CAST(CAST({column} AS DECIMAL(18,0)) * 0.01 AS {MONEY})"
    return f"CAST({column} AS {sql_type})"


def _remove(*paths: Path) -> None:
    for p in paths:
        p.unlink(missing_ok=True)
