"""Benchmark the deeper analyses (issue #11 items 3-5): basket rules, survival curves, churn model.

    .venv/bin/python bench/bench_analyses2.py --scales 1 5
    .venv/bin/python bench/bench_analyses2.py --scales 1 --repeat 3 --cache-dir /data/bench

The demo warehouse for each scale is built once with ``warehouse.demo.build_demo`` into
``--cache-dir`` (file name keyed by scale, seed and a hash of ``warehouse/*.py``, like
``bench/load_test.py``). Everything runs on the locked-down ``DuckDBEngine`` (2 threads,
2 GB) through the guarded reader (``metrics.governed_reader``), warm: one untimed run,
then the best of ``--repeat``. The out-of-time evaluation and the scoring run once.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout

from metrics.basket import BasketSpec, basket_rules, category_labels_from
from metrics.churn_model import evaluate_out_of_time, labelled_features, score_customers
from metrics.governed_reader import governed_reader
from metrics.survival import survival_curves
from semantic_layer.access import allowed_schema
from semantic_layer.engine import DuckDBEngine
from semantic_layer.loader import load_catalog


def warehouse_path(scale: float, seed: int, cache_dir: Path) -> Path:
    """The demo warehouse for (scale, seed, generator source), built once in a subprocess."""
    source = hashlib.sha256(b"".join(p.read_bytes() for p in sorted((ROOT / "warehouse").glob("*.py"))))
    path = cache_dir / f"demo_scale{scale:g}_seed{seed}_{source.hexdigest()[:10]}.duckdb"
    if not path.is_file():
        cache_dir.mkdir(parents=True, exist_ok=True)
        code = f"from warehouse.demo import build_demo; print(build_demo({str(path)!r}, scale={scale!r}, seed={seed}))"
        print(f"building {path} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
    return path


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    fn()  # warm-up
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def run_scale(scale: float, seed: int, repeat: int, cache_dir: Path) -> list[tuple[str, str, float]]:
    path = warehouse_path(scale, seed, cache_dir)
    catalog = load_catalog()
    engine = DuckDBEngine(path, threads=2, memory_limit="2GB", max_execution_time_ms=300_000)
    read = governed_reader(engine, allowed_schema(catalog, engine.tables()))
    as_of = engine.as_of_date() or dt.date(2025, 12, 31)
    counts = engine.table_counts()
    print(f"\n## scale {scale:g}: {counts['orders']:,} orders, {counts['order_items']:,} order lines, "
          f"{counts['customers']:,} customers")
    labels = category_labels_from(catalog)
    rows: list[tuple[str, str, float]] = []
    cases: list[tuple[str, Callable[[], Any], Callable[[Any], str]]] = [
        ("basket: category × order (min support 1%)",
         lambda: basket_rules(read, BasketSpec(min_support=0.01), category_labels=labels),
         lambda r: f"{r.n_transactions:,} baskets, {len(r.itemsets)} itemsets, {len(r.rules)} rules"),
        ("basket: category × customer (min support 5%)",
         lambda: basket_rules(read, BasketSpec(unit="customer", min_support=0.05), category_labels=labels),
         lambda r: f"{r.n_transactions:,} customers, {len(r.itemsets)} itemsets, {len(r.rules)} rules"),
        ("basket: product × order (min support 0.05%)",
         lambda: basket_rules(read, BasketSpec(level="product", min_support=0.0005)),
         lambda r: f"{len(r.itemsets)} itemsets, {len(r.rules)} rules"),
        ("basket: product × customer (min support 1%)",
         lambda: basket_rules(read, BasketSpec(level="product", unit="customer", min_support=0.01)),
         lambda r: f"{len(r.itemsets)} itemsets, {len(r.rules)} rules kept{' (triples skipped)' if r.notes else ''}"),
        ("survival: churn by first-purchase year",
         lambda: survival_curves(read, as_of, group_by="cohort_year"),
         lambda r: f"{int(r.summary['customers'].sum()):,} customers, log-rank p={r.logrank.p_value:.2g}"),
        ("survival: second purchase by region",
         lambda: survival_curves(read, as_of, event="second_purchase", group_by="region"),
         lambda r: f"{len(r.curves):,} curve points"),
        ("churn: features + label at one cutoff (SQL) + BG/NBD fit",
         lambda: labelled_features(read, as_of - dt.timedelta(days=90)),
         lambda r: f"{len(r):,} customers"),
    ]
    for name, fn, note in cases:
        seconds, out = best(fn, repeat)
        rows.append((name, note(out), seconds))
        print(f"| {name} | {note(out)} | {seconds:.2f} |", flush=True)
    start = time.perf_counter()
    ev = evaluate_out_of_time(read, as_of)
    seconds = time.perf_counter() - start
    rows.append(("churn: out-of-time evaluation", f"{ev.n_train:,} train / {ev.n_test:,} test", seconds))
    print(f"| churn: out-of-time evaluation | {ev.n_train:,} train / {ev.n_test:,} test | {seconds:.2f} |")
    print(ev.metrics.round(4).to_string(index=False))
    start = time.perf_counter()
    scores = score_customers(read, as_of)
    seconds = time.perf_counter() - start
    print(f"| churn: score today (logistic+BG/NBD) | {len(scores):,} customers | {seconds:.2f} |")
    engine.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 5.0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "chatbi-bench")
    args = parser.parse_args()
    for scale in args.scales:
        run_scale(scale, args.seed, args.repeat, args.cache_dir)


if __name__ == "__main__":
    main()
