"""Benchmark: typical questions end to end (plan + compile + guard + run) on DuckDB, PostgreSQL and Spark.

    .venv/bin/python bench/bench_engines.py --scale 5                 # ≈ 1M orders, all engines
    .venv/bin/python bench/bench_engines.py --scale 50 --engines duckdb  # ≈ 10M orders, DuckDB + pandas
    .venv/bin/python bench/bench_engines.py --db /data/w.duckdb --pg-dsn postgresql://… --engines postgres

For each question: the offline planner plans it, the compiler builds SQL for the
engine's dialect, the guard checks it in that dialect, the engine runs it
(median of ``--repeat`` warm runs after one warm-up). On DuckDB it is compared
with an independently hand-written query on a plain DuckDB connection to the
same file, and with pandas on frames preloaded with pyarrow dtypes (compute
only; the load time is printed once). The RFM model build (``customer_segments``:
3 NTILEs + segments + ABC) is timed per engine through ``Materializer``.

PostgreSQL: the warehouse is copied in with ``engines.load.copy_to_postgres``
(``--pg-dsn`` or ``$CHATBI_TEST_PG_DSN``) into a throwaway schema. Spark: the
warehouse is exported to Parquet in a temp dir and read by ``local[2]``
(``--spark-master`` for a cluster). Load times are printed, not part of the figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Callable

import duckdb
import pandas as pd

from assistant.planner import Planner
from semantic_layer.compiler import compile_query
from semantic_layer.guard import guard_sql
from semantic_layer.loader import load_catalog
from semantic_layer.materialize import Materializer

AS_OF = dt.date(2025, 12, 31)

#: question → (hand-written DuckDB SQL, pandas function over the preloaded frames)
QUESTIONS: dict[str, tuple[str, Callable[[dict[str, pd.DataFrame]], Any]]] = {
    "2025年各地区的销售额": (
        "SELECT c.region, SUM(o.amount) FROM orders o JOIN customers c USING (customer_id) "
        "WHERE o.status = 'completed' AND o.order_date BETWEEN DATE '2025-01-01' AND DATE '2025-12-31' GROUP BY 1",
        lambda f: f["orders"].query("status == 'completed' and order_date >= '2025-01-01' and order_date <= '2025-12-31'")
        .merge(f["customers"][["customer_id", "region"]], on="customer_id").groupby("region")["amount"].sum(),
    ),
    "今年每月的销售额和订单数": (
        "SELECT date_trunc('month', order_date), SUM(amount), COUNT(*) FROM orders "
        "WHERE status = 'completed' AND order_date BETWEEN DATE '2025-01-01' AND DATE '2025-12-31' GROUP BY 1",
        lambda f: (lambda o: o.groupby(o["order_date"].dt.to_period("M"))["amount"].agg(["sum", "count"]))(
            f["orders"].query("status == 'completed' and order_date >= '2025-01-01' and order_date <= '2025-12-31'")),
    ),
    "各品类的销售额": (
        "SELECT p.category, SUM(i.line_amount) FROM order_items i JOIN orders o USING (order_id) "
        "JOIN products p USING (product_id) WHERE o.status = 'completed' GROUP BY 1",
        lambda f: f["order_items"].merge(f["orders"].loc[f["orders"]["status"] == "completed", ["order_id"]], on="order_id")
        .merge(f["products"][["product_id", "category"]], on="product_id").groupby("category")["line_amount"].sum(),
    ),
    "今年各月的流失率": (
        "WITH act AS (SELECT DISTINCT customer_id, date_trunc('month', order_date) AS m FROM orders "
        "WHERE status = 'completed' AND order_date >= DATE '2024-12-01') "
        "SELECT a.m + INTERVAL 1 MONTH AS nxt, 1 - COUNT(b.customer_id) / COUNT(*) FROM act a "
        "LEFT JOIN act b ON b.customer_id = a.customer_id AND b.m = a.m + INTERVAL 1 MONTH "
        "WHERE a.m + INTERVAL 1 MONTH BETWEEN DATE '2025-01-01' AND DATE '2025-12-01' GROUP BY 1",
        lambda f: _churn_pandas(f["orders"]),
    ),
    "各地区的复购率": (
        "SELECT region, AVG(CASE WHEN n >= 2 THEN 1.0 ELSE 0 END) FROM (SELECT c.region, o.customer_id, COUNT(*) AS n "
        "FROM orders o JOIN customers c USING (customer_id) WHERE o.status = 'completed' GROUP BY 1, 2) GROUP BY 1",
        lambda f: f["orders"].loc[f["orders"]["status"] == "completed"].groupby("customer_id").size().rename("n")
        .reset_index().merge(f["customers"][["customer_id", "region"]], on="customer_id")
        .assign(rep=lambda d: d["n"] >= 2).groupby("region")["rep"].mean(),
    ),
}


def _churn_pandas(orders: pd.DataFrame) -> pd.Series:
    o = orders.loc[(orders["status"] == "completed") & (orders["order_date"] >= "2024-12-01"), ["customer_id", "order_date"]]
    act = pd.DataFrame({"customer_id": o["customer_id"], "m": o["order_date"].dt.to_period("M")}).drop_duplicates()
    nxt = act.assign(m=act["m"] + 1)
    merged = nxt.merge(act.assign(kept=True), on=["customer_id", "m"], how="left")
    merged = merged[(merged["m"] >= pd.Period("2025-01", "M")) & (merged["m"] <= pd.Period("2025-12", "M"))]
    return 1 - merged.groupby("m")["kept"].count() / merged.groupby("m").size()


def _median_ms(fn: Callable[[], Any], repeat: int) -> float:
    fn()  # warm-up
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples) * 1000


def _end_to_end(engine: Any, catalog: Any, planner: Planner, question: str) -> Callable[[], Any]:
    tables = engine.tables()

    def run() -> Any:
        plan = planner.plan(question, as_of=AS_OF)
        assert plan.status == "ok" and plan.query is not None, (question, plan.status)
        compiled = compile_query(plan.query, catalog, as_of=AS_OF, dialect=engine.dialect)
        return engine.execute(guard_sql(compiled.sql, tables, dialect=engine.dialect))

    return run


def _rfm_build(engine: Any, catalog: Any) -> Callable[[], Any]:
    materializer = Materializer(catalog, engine)
    return lambda: materializer.ensure(["customer_segments"], AS_OF, force=True)


def _pandas_frames(db: Path) -> tuple[dict[str, pd.DataFrame], float]:
    t0 = time.perf_counter()
    with duckdb.connect(str(db), read_only=True) as con:
        frames = {t: con.execute(f"SELECT * FROM {t}").df() for t in ("orders", "customers", "order_items", "products")}
    for frame in frames.values():  # numpy dates and floats, never object columns (10× slower to group)
        for col in frame.columns:
            if "date" in col:
                frame[col] = pd.to_datetime(frame[col])
            elif frame[col].dtype == object and col in ("amount", "line_amount", "cost_amount", "unit_cost"):
                frame[col] = frame[col].astype("float64")
    return frames, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=5.0, help="demo scale: 5 ≈ 1M orders, 50 ≈ 10M")
    parser.add_argument("--db", type=Path, default=None, help="reuse an existing warehouse file")
    parser.add_argument("--engines", default="duckdb,postgres,spark")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pg-dsn", default=os.environ.get("CHATBI_TEST_PG_DSN", ""))
    parser.add_argument("--spark-master", default="local[2]")
    parser.add_argument("--no-pandas", action="store_true")
    args = parser.parse_args()
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]

    from warehouse.demo import build_demo

    db = args.db
    if db is None:
        db = Path(tempfile.mkdtemp(prefix="chatbi-bench-")) / "bench.duckdb"
        stats = build_demo(db, scale=args.scale)
        print(f"demo build at scale {args.scale}: {stats.orders:,} orders in {stats.seconds:.1f}s")
    with duckdb.connect(str(db), read_only=True) as con:
        n_orders = con.execute("SELECT count(*) FROM orders").fetchone()[0]
    print(f"warehouse: {db} ({n_orders:,} orders)")
    catalog = load_catalog()
    planner = Planner(catalog)
    results: dict[str, dict[str, float]] = {}

    if "duckdb" in engines:
        from semantic_layer.engine import DuckDBEngine

        eng = DuckDBEngine(db, memory_limit="8GB", max_execution_time_ms=600_000)
        hand_con = duckdb.connect(":memory:", config={"threads": 2, "memory_limit": "8GB"})
        hand_con.execute(f"ATTACH '{db}' AS w (READ_ONLY)")
        hand_con.execute("USE w")
        frames, load_s = ({}, 0.0) if args.no_pandas else _pandas_frames(db)
        if frames:
            print(f"pandas load (pyarrow → numpy dtypes): {load_s:.1f}s")
        res: dict[str, float] = {}
        for q, (hand, pandas_fn) in QUESTIONS.items():
            res[q] = _median_ms(_end_to_end(eng, catalog, planner, q), args.repeat)
            res[q + "|hand"] = _median_ms(lambda: hand_con.execute(hand).fetchall(), args.repeat)
            if frames:
                res[q + "|pandas"] = _median_ms(lambda: pandas_fn(frames), args.repeat)
        res["RFM build"] = _median_ms(_rfm_build(eng, catalog), args.repeat)
        results["duckdb"] = res
        eng.close()
        hand_con.close()

    if "postgres" in engines:
        if not args.pg_dsn:
            raise SystemExit("--pg-dsn or CHATBI_TEST_PG_DSN is needed for PostgreSQL")
        import psycopg

        from semantic_layer.engines.load import copy_to_postgres
        from semantic_layer.engines.postgres import PostgresEngine

        schema, work = f"bench_{uuid.uuid4().hex[:6]}", f"bench_work_{uuid.uuid4().hex[:6]}"
        t0 = time.perf_counter()
        copy_to_postgres(db, args.pg_dsn, schema=schema)
        print(f"PostgreSQL load (COPY + ANALYZE): {time.perf_counter() - t0:.1f}s")
        try:
            eng = PostgresEngine(args.pg_dsn, schema=schema, work_schema=work, max_execution_time_ms=1_800_000)
            res = {q: _median_ms(_end_to_end(eng, catalog, planner, q), args.repeat) for q in QUESTIONS}
            res["RFM build"] = _median_ms(_rfm_build(eng, catalog), args.repeat)
            results["postgres"] = res
            eng.close()
        finally:
            with psycopg.connect(args.pg_dsn, autocommit=True) as con:
                con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
                con.execute(f'DROP SCHEMA IF EXISTS "{work}" CASCADE')

    if "spark" in engines:
        from semantic_layer.engines.load import export_parquet
        from semantic_layer.engines.spark import SparkEngine

        with tempfile.TemporaryDirectory(prefix="chatbi-bench-parquet-") as tmp:
            t0 = time.perf_counter()
            export_parquet(db, tmp)
            eng = SparkEngine(parquet_dir=tmp, master=args.spark_master, max_execution_time_ms=1_800_000,
                              conf={"spark.driver.memory": "6g"})
            print(f"Spark start + Parquet export: {time.perf_counter() - t0:.1f}s")
            res = {q: _median_ms(_end_to_end(eng, catalog, planner, q), args.repeat) for q in QUESTIONS}
            res["RFM build"] = _median_ms(_rfm_build(eng, catalog), args.repeat)
            results["spark"] = res
            eng.close()

    print(f"\n{n_orders:,} orders; median ms of {args.repeat} warm runs\n")
    duck = results.get("duckdb", {})
    head = "| question | DuckDB e2e | hand SQL | ratio | pandas | ratio |"
    others = [e for e in ("postgres", "spark") if e in results]
    print(head + "".join(f" {e} e2e |" for e in others))
    print("|---|" + "---:|" * (5 + len(others)))
    for q in [*QUESTIONS, "RFM build"]:
        cells = []
        if duck:
            e2e, hand, pdx = duck.get(q), duck.get(q + "|hand"), duck.get(q + "|pandas")
            cells += [f"{e2e:,.0f}" if e2e else "", f"{hand:,.0f}" if hand else "",
                      f"{e2e / hand:.2f}" if e2e and hand else "", f"{pdx:,.0f}" if pdx else "",
                      f"{e2e / pdx:.2f}" if e2e and pdx else ""]
        else:
            cells += [""] * 5
        cells += [f"{results[e][q]:,.0f}" for e in others]
        print(f"| {q} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
