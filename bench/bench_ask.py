"""Benchmark: end-to-end ``ChatBI.ask`` (plan + compile + guard + execute + compose), in process.

    python bench/bench_ask.py [--scale 1] [--suite tests/eval/suite.yaml] [--rounds 3]

Asks every first-turn question of the suite on a fresh demo warehouse (after one
warm-up pass that also materialises the customer models) and prints the median,
p95 and max latency per status. Figures are recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import yaml


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--suite", type=Path, default=Path("tests/eval/suite.yaml"))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from assistant.service import ChatBI
    from warehouse.demo import build_demo

    db = Path(tempfile.mkdtemp()) / "bench.duckdb"
    build_demo(db, scale=args.scale)
    cases = yaml.safe_load(args.suite.read_text(encoding="utf-8"))["cases"]
    questions = [c.get("question") or c["turns"][0]["question"] for c in cases]
    bi = ChatBI(db)
    for q in questions:  # warm-up: imports, catalog caches, customer models
        bi.ask(q)
    timings: dict[str, list[float]] = {}
    for _ in range(args.rounds):
        for q in questions:
            t0 = time.perf_counter()
            answer = bi.ask(q)
            timings.setdefault(answer.status, []).append((time.perf_counter() - t0) * 1000)
    every = [t for ts in timings.values() for t in ts]
    print(f"scale {args.scale}, {len(questions)} questions x {args.rounds} rounds\n")
    print("| status | n | median ms | p95 ms | max ms |")
    print("|---|---:|---:|---:|---:|")
    for status, ts in sorted(timings.items()) + [("all", every)]:
        ts = sorted(ts)
        print(f"| {status} | {len(ts)} | {statistics.median(ts):.1f} | {ts[int(len(ts) * 0.95) - 1]:.1f} | {ts[-1]:.1f} |")


if __name__ == "__main__":
    main()
