"""Per-customer feature table for profiles, clustering and segment tracking, computed in SQL.

Every query here is plain DuckDB SQL over catalog tables (``customers``,
``orders``, ``order_items``, ``products``, ``surveys`` and, when the engine has
it, the materialised ``customer_segments``) and reaches the warehouse only as
``GuardedSQL`` through ``engine.dataframe`` — the same wall user queries pass.

Access. ``governed_sql`` swaps each catalog table for the compiler's own source
(``semantic_layer.expressions.Scope.source``): with a viewer's ``Access`` a
protected table becomes ``(SELECT * FROM orders WHERE <row grants>) AS o`` and a
PII table its masked view, exactly as in a compiled answer. A governed caller
(``ChatBI``) therefore passes ``catalog``, ``access_for(user)`` and the guard
schema for that viewer (``bi.schema`` without PII rights); rows outside the
grants never leave DuckDB. Without ``access`` the tables are read as they are
(an unrestricted, trusted caller) and the guard schema alone bounds what is read.

Feature definitions (as of the as-of date, "completed" = ``status = 'completed'``):

- demographics: gender, age, age_band (the catalog's bands), region, city,
  city_tier, membership_tier, acquisition_channel; tenure_days from signup;
- behaviour over every completed order up to the as-of date: orders, revenue,
  aov = revenue / orders, first/last order date, recency_days (days since the
  last order), first_order_days (days since the first);
- last 365 days (the RFM window): orders_365, revenue_365; churned = last
  order ≥ ``churn_days`` (180) ago, like ``customer_value.churn_status``;
- NPS inputs: survey responses, promoters (9–10), detractors (0–6) up to the
  as-of date — a segment's NPS is (promoters − detractors) / responses × 100;
- mix: ``cat_<category>`` = share of the customer's completed line revenue per
  product category, ``ch_<channel>`` = share of their completed orders per sales
  channel, plus ``top_category`` / ``top_channel`` (largest share, ties by name);
- rfm_segment (the catalog's 8-class RFM) when ``customer_segments`` is in the schema.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Mapping
from typing import Any, Protocol

import pandas as pd
from sqlglot import exp

from semantic_layer.catalog import Catalog
from semantic_layer.expressions import date_literal, parse_snippet
from semantic_layer.guard import GuardedSQL, guard_sql
from semantic_layer.policy import Access

from .governed_reader import apply_row_rules

#: Analytics read whole customer bases, not answer tables: the guard's cap is set far above them.
MAX_ROWS = 50_000_000
CHURN_DAYS = 180  # metrics/catalog/models/customer_value.yaml params.churn_days
AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55+")


class Engine(Protocol):
    dialect: str

    def dataframe(self, guarded: GuardedSQL) -> pd.DataFrame: ...


BASE_SQL = """
WITH done AS (
  SELECT o.order_id, o.customer_id, o.order_date, o.amount
  FROM orders AS o
  WHERE o.status = 'completed' AND o.order_date <= $as_of
), bought AS (
  SELECT customer_id, COUNT(*) AS orders, SUM(amount) AS revenue,
    MIN(order_date) AS first_order_date, MAX(order_date) AS last_order_date,
    COUNT(*) FILTER (WHERE order_date > $as_of - INTERVAL 365 DAY) AS orders_365,
    COALESCE(SUM(amount) FILTER (WHERE order_date > $as_of - INTERVAL 365 DAY), 0) AS revenue_365
  FROM done GROUP BY customer_id
), votes AS (
  SELECT s.customer_id, COUNT(*) AS survey_responses,
    COUNT(*) FILTER (WHERE s.nps_score >= 9) AS promoters,
    COUNT(*) FILTER (WHERE s.nps_score <= 6) AS detractors
  FROM surveys AS s WHERE s.survey_date <= $as_of GROUP BY s.customer_id
)
SELECT c.customer_id, c.gender, c.age,
  CASE WHEN c.age < 25 THEN '18-24' WHEN c.age < 35 THEN '25-34'
    WHEN c.age < 45 THEN '35-44' WHEN c.age < 55 THEN '45-54' ELSE '55+' END AS age_band,
  c.region, c.city, c.city_tier, c.membership_tier, c.acquisition_channel,
  date_diff('day', c.signup_date, $as_of) AS tenure_days,
  COALESCE(b.orders, 0) AS orders, COALESCE(b.revenue, 0) AS revenue,
  b.first_order_date, b.last_order_date,
  date_diff('day', b.last_order_date, $as_of) AS recency_days,
  date_diff('day', b.first_order_date, $as_of) AS first_order_days,
  COALESCE(b.orders_365, 0) AS orders_365, COALESCE(b.revenue_365, 0) AS revenue_365,
  COALESCE(v.survey_responses, 0) AS survey_responses, COALESCE(v.promoters, 0) AS promoters,
  COALESCE(v.detractors, 0) AS detractors
FROM customers AS c
LEFT JOIN bought AS b ON b.customer_id = c.customer_id
LEFT JOIN votes AS v ON v.customer_id = c.customer_id
ORDER BY c.customer_id
"""

SEGMENT_SQL = "SELECT seg.customer_id, seg.rfm_segment FROM customer_segments AS seg"

CATEGORY_SQL = """
SELECT o.customer_id, p.category, SUM(i.line_amount) AS amount
FROM orders AS o
JOIN order_items AS i ON i.order_id = o.order_id
JOIN products AS p ON p.product_id = i.product_id
WHERE o.status = 'completed' AND o.order_date <= $as_of
GROUP BY o.customer_id, p.category
"""

CHANNEL_SQL = """
SELECT o.customer_id, o.sales_channel, COUNT(*) AS n
FROM orders AS o
WHERE o.status = 'completed' AND o.order_date <= $as_of
GROUP BY o.customer_id, o.sales_channel
"""


def governed_sql(sql: str, dates: Mapping[str, dt.date], *, catalog: Catalog | None = None,
                 access: Access | None = None, dialect: str = "duckdb") -> str:
    """``sql`` with ``$name`` placeholders as DATE literals and catalog tables as the viewer's sources.

    Table references that are not CTE names and belong to a catalog model are
    replaced by ``Scope.source`` (row grants, PII masking), keeping their alias.

    >>> governed_sql("SELECT o.amount FROM orders AS o WHERE o.order_date <= $as_of", {"as_of": dt.date(2025, 1, 31)})
    "SELECT o.amount FROM orders AS o WHERE o.order_date <= CAST('2025-01-31' AS DATE)"
    """
    tree = parse_snippet(sql)

    def placeholder(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Placeholder):
            if node.name not in dates:
                raise KeyError(f"no date given for ${node.name}")
            return date_literal(dates[node.name])
        return node

    tree = tree.transform(placeholder)
    if catalog is not None:
        as_of = dates.get("as_of") or next(iter(dates.values()))
        return apply_row_rules(tree, catalog, access, as_of, dialect=dialect)
    return tree.sql(dialect=dialect)


def read(engine: Engine, schema: Mapping[str, Collection[str]], sql: str, dates: Mapping[str, dt.date], *,
         catalog: Catalog | None = None, access: Access | None = None, max_rows: int = MAX_ROWS) -> pd.DataFrame:
    """Govern, guard and run one query: the only way this package reads the warehouse."""
    dialect = getattr(engine, "dialect", "duckdb")
    text = governed_sql(sql, dates, catalog=catalog, access=access, dialect=dialect)
    return engine.dataframe(guard_sql(text, schema, max_rows=max_rows, dialect=dialect))


def slug(value: object) -> str:
    """A column-name-safe form of a category or channel value.

    >>> slug("Search Ads"), slug("Tier 1")
    ('search_ads', 'tier_1')
    """
    text = re.sub(r"[^a-z0-9]+", "_", str(value).lower()).strip("_")
    return text or "x"


def customer_features(engine: Engine, schema: Mapping[str, Collection[str]], as_of: dt.date, *,
                      catalog: Catalog | None = None, access: Access | None = None,
                      churn_days: int = CHURN_DAYS) -> pd.DataFrame:
    """One row per customer the viewer may see, ordered by customer id (see the module docstring)."""
    dates = {"as_of": as_of}
    kw: dict[str, Any] = {"catalog": catalog, "access": access}
    base = read(engine, schema, BASE_SQL, dates, **kw)
    for col in ("revenue", "revenue_365"):
        base[col] = base[col].astype("float64")
    for col in ("orders", "orders_365", "survey_responses", "promoters", "detractors", "tenure_days"):
        base[col] = base[col].astype("int64")
    for col in ("recency_days", "first_order_days"):  # NaN for customers without a completed order
        base[col] = base[col].astype("float64")
    base["aov"] = base["revenue"] / base["orders"].where(base["orders"] > 0)
    base["churned"] = (base["recency_days"] >= churn_days).to_numpy(dtype=bool)
    if "customer_segments" in {t.lower() for t in schema}:
        seg = read(engine, schema, SEGMENT_SQL, dates, **kw)
        base = base.merge(seg, on="customer_id", how="left")
    base = _add_mix(base, read(engine, schema, CATEGORY_SQL, dates, **kw), "category", "amount", "cat_",
                    "top_category")
    base = _add_mix(base, read(engine, schema, CHANNEL_SQL, dates, **kw), "sales_channel", "n", "ch_",
                    "top_channel")
    return base.reset_index(drop=True)


def _add_mix(base: pd.DataFrame, long: pd.DataFrame, key: str, value: str, prefix: str, top: str) -> pd.DataFrame:
    """Pivot (customer, key, value) into per-customer shares and the key with the largest share."""
    long = long.dropna(subset=[key])
    wide = long.pivot_table(index="customer_id", columns=key, values=value, aggfunc="sum", fill_value=0)
    wide = wide.astype("float64").reindex(sorted(wide.columns), axis=1)
    totals = wide.sum(axis=1)
    shares = wide.div(totals.where(totals > 0), axis=0).fillna(0.0)
    top_values = shares.idxmax(axis=1).where(totals > 0) if len(shares.columns) else pd.Series(dtype=object)
    shares.columns = [prefix + slug(c) for c in shares.columns]
    shares[top] = top_values
    out = base.merge(shares, left_on="customer_id", right_index=True, how="left")
    share_cols = [c for c in shares.columns if c != top]
    out[share_cols] = out[share_cols].fillna(0.0)
    return out


def mix_columns(features: pd.DataFrame, prefix: str) -> list[str]:
    """The share columns of one mix (``cat_`` or ``ch_``) in a feature table."""
    return [c for c in features.columns if c.startswith(prefix)]
