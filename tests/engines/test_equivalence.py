"""The metric-equivalence suite on PostgreSQL and Spark: the same numbers as the hand SQL on DuckDB.

Each engine holds a copy of the same demo warehouse (COPY into PostgreSQL,
Parquet into Spark). The semantic query is compiled *for that engine's
dialect*, guarded in that dialect and run there; the expected values are the
hand-written check SQL of tests/semantic_layer/test_metric_equivalence.py run
on DuckDB, which already equals the DuckDB-compiled result.
"""

from __future__ import annotations

import datetime as dt
import math

import pytest

from semantic_layer.compiler import compile_query
from semantic_layer.guard import guard_sql
from semantic_layer.materialize import Materializer
from semantic_layer.query import SemanticQuery

from .conftest import AS_OF, load_test_module

EQ = load_test_module("semantic_layer/test_metric_equivalence.py")
CASES = EQ.CASES


def run(engine, query: dict, catalog, access=None):
    compiled = compile_query(SemanticQuery.model_validate(query), catalog, as_of=AS_OF, dialect=engine.dialect,
                             access=access)
    return engine.execute(guard_sql(compiled.sql, engine.tables(), dialect=engine.dialect))


def _key(value: object) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


@pytest.mark.parametrize("metric,shape", CASES, ids=[f"{m}-{s}" for m, s in CASES])
def test_metric_matches_hand_written_sql(other_engine, metric: str, shape: str, catalog, raw_con) -> None:
    query = {"metrics": [metric], **EQ.SHAPES[shape]["query"]}
    if shape == "by_dim":
        query["dimensions"] = ["acquisition_channel" if metric in EQ.CHANNEL_METRICS else "region"]
    rows = run(other_engine, query, catalog).rows
    got = {"all": rows[0][-1]} if shape == "alone" else {_key(r[0]): r[-1] for r in rows}
    expected = {_key(k): v for k, v in raw_con.execute(EQ.HAND[metric](shape)).fetchall()}
    assert set(got) == set(expected)
    mismatched = {k: (got[k], expected[k]) for k in expected if not EQ._close(got[k], expected[k])}
    assert not mismatched


def test_revenue_by_category_sums_lines(other_engine, catalog, raw_con) -> None:
    rows = run(other_engine, {"metrics": ["revenue"], "dimensions": ["category"]}, catalog).rows
    total = raw_con.execute("SELECT SUM(amount) FROM orders WHERE status = 'completed'").fetchone()[0]
    assert math.isclose(sum(r[1] for r in rows), float(total), rel_tol=1e-12)
    assert len(rows) == 7


@pytest.fixture(scope="module")
def duckdb_models(catalog, engine):
    Materializer(catalog, engine).ensure({"customer_segments", "customer_value"}, AS_OF)
    return engine


ANALYSES = [
    ("rfm", {"analysis": "rfm"}),
    ("abc", {"analysis": "abc"}),
    ("named_segments", {"metrics": ["segment_customers", "segment_revenue"], "dimensions": ["rfm_named_segment"]}),
    ("cohort", {"analysis": "cohort", "time": {"relative": "this_year"}, "filters": [{"field": "region", "values": ["East"]}]}),
    ("clv_ranking", {"analysis": "clv_ranking"}),
    ("churn_risk", {"analysis": "churn_risk", "filters": [{"field": "rfm_segment", "values": ["Important Value"]}]}),
    ("tenure", {"metrics": ["customer_count"], "dimensions": ["first_order_month"], "limit": 500}),
]


@pytest.mark.parametrize("name,query", ANALYSES, ids=[n for n, _ in ANALYSES])
def test_customer_models_match_duckdb(other_engine, name: str, query: dict, catalog, duckdb_models) -> None:
    """RFM (NTILE ties by customer id), ABC, cohorts in the engine's SQL; CLV fitted on rows pulled out."""
    Materializer(catalog, other_engine).ensure({"customer_segments", "customer_value"}, AS_OF)
    got = run(other_engine, query, catalog).rows
    want = run(duckdb_models, query, catalog).rows
    assert len(got) == len(want) > 0
    for g, w in zip(sorted(got, key=repr), sorted(want, key=repr)):
        assert len(g) == len(w)
        for a, b in zip(g, w):
            if isinstance(b, float) and a is not None:
                assert math.isclose(float(a), b, rel_tol=1e-6, abs_tol=1e-9), (name, g, w)
            else:
                assert _key(a) == _key(b), (name, g, w)
