"""Benchmark the RFM/ABC model against hand-written DuckDB and pandas, and the CLV build.

    .venv/bin/python bench/bench_rfm.py --scales 5 50
    .venv/bin/python bench/bench_rfm.py --scales 1 --repeat 5 --keep /data/bench

For each scale the demo warehouse is built into a fresh file (a temporary
directory unless --keep), then, in the same run:

RFM (8 segments + 3 NTILE quintile scores + 11 named segments + ABC), best of
``--repeat`` warm runs (one untimed warm-up first), same threads and memory
limit everywhere:

- ours: ``Materializer.ensure(["customer_segments"], as_of, force=True)`` on the
  locked-down ``DuckDBEngine`` (the catalog's SQL, CREATE TABLE in the workspace);
- hand SQL: an independently written query, CREATE TABLE AS on a plain in-memory
  DuckDB connection with the warehouse ATTACHed read-only;
- pandas: completed orders of the window loaded as numpy arrays (datetime64 dates,
  float amounts; no object dtypes), then groupby + rank/NTILE + cumsum. Reported
  compute-only and load + compute.

All three results are compared per customer (segment, scores, named segment, ABC).

CLV (``customer_value``: BG/NBD + Gamma-Gamma): one untraced
``Materializer.ensure(["customer_value"], as_of, force=True)``, then the summary
SQL (through the model's guarded reader) and the fit + score (``build`` on the
prefetched summary) timed untraced and again under ``tracemalloc`` for the peak
of Python/numpy allocations (DuckDB's own memory is not seen by tracemalloc).
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any, Callable

import duckdb
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from metrics.customer_value import SUMMARY_SQL, build  # noqa: E402
from semantic_layer.engine import DuckDBEngine  # noqa: E402
from semantic_layer.guard import guard_sql  # noqa: E402
from semantic_layer.loader import load_catalog  # noqa: E402
from semantic_layer.materialize import Materializer  # noqa: E402
from warehouse.demo import build_demo  # noqa: E402

THREADS = 2
MEMORY_LIMIT = "2GB"  # the engine's default

SEGMENTS = [  # index = 4*r_high + 2*f_high + m_high
    "General Win-back", "Important Win-back", "General Retention", "Important Retention",
    "General Development", "Important Development", "General Value", "Important Value",
]
NAMED = [  # index = 5*(r_score-1) + (f_score-1)
    "Lost", "Hibernating", "At Risk", "At Risk", "Cannot Lose Them",
    "Hibernating", "Hibernating", "At Risk", "At Risk", "Cannot Lose Them",
    "About To Sleep", "About To Sleep", "Need Attention", "Loyal Customers", "Loyal Customers",
    "Promising", "Potential Loyalists", "Potential Loyalists", "Loyal Customers", "Loyal Customers",
    "Recent Customers", "Potential Loyalists", "Potential Loyalists", "Champions", "Champions",
]


def _sql_list(values: list[str]) -> str:
    return "[" + ", ".join("'" + v + "'" for v in values) + "]"


HAND_SQL = """
CREATE OR REPLACE TABLE rfm_hand AS
WITH base AS (
  SELECT customer_id,
    date_diff('day', max(order_date), DATE '{as_of}') AS recency_days,
    count(*) AS frequency,
    sum(amount) AS monetary
  FROM wh.orders
  WHERE status = 'completed' AND order_date > DATE '{as_of}' - 365 AND order_date <= DATE '{as_of}'
  GROUP BY customer_id
), means AS (
  SELECT avg(recency_days) AS r_mean, avg(frequency) AS f_mean, avg(monetary) AS m_mean, sum(monetary) AS total
  FROM base
), scored AS (
  SELECT customer_id, recency_days, frequency, monetary,
    4 * (recency_days < r_mean)::INT + 2 * (frequency > f_mean)::INT + (monetary > m_mean)::INT AS seg,
    ntile(5) OVER (ORDER BY recency_days DESC, customer_id) AS r_score,
    ntile(5) OVER (ORDER BY frequency, customer_id) AS f_score,
    ntile(5) OVER (ORDER BY monetary, customer_id) AS m_score,
    sum(monetary) OVER (ORDER BY monetary DESC, customer_id ROWS UNBOUNDED PRECEDING) / total AS cumulative_share
  FROM base, means
)
SELECT customer_id, recency_days, frequency, monetary, r_score, f_score, m_score,
  {segments}[seg + 1] AS rfm_segment,
  {named}[5 * (r_score - 1) + f_score] AS rfm_named_segment,
  CASE WHEN cumulative_share <= 0.8 THEN 'A' WHEN cumulative_share <= 0.95 THEN 'B' ELSE 'C' END AS abc_class
FROM scored
""".replace("{segments}", _sql_list(SEGMENTS)).replace("{named}", _sql_list(NAMED))

LOAD_SQL = """
SELECT customer_id, order_date, amount::DOUBLE AS amount
FROM wh.orders
WHERE status = 'completed' AND order_date > DATE '{as_of}' - 365 AND order_date <= DATE '{as_of}'
"""

COMPARE = ["customer_id", "r_score", "f_score", "m_score", "rfm_segment", "rfm_named_segment", "abc_class"]


# --- the three implementations ----------------------------------------------------------------------


def ours(mat: Materializer, as_of: dt.date) -> None:
    built = mat.ensure(["customer_segments"], as_of, force=True)
    assert built == ["customer_segments"], built


def hand_sql(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> None:
    con.execute(HAND_SQL.format(as_of=as_of.isoformat()))


def pandas_load(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> dict[str, np.ndarray]:
    return con.execute(LOAD_SQL.format(as_of=as_of.isoformat())).fetchnumpy()


def _ntile(rank: np.ndarray, n: int) -> np.ndarray:
    """SQL NTILE(5) from 1-based positions: the first n % 5 tiles hold one extra row."""
    q, r = divmod(n, 5)
    pos = rank - 1
    big = r * (q + 1)
    return np.where(pos < big, pos // (q + 1), r + (pos - big) // max(q, 1)) + 1


def pandas_rfm(cols: dict[str, np.ndarray], as_of: dt.date) -> pd.DataFrame:
    df = pd.DataFrame({"customer_id": cols["customer_id"], "order_date": cols["order_date"],
                       "cents": np.rint(cols["amount"] * 100).astype(np.int64)})
    agg = df.groupby("customer_id", sort=True).agg(
        last=("order_date", "max"), frequency=("order_date", "size"), cents=("cents", "sum"))
    n = len(agg)
    rec = (pd.Timestamp(as_of) - agg["last"]).dt.days.to_numpy(np.int64)
    freq = agg["frequency"].to_numpy(np.int64)
    cents = agg["cents"].to_numpy(np.int64)
    seg = 4 * (rec < rec.mean()) + 2 * (freq > freq.mean()) + (cents > cents.mean())
    # rank(method="first") breaks ties in row order, which is customer_id order here
    r_score = _ntile(pd.Series(-rec).rank(method="first").to_numpy(np.int64), n)
    f_score = _ntile(pd.Series(freq).rank(method="first").to_numpy(np.int64), n)
    m_score = _ntile(pd.Series(cents).rank(method="first").to_numpy(np.int64), n)
    order = np.argsort(-cents, kind="stable")  # revenue desc, ties keep customer_id order
    cum = np.empty(n, dtype=np.int64)
    cum[order] = np.cumsum(cents[order])
    total = cents.sum()
    out = pd.DataFrame({
        "customer_id": agg.index.to_numpy(),
        "recency_days": rec, "frequency": freq, "monetary": cents / 100,
        "r_score": r_score, "f_score": f_score, "m_score": m_score,
        "rfm_segment": np.asarray(SEGMENTS, dtype=object)[seg],
        "rfm_named_segment": np.asarray(NAMED, dtype=object)[5 * (r_score - 1) + f_score - 1],
        "abc_class": np.where(cum * 100 <= total * 80, "A", np.where(cum * 100 <= total * 95, "B", "C")),
    })
    return out


# --- timing helpers -----------------------------------------------------------------------------------


def best_of(fn: Callable[[], Any], repeat: int) -> tuple[Any, float]:
    fn()  # warm-up
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return result, best


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def traced_peak_mb(fn: Callable[[], Any]) -> float:
    tracemalloc.start()
    try:
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


def _canon(df: pd.DataFrame) -> pd.DataFrame:
    df = df.loc[:, COMPARE].sort_values("customer_id", ignore_index=True)
    for col in ("customer_id", "r_score", "f_score", "m_score"):
        df[col] = df[col].to_numpy(np.int64)
    for col in ("rfm_segment", "rfm_named_segment", "abc_class"):
        df[col] = df[col].astype(object)
    return df


def mismatches(a: pd.DataFrame, b: pd.DataFrame) -> int:
    """Customers whose row differs (or who are missing on one side)."""
    a, b = _canon(a), _canon(b)
    if len(a) != len(b) or not (a["customer_id"].to_numpy() == b["customer_id"].to_numpy()).all():
        return abs(len(a) - len(b)) + len(set(a["customer_id"]) ^ set(b["customer_id"]))
    diff = np.zeros(len(a), dtype=bool)
    for col in COMPARE[1:]:
        diff |= a[col].to_numpy() != b[col].to_numpy()
    return int(diff.sum())


# --- one scale ---------------------------------------------------------------------------------------


def bench_scale(scale: float, seed: int, directory: Path, repeat: int, clv: bool,
                keep: bool = False) -> tuple[dict, dict | None]:
    path = directory / f"demo_scale{scale:g}.duckdb"
    stats, build_s = timed(lambda: build_demo(path, scale=scale, seed=seed))
    log(f"scale {scale:g}: built {stats.orders:,} orders in {build_s:.1f} s")

    catalog = load_catalog()
    engine = DuckDBEngine(path, threads=THREADS, memory_limit=MEMORY_LIMIT, max_execution_time_ms=600_000)
    plain = duckdb.connect(":memory:", config={"threads": THREADS, "memory_limit": MEMORY_LIMIT})
    try:
        plain.execute(f"ATTACH '{path}' AS wh (READ_ONLY)")
        as_of = engine.as_of_date()
        assert as_of is not None
        mat = Materializer(catalog, engine)

        _, ours_s = best_of(lambda: ours(mat, as_of), repeat)
        log(f"  ours {ours_s:.3f} s")
        _, hand_s = best_of(lambda: hand_sql(plain, as_of), repeat)
        log(f"  hand SQL {hand_s:.3f} s")
        cols, load_s = best_of(lambda: pandas_load(plain, as_of), repeat)
        window_orders = len(cols["customer_id"])
        pdf, pandas_s = best_of(lambda: pandas_rfm(cols, as_of), repeat)
        log(f"  pandas load {load_s:.3f} s, compute {pandas_s:.3f} s")

        ours_df = engine.dataframe(guard_sql(f"SELECT {', '.join(COMPARE)} FROM customer_segments",
                                             engine.tables(), max_rows=100_000_000))
        hand_df = plain.execute(f"SELECT {', '.join(COMPARE)} FROM rfm_hand").df()
        diff_hand, diff_pandas = mismatches(ours_df, hand_df), mismatches(ours_df, pdf)
        del cols

        rfm = {
            "scale": f"{scale:g}",
            "orders": stats.orders,
            "window_orders": window_orders,
            "customers": len(ours_df),
            "ours": ours_s,
            "hand": hand_s,
            "pandas": pandas_s,
            "pandas_load": load_s + pandas_s,
            "mismatch": f"{diff_hand} / {diff_pandas}",
        }

        clv_row = None
        if clv:
            clv_row = bench_clv(mat, as_of, catalog)
            clv_row["scale"] = f"{scale:g}"
        return rfm, clv_row
    finally:
        plain.close()
        engine.close()
        if not keep:  # the scale-50 file is ~1 GB: free the disk before the next scale
            path.unlink(missing_ok=True)
            Path(str(path) + ".wal").unlink(missing_ok=True)


def bench_clv(mat: Materializer, as_of: dt.date, catalog) -> dict:
    params = dict(catalog.model("customer_value").source.params)
    _, total_s = timed(lambda: mat.ensure(["customer_value"], as_of, force=True))
    read = mat._reader(["orders"])  # the same guarded reader the build uses
    sql = SUMMARY_SQL.format(as_of=as_of.isoformat())
    frame, summary_s = timed(lambda: read(sql))
    out, fit_s = timed(lambda: build(lambda _sql: frame, as_of, params))
    summary_mb = traced_peak_mb(lambda: read(sql))
    fit_mb = traced_peak_mb(lambda: build(lambda _sql: frame, as_of, params))
    log(f"  CLV ensure {total_s:.2f} s (summary {summary_s:.2f} s, fit+score {fit_s:.2f} s)")
    return {
        "customers": len(out),
        "repeat": int((frame["repeat_days"] > 0).sum()),
        "total": total_s,
        "summary": summary_s,
        "fit": fit_s,
        "summary_mb": summary_mb,
        "fit_mb": fit_mb,
    }


# --- output ----------------------------------------------------------------------------------------


def rfm_table(rows: list[dict]) -> str:
    head = ("scale", "orders", "completed orders in window", "customers in window", "ours s", "hand SQL s",
            "ours / hand", "pandas s (compute)", "pandas s (load+compute)",
            "speed-up vs pandas (compute / load+compute)", "mismatches vs hand / pandas")
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 2) + "---|"]
    for r in rows:
        lines.append("| " + " | ".join([
            r["scale"], f"{r['orders']:,}", f"{r['window_orders']:,}", f"{r['customers']:,}",
            f"{r['ours']:.3f}", f"{r['hand']:.3f}", f"{r['ours'] / r['hand']:.2f}×",
            f"{r['pandas']:.3f}", f"{r['pandas_load']:.3f}",
            f"{r['pandas'] / r['ours']:.1f}× / {r['pandas_load'] / r['ours']:.1f}×", r["mismatch"],
        ]) + " |")
    return "\n".join(lines)


def clv_table(rows: list[dict]) -> str:
    head = ("scale", "customers", "repeat buyers", "ensure s (total)", "summary SQL s", "fit + score s",
            "peak MB summary", "peak MB fit + score")
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for r in rows:
        lines.append("| " + " | ".join([
            r["scale"], f"{r['customers']:,}", f"{r['repeat']:,}", f"{r['total']:.2f}", f"{r['summary']:.2f}",
            f"{r['fit']:.2f}", f"{r['summary_mb']:.0f}", f"{r['fit_mb']:.0f}",
        ]) + " |")
    return "\n".join(lines)


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[5.0, 50.0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per implementation (best is kept)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="build the warehouses here instead of a temporary directory")
    parser.add_argument("--no-clv", action="store_true", help="skip the customer_value (CLV) timings")
    args = parser.parse_args(argv)

    rfm_rows, clv_rows = [], []
    with tempfile.TemporaryDirectory(prefix="bench-rfm-") as tmp:
        directory = args.keep or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        for scale in args.scales:
            rfm, clv = bench_scale(scale, args.seed, directory, args.repeat, not args.no_clv, keep=bool(args.keep))
            rfm_rows.append(rfm)
            if clv:
                clv_rows.append(clv)
    print(f"RFM + ABC (best of {args.repeat} warm runs, {THREADS} threads, memory_limit {MEMORY_LIMIT})\n")
    print(rfm_table(rfm_rows))
    if clv_rows:
        print("\nCLV model build (customer_value; tracemalloc peak of Python/numpy allocations)\n")
        print(clv_table(clv_rows))
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nprocess peak RSS {peak_rss:,.0f} MB")


if __name__ == "__main__":
    main()
