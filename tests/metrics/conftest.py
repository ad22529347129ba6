"""Tiny hand-made warehouses for the basket, survival and churn-model tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest

AS_OF = dt.date(2025, 12, 31)

SCHEMA = """
CREATE TABLE customers (customer_id INTEGER PRIMARY KEY, customer_name VARCHAR, region VARCHAR,
                        acquisition_channel VARCHAR, signup_date DATE);
CREATE TABLE orders (order_id INTEGER PRIMARY KEY, customer_id INTEGER, order_date DATE, sales_channel VARCHAR,
                     status VARCHAR, amount DECIMAL(12, 2), discount_amount DECIMAL(12, 2), cost_amount DECIMAL(12, 2));
CREATE TABLE products (product_id INTEGER PRIMARY KEY, product_name VARCHAR, category VARCHAR, brand VARCHAR,
                       list_price DECIMAL(12, 2), unit_cost DECIMAL(12, 2));
CREATE TABLE order_items (order_id INTEGER, line_no SMALLINT, product_id INTEGER, quantity INTEGER,
                          line_amount DECIMAL(12, 2));
CREATE TABLE surveys (survey_id INTEGER PRIMARY KEY, customer_id INTEGER, survey_date DATE, nps_score INTEGER,
                      satisfaction INTEGER);
"""


@pytest.fixture
def tiny_warehouse(tmp_path: Path) -> Callable[..., Path]:
    """Build a warehouse file from row lists; products default to one per category A/B/C."""

    def build(*, customers: list[tuple], orders: list[tuple], items: list[tuple],
              products: list[tuple] | None = None, surveys: list[tuple] = ()) -> Path:
        path = tmp_path / f"tiny{len(list(tmp_path.iterdir()))}.duckdb"
        con = duckdb.connect(str(path))
        con.execute(SCHEMA)
        prods = products or [(1, "Alpha", "A", "x", 10, 5), (2, "Beta", "B", "x", 10, 5), (3, "Gamma", "C", "x", 10, 5)]
        con.executemany("INSERT INTO products VALUES (?, ?, ?, ?, ?, ?)", prods)
        con.executemany("INSERT INTO customers VALUES (?, ?, ?, ?, ?)", customers)
        con.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, 0, 0)", orders)
        con.executemany("INSERT INTO order_items VALUES (?, ?, ?, 1, ?)", items)
        if surveys:
            con.executemany("INSERT INTO surveys VALUES (?, ?, ?, ?, ?)", list(surveys))
        con.close()
        return path

    return build


@pytest.fixture
def open_reader() -> Iterator[Callable[[Path], Callable]]:
    """A guarded reader over a warehouse file (every table admitted), engines closed after the test."""
    from metrics.governed_reader import governed_reader
    from semantic_layer.engine import DuckDBEngine

    engines = []

    def make(path: Path) -> Callable:
        engine = DuckDBEngine(path)
        engines.append(engine)
        return governed_reader(engine, engine.tables())

    yield make
    for engine in engines:
        engine.close()
