"""Every DESIGN §4 metric: compiled → guarded → run on the demo warehouse,
compared as result sets with hand-written SQL that shares no code with the compiler.

Shapes: all data, by region in 2025 (by acquisition channel for spend and CAC),
by month in 2025. The hand SQL deliberately takes other routes (NOT EXISTS for
churn, an average of flags for the repeat rate) so a shared mistake is unlikely.
"""

from __future__ import annotations

import datetime as dt
import math

import pytest

from semantic_layer.compiler import compile_query
from semantic_layer.guard import guard_sql
from semantic_layer.query import SemanticQuery

AS_OF = dt.date(2025, 12, 31)
Y2025 = "BETWEEN DATE '2025-01-01' AND DATE '2025-12-31'"

#: Per shape: the grouping key written by hand, per time column.
SHAPES = {
    "alone": {"query": {}, "key": lambda col, dim: "'all'", "time": lambda col: "TRUE"},
    "by_dim": {"query": {"time": {"start": "2025-01-01", "end": "2025-12-31"}},
               "key": lambda col, dim: dim, "time": lambda col: f"{col} {Y2025}"},
    "by_month": {"query": {"time": {"grain": "month", "relative": "this_year"}},
                 "key": lambda col, dim: f"CAST(date_trunc('month', {col}) AS DATE)", "time": lambda col: f"{col} {Y2025}"},
}


def _orders_sql(value: str, status: str = "o.status = 'completed'") -> callable:
    def build(shape: str) -> str:
        s = SHAPES[shape]
        return (f"SELECT {s['key']('o.order_date', 'c.region')} AS k, {value} AS v "
                f"FROM orders o JOIN customers c ON c.customer_id = o.customer_id "
                f"WHERE {status} AND {s['time']('o.order_date')} GROUP BY 1")
    return build


def _repeat_rate(shape: str) -> str:
    s = SHAPES[shape]
    return (f"SELECT k, AVG(CASE WHEN n >= 2 THEN 1.0 ELSE 0.0 END) AS v FROM ("
            f"SELECT {s['key']('o.order_date', 'c.region')} AS k, o.customer_id, COUNT(*) AS n "
            f"FROM orders o JOIN customers c ON c.customer_id = o.customer_id "
            f"WHERE o.status = 'completed' AND {s['time']('o.order_date')} GROUP BY 1, 2) GROUP BY k")


def _new_customers_sql(shape: str) -> str:
    s = SHAPES[shape]
    return (f"SELECT {s['key']('f.first_day', 'c.region')} AS k, COUNT(*) AS v FROM "
            f"(SELECT customer_id, MIN(order_date) AS first_day FROM orders WHERE status = 'completed' GROUP BY 1) f "
            f"JOIN customers c ON c.customer_id = f.customer_id WHERE {s['time']('f.first_day')} GROUP BY 1")


def _spend_sql(shape: str) -> str:
    s = SHAPES[shape]
    return (f"SELECT {s['key']('m.month', 'm.acquisition_channel')} AS k, SUM(m.spend) AS v "
            f"FROM marketing_spend m WHERE {s['time']('m.month')} GROUP BY 1")


def _cac_sql(shape: str) -> str:
    s = SHAPES[shape]
    new = (f"SELECT {s['key']('f.first_day', 'c.acquisition_channel')} AS k, COUNT(*) AS n FROM "
           f"(SELECT customer_id, MIN(order_date) AS first_day FROM orders WHERE status = 'completed' GROUP BY 1) f "
           f"JOIN customers c ON c.customer_id = f.customer_id WHERE {s['time']('f.first_day')} GROUP BY 1")
    return (f"SELECT COALESCE(sp.k, nw.k) AS k, sp.v / nw.n AS v FROM ({_spend_sql(shape)}) sp "
            f"FULL JOIN ({new}) nw ON sp.k = nw.k")


def _churn_sql(shape: str, retention: bool = False) -> str:
    """Monthly churn with NOT EXISTS; without a grain the months in range are pooled."""
    s = SHAPES[shape]
    key = {"alone": "'all'", "by_dim": "c.region", "by_month": "nxt"}[shape]
    window = "nxt <= DATE '2025-12-01'" if shape == "alone" else "nxt BETWEEN DATE '2025-01-01' AND DATE '2025-12-01'"
    value = "1 - churned / base" if retention else "churned / base"
    return (
        "WITH act AS (SELECT DISTINCT customer_id, CAST(date_trunc('month', order_date) AS DATE) AS m "
        "FROM orders WHERE status = 'completed'), "
        "pairs AS (SELECT a.customer_id, CAST(a.m + INTERVAL 1 MONTH AS DATE) AS nxt, "
        "NOT EXISTS (SELECT 1 FROM act b WHERE b.customer_id = a.customer_id "
        "AND b.m = CAST(a.m + INTERVAL 1 MONTH AS DATE)) AS gone FROM act a) "
        f"SELECT k, {value} AS v FROM (SELECT {key} AS k, "
        "SUM(CASE WHEN gone THEN 1.0 ELSE 0 END) AS churned, COUNT(*) * 1.0 AS base "
        f"FROM pairs p JOIN customers c ON c.customer_id = p.customer_id WHERE {window} GROUP BY 1)"
    )


def _surveys_sql(value: str) -> callable:
    def build(shape: str) -> str:
        s = SHAPES[shape]
        return (f"SELECT {s['key']('s.survey_date', 'c.region')} AS k, {value} AS v FROM surveys s "
                f"JOIN customers c ON c.customer_id = s.customer_id WHERE {s['time']('s.survey_date')} GROUP BY 1")
    return build


def _customers_sql(shape: str) -> str:
    s = SHAPES[shape]
    return (f"SELECT {s['key']('c.signup_date', 'c.region')} AS k, COUNT(*) AS v FROM customers c "
            f"WHERE {s['time']('c.signup_date')} GROUP BY 1")


HAND = {
    "revenue": _orders_sql("SUM(o.amount)"),
    "order_count": _orders_sql("COUNT(*)"),
    "buyers": _orders_sql("COUNT(DISTINCT o.customer_id)"),
    "avg_order_value": _orders_sql("SUM(o.amount) / COUNT(*)"),
    "revenue_per_buyer": _orders_sql("SUM(o.amount) / COUNT(DISTINCT o.customer_id)"),
    "gross_profit": _orders_sql("SUM(o.amount - o.cost_amount)"),
    "gross_margin": _orders_sql("SUM(o.amount - o.cost_amount) / SUM(o.amount)"),
    "return_rate": _orders_sql(
        "SUM(CASE WHEN o.status = 'returned' THEN 1.0 ELSE 0 END) / COUNT(*)",
        status="o.status IN ('completed', 'returned')"),
    "customer_count": _customers_sql,
    "new_customers": _new_customers_sql,
    "marketing_spend": _spend_sql,
    "cac": _cac_sql,
    "repeat_purchase_rate": _repeat_rate,
    "churn_rate": _churn_sql,
    "retention_rate": lambda shape: _churn_sql(shape, retention=True),
    "nps": _surveys_sql("(AVG(CASE WHEN s.nps_score >= 9 THEN 1.0 ELSE 0 END) "
                        "- AVG(CASE WHEN s.nps_score <= 6 THEN 1.0 ELSE 0 END)) * 100"),
    "avg_satisfaction": _surveys_sql("AVG(s.satisfaction)"),
}

CHANNEL_METRICS = {"marketing_spend", "cac"}
CASES = [(m, shape) for m in HAND for shape in SHAPES]


def _run_compiled(metric: str, shape: str, catalog, engine) -> dict[str, float | None]:
    query = {"metrics": [metric], **SHAPES[shape]["query"]}
    if shape == "by_dim":
        query["dimensions"] = ["acquisition_channel" if metric in CHANNEL_METRICS else "region"]
    compiled = compile_query(SemanticQuery.model_validate(query), catalog, as_of=AS_OF)
    result = engine.execute(guard_sql(compiled.sql, engine.tables()))
    if shape == "alone":
        assert len(result.rows) == 1
        return {"all": result.rows[0][-1]}
    return {str(r[0]): r[-1] for r in result.rows}


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)


@pytest.mark.parametrize("metric,shape", CASES, ids=[f"{m}-{s}" for m, s in CASES])
def test_metric_matches_hand_written_sql(metric: str, shape: str, catalog, engine, raw_con) -> None:
    got = _run_compiled(metric, shape, catalog, engine)
    expected = {str(k): v for k, v in raw_con.execute(HAND[metric](shape)).fetchall()}
    assert set(got) == set(expected)
    assert len(got) >= 1
    mismatched = {k: (got[k], expected[k]) for k in expected if not _close(got[k], expected[k])}
    assert not mismatched


def test_every_design_metric_is_covered(catalog) -> None:
    design = {"revenue", "order_count", "buyers", "avg_order_value", "revenue_per_buyer", "gross_profit",
              "gross_margin", "return_rate", "customer_count", "new_customers", "marketing_spend", "cac",
              "repeat_purchase_rate", "churn_rate", "retention_rate", "nps", "avg_satisfaction"}
    assert design <= set(catalog.metrics)
    assert design == set(HAND)


def test_revenue_by_category_sums_lines_without_fan_out(catalog, engine, raw_con) -> None:
    """Lines add up to orders, so category revenue must total the order revenue exactly."""
    q = SemanticQuery(metrics=["revenue"], dimensions=["category"])
    compiled = compile_query(q, catalog, as_of=AS_OF)
    rows = engine.execute(guard_sql(compiled.sql, engine.tables())).rows
    total = raw_con.execute("SELECT SUM(amount) FROM orders WHERE status = 'completed'").fetchone()[0]
    assert math.isclose(sum(r[1] for r in rows), float(total), rel_tol=1e-12)
    assert len(rows) == 7
