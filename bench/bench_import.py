"""Time ``chatbi import`` on a large messy CSV in bounded memory and print a markdown table.

    python bench/bench_import.py                          # 1M orders
    python bench/bench_import.py --rows 1000000 10000000 --memory-limit 1GB --data /data/bench

The CSVs (orders with n rows, customers with n/10 rows) are generated once by
DuckDB into ``--data`` and reused. They are messy on purpose: mixed date formats,
¥ and thousands separators, Chinese channel and region names, stray spaces,
negative and missing amounts, repeated order rows, customers registered twice.
Each import runs in a child process with DuckDB's ``memory_limit`` set, so the
peak RSS reported is the import's alone (``getrusage(RUSAGE_CHILDREN)``).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout

HEADER = ("orders", "CSV MB", "memory_limit", "threads", "seconds", "rows/s", "peak RSS MB", "clean orders",
          "quarantined", "merged customers", "reconciled")

# Order i: customer (i * 7919) mod n_customers; every 5th date in another format, every 7th amount with ¥ and commas.
ORDERS_SQL = """
COPY (
  SELECT i + 1 AS "订单编号",
         ((i * 7919) % {customers}) + 1 AS "客户编号",
         CASE i % 5 WHEN 0 THEN strftime(d, '%Y/%-m/%-d') WHEN 1 THEN strftime(d, '%Y%m%d')
                    WHEN 2 THEN strftime(d, '%Y-%m-%d %H:%M:%S') ELSE strftime(d, '%Y-%m-%d') END AS "下单时间",
         CASE i % 6 WHEN 0 THEN '线上' WHEN 1 THEN 'APP' WHEN 2 THEN '门店' WHEN 3 THEN 'Online'
                    WHEN 4 THEN ' app ' ELSE 'Store' END AS "渠道",
         CASE WHEN i % 50 = 0 THEN '已退货' WHEN i % 33 = 0 THEN 'cancelled' ELSE '已完成' END AS "订单状态",
         CASE WHEN i % 1000 = 7 THEN NULL
              WHEN i % 997 = 3 THEN '-' || printf('%.2f', a)
              WHEN i % 7 = 0 THEN '¥' || replace(printf('%,.2f', a), ' ', '')
              ELSE printf('%.2f', a) END AS "实付金额"
  FROM (SELECT i, DATE '2023-01-01' + CAST(i % 1095 AS INTEGER) AS d,
               round(20 + (hash(i) % 300000) / 100.0, 2) AS a
        FROM range({rows}) t(i))
  UNION ALL  -- the last 0.1% of rows exported twice
  SELECT i + 1, ((i * 7919) % {customers}) + 1, strftime(DATE '2025-12-31', '%Y-%m-%d'), 'Online', '已完成',
         printf('%.2f', round(20 + (hash(i) % 300000) / 100.0, 2))
  FROM range({rows} - {rows} // 1000, {rows}) t(i)
) TO '{path}' (HEADER, DELIMITER ',')
"""

CUSTOMERS_SQL = """
COPY (
  SELECT CASE WHEN i < {customers} THEN i + 1 ELSE i + 1 + 10000000 END AS "客户编号",
         CASE WHEN i % 10 = 0 THEN ' ' ELSE '' END || '客户' || (i % {customers}) AS "姓名",
         '1' || lpad(CAST(3800000000 + (i % {customers}) AS VARCHAR), 10, '0') AS "手机",
         CASE (i % {customers}) % 7 WHEN 0 THEN '华东' WHEN 1 THEN 'North' WHEN 2 THEN '华南区' WHEN 3 THEN 'central'
              WHEN 4 THEN '西南' WHEN 5 THEN '西北' ELSE '东北' END AS "地区",
         strftime(DATE '2022-06-01' + CAST(i % 900 AS INTEGER), '%Y年%-m月%-d日') AS "注册日期"
  FROM range({customers} + {customers} // 50) t(i)  -- 2% registered a second time (same phone)
) TO '{path}' (HEADER, DELIMITER ',')
"""

MAPPING = """version: 1
sources:
  - source: "{customers}"
    target: customers
    columns: {{"客户编号": customer_id, "姓名": customer_name, "手机": phone, "地区": region, "注册日期": signup_date}}
  - source: "{orders}"
    target: orders
    columns: {{"订单编号": order_id, "客户编号": customer_id, "下单时间": order_date, "渠道": sales_channel,
               "订单状态": status, "实付金额": amount}}
rules: {{latest_date: 2026-01-01}}
"""


def generate(rows: int, folder: Path) -> tuple[Path, Path]:
    """The two CSVs for ``rows`` orders, written once and reused."""
    import duckdb

    folder.mkdir(parents=True, exist_ok=True)
    orders, customers = folder / f"orders_{rows}.csv", folder / f"customers_{rows}.csv"
    n_customers = max(rows // 10, 10)
    if not orders.exists() or not customers.exists():
        started = time.perf_counter()
        con = duckdb.connect()
        con.execute(ORDERS_SQL.format(rows=rows, customers=n_customers, path=orders))
        con.execute(CUSTOMERS_SQL.format(customers=n_customers, path=customers))
        con.close()
        print(f"generated {orders.name} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return orders, customers


def run_child(mapping: Path, db: Path, memory_limit: str, threads: int) -> None:
    """The import itself (in the child process); prints the report's key numbers as JSON."""
    from ingest.mapping import load_mapping
    from ingest.pipeline import import_sources

    started = time.perf_counter()
    result = import_sources(load_mapping(mapping), db, memory_limit=memory_limit, threads=threads,
                            progress=_progress)
    rep = result.report
    orders = rep.table("orders")
    print(json.dumps({"seconds": time.perf_counter() - started, "clean": orders.clean_rows,
                      "quarantined": orders.quarantined_rows, "merged": rep.merges.get("merged", 0),
                      "reconciled": rep.reconciled}))


_last: list[tuple[str, float]] = []


def _progress(label: str, fraction: float) -> None:
    """One line per step, with the seconds the previous step took."""
    now = time.perf_counter()
    if not _last or _last[-1][0] != label:
        took = f" (previous step {now - _last[-1][1]:.1f} s)" if _last else ""
        _last.append((label, now))
        print(f"  [{fraction:4.0%}] {label}{took}", file=sys.stderr, flush=True)


def bench(rows: int, data: Path, memory_limit: str, threads: int) -> tuple[str, ...]:
    orders, customers = generate(rows, data)
    mapping = data / f"mapping_{rows}.yaml"
    mapping.write_text(MAPPING.format(customers=customers, orders=orders), encoding="utf-8")
    db = data / f"import_{rows}.duckdb"
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    out = subprocess.run([sys.executable, __file__, "--child", str(mapping), str(db), memory_limit, str(threads)],
                         check=True, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - started
    sys.stderr.write(out.stderr)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if peak <= before:
        print("warning: peak RSS not above an earlier child's; run one size per invocation", file=sys.stderr)
    return (f"{rows:,}", f"{orders.stat().st_size / 2**20:.0f}", memory_limit, str(threads), f"{wall:.1f}",
            f"{rows / wall:,.0f}", f"{peak / 1024:.0f}", f"{result['clean']:,}", f"{result['quarantined']:,}",
            f"{result['merged']:,}", "yes" if result["reconciled"] else "NO")


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        run_child(Path(argv[1]), Path(argv[2]), argv[3], int(argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--memory-limit", default="1GB")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--data", type=Path, default=Path("/tmp/chatbi-bench-import"))
    args = parser.parse_args(argv)
    rows = [bench(n, args.data, args.memory_limit, args.threads) for n in args.rows]
    print("| " + " | ".join(HEADER) + " |")
    print("|" + "---|" * len(HEADER))
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
