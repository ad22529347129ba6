"""Benchmark: the deeper analyses asked through ``ChatBI.ask`` (issue #11), in process.

    python bench/bench_deep_ask.py --scales 1 5 [--rounds 2]

Per scale: a fresh demo warehouse, one warm-up pass (imports, RFM and churn-score models),
then the best of ``rounds`` for each question (plan + governed reads + module + compose).
Figures go into docs/customer_models.md.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

QUESTIONS = [
    "重要价值客户有什么特征",
    "客户分群画像",
    "哪些品类经常被同时购买",
    "哪些商品经常被同一客户一起买",
    "按地区的客户生存曲线",
    "客户首购后多久复购",
    "哪些客户可能流失",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 5.0])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    os.environ.setdefault("CHATBI_HOME", tempfile.mkdtemp(prefix="chatbi-bench-"))

    from assistant.service import ChatBI
    from warehouse.demo import build_demo

    print("| question | " + " | ".join(f"scale {s:g} s" for s in args.scales) + " |")
    results: dict[str, list[float]] = {q: [] for q in QUESTIONS}
    for scale in args.scales:
        db = Path(tempfile.mkdtemp()) / "bench.duckdb"
        build_demo(db, scale=scale)
        bi = ChatBI(db, llm=False, audit=False)
        for q in QUESTIONS:
            first = bi.ask(q)
            assert first.status == "ok", (q, first.message)
        for q in QUESTIONS:
            best = float("inf")
            for _ in range(args.rounds):
                started = time.perf_counter()
                bi.ask(q)
                best = min(best, time.perf_counter() - started)
            results[q].append(best)
    for q, times in results.items():
        print(f"| {q} | " + " | ".join(f"{t:.2f}" for t in times) + " |")


if __name__ == "__main__":
    main()
