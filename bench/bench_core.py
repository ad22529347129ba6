"""Benchmark: compile + guard time per query, and end-to-end ask time, on the demo warehouse.

    python bench/bench_core.py [--scale 1] [--repeat 200]

Prints a markdown table; figures are recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

from semantic_layer.compiler import compile_query
from semantic_layer.guard import guard_sql
from semantic_layer.loader import load_catalog
from semantic_layer.query import SemanticQuery

QUERIES = {
    "revenue by region 2025": {"metrics": ["revenue"], "dimensions": ["region"], "time": {"relative": "this_year"}},
    "revenue+margin by category": {"metrics": ["revenue", "gross_margin"], "dimensions": ["category"]},
    "CAC by channel by quarter": {"metrics": ["cac"], "dimensions": ["acquisition_channel"],
                                  "time": {"grain": "quarter", "relative": "last_year"}},
    "churn+retention by month": {"metrics": ["churn_rate", "retention_rate"], "time": {"grain": "month", "relative": "this_year"}},
    "repeat rate + NPS by region": {"metrics": ["repeat_purchase_rate", "nps"], "dimensions": ["region"]},
}


def _ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:.2f} / {sorted(samples)[int(len(samples) * 0.95) - 1] * 1000:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--db", type=Path, default=None, help="reuse an existing warehouse")
    args = parser.parse_args()

    from semantic_layer.engine import DuckDBEngine
    from warehouse.demo import build_demo

    catalog = load_catalog()
    as_of = dt.date(2025, 12, 31)
    db = args.db
    if db is None:
        db = Path(tempfile.mkdtemp()) / "bench.duckdb"
        stats = build_demo(db, scale=args.scale)
        print(f"demo build at scale {args.scale}: {stats.orders:,} orders in {stats.seconds:.2f}s")
    engine = DuckDBEngine(db)
    tables = engine.tables()
    print(f"\n| query | compile ms (median / p95) | guard ms (median / p95) | execute ms (median / p95) |")
    print("|---|---:|---:|---:|")
    for name, q in QUERIES.items():
        query = SemanticQuery.model_validate(q)
        comp, guard, run = [], [], []
        for i in range(args.repeat):
            t0 = time.perf_counter()
            compiled = compile_query(query, catalog, as_of=as_of)
            t1 = time.perf_counter()
            guarded = guard_sql(compiled.sql, tables)
            t2 = time.perf_counter()
            if i < max(5, args.repeat // 20):
                engine.execute(guarded)
                run.append(time.perf_counter() - t2)
            comp.append(t1 - t0)
            guard.append(t2 - t1)
        print(f"| {name} | {_ms(comp)} | {_ms(guard)} | {_ms(run)} |")
    engine.close()


if __name__ == "__main__":
    main()
