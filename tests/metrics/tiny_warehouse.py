"""Tiny DuckDB warehouses with hand-known values for the analytics tests (profiles, clusters, tracking)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

SCHEMA = """
CREATE TABLE customers (customer_id INTEGER PRIMARY KEY, customer_name VARCHAR, gender VARCHAR, age INTEGER,
  city VARCHAR, region VARCHAR, city_tier VARCHAR, signup_date DATE, acquisition_channel VARCHAR,
  membership_tier VARCHAR, email VARCHAR, phone VARCHAR);
CREATE TABLE orders (order_id INTEGER PRIMARY KEY, customer_id INTEGER, order_date DATE, sales_channel VARCHAR,
  status VARCHAR, amount DECIMAL(12,2), discount_amount DECIMAL(12,2), cost_amount DECIMAL(12,2));
CREATE TABLE order_items (order_id INTEGER, line_no SMALLINT, product_id INTEGER, quantity INTEGER,
  line_amount DECIMAL(12,2), PRIMARY KEY (order_id, line_no));
CREATE TABLE products (product_id INTEGER PRIMARY KEY, product_name VARCHAR, category VARCHAR, brand VARCHAR,
  list_price DECIMAL(12,2), unit_cost DECIMAL(12,2));
CREATE TABLE surveys (survey_id INTEGER PRIMARY KEY, customer_id INTEGER, survey_date DATE, nps_score INTEGER,
  satisfaction INTEGER);
CREATE TABLE marketing_spend (month DATE, acquisition_channel VARCHAR, spend DECIMAL(12,2));
"""

PRODUCTS = {1: "Apparel", 2: "Baby", 3: "Electronics"}


@dataclass
class Tiny:
    """Rows to write; ``order`` adds a one-line order (line amount = order amount)."""

    customers: list[tuple] = field(default_factory=list)
    orders: list[tuple] = field(default_factory=list)
    surveys: list[tuple] = field(default_factory=list)

    def customer(self, cid: int, *, tier: str = "Regular", region: str = "East", gender: str = "Female",
                 age: int = 30, channel: str = "Organic", signup: dt.date = dt.date(2023, 1, 1),
                 city: str = "Shanghai", city_tier: str = "Tier 1") -> None:
        self.customers.append((cid, f"客户{cid}", gender, age, city, region, city_tier, signup, channel, tier,
                               f"c{cid}@example.com", f"1380000{cid:04d}"))

    def order(self, cid: int, day: dt.date, amount: float, *, channel: str = "App", status: str = "completed",
              product: int = 1) -> None:
        self.orders.append((len(self.orders) + 1, cid, day, channel, status, amount, 0, amount / 2, product))

    def survey(self, cid: int, score: int, day: dt.date = dt.date(2025, 6, 1)) -> None:
        self.surveys.append((len(self.surveys) + 1, cid, day, score, 4))

    def write(self, path: Path) -> Path:
        con = duckdb.connect(str(path))
        con.execute(SCHEMA)
        con.executemany("INSERT INTO products VALUES (?, ?, ?, 'B', 10, 5)",
                        [(pid, f"p{pid}", cat) for pid, cat in PRODUCTS.items()])
        if self.customers:
            con.executemany("INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", self.customers)
        if self.orders:
            con.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [o[:8] for o in self.orders])
            con.executemany("INSERT INTO order_items VALUES (?, 1, ?, 1, ?)",
                            [(o[0], o[8], o[5]) for o in self.orders])
        if self.surveys:
            con.executemany("INSERT INTO surveys VALUES (?, ?, ?, ?, ?)", self.surveys)
        con.close()
        return path
