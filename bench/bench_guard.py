"""Benchmark: guard latency on the test corpora (admitted and refused queries).

    python bench/bench_guard.py [--repeat 50]

Needs no warehouse: the guard only parses, checks and renders. Prints a markdown
table of median / p95 milliseconds per corpus.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import yaml

from semantic_layer.errors import GuardError
from semantic_layer.guard import guard_sql

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "guard"
SCHEMA = {
    "customers": ["customer_id", "customer_name", "region", "city", "signup_date"],
    "orders": ["order_id", "customer_id", "order_date", "sales_channel", "status", "amount", "cost_amount"],
}


def _time(sqls: list[str], repeat: int) -> list[float]:
    samples: list[float] = []
    for _ in range(repeat):
        for sql in sqls:
            start = time.perf_counter()
            try:
                guard_sql(sql, SCHEMA)
            except GuardError:
                pass
            samples.append(time.perf_counter() - start)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    print("| corpus | queries | guard ms (median / p95) |")
    print("|---|---:|---:|")
    for name in ("legit", "attacks"):
        cases = yaml.safe_load((CORPUS / f"{name}.yaml").read_text(encoding="utf-8"))
        sqls = [c["sql"].replace("{tmp}", "/tmp") for c in cases]
        samples = sorted(_time(sqls, args.repeat))
        p95 = samples[int(len(samples) * 0.95) - 1]
        print(f"| {name} | {len(sqls)} | {statistics.median(samples) * 1000:.2f} / {p95 * 1000:.2f} |")


if __name__ == "__main__":
    main()
