"""Time the demo-warehouse build at several scales and print a markdown table.

    python bench/bench_demo.py                 # scales 1 and 5
    python bench/bench_demo.py --scales 1 5 50 --keep /data/bench

Each scale builds into a fresh file (a temporary directory unless --keep); the
table reports DemoStats, the wall time and the file size. Peak RSS is the process's
high-water mark so far, so read it for the largest scale run.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from warehouse.demo import build_demo  # noqa: E402

HEADER = ("scale", "customers", "orders", "order_items", "seconds", "file MB", "peak RSS MB")


def bench(scales: list[float], seed: int, directory: Path) -> list[tuple[str, ...]]:
    """One row per scale: sizes, wall seconds, file size, peak RSS."""
    rows = []
    for scale in scales:
        path = directory / f"demo_scale{scale:g}.duckdb"
        started = time.perf_counter()
        stats = build_demo(path, scale=scale, seed=seed)
        wall = time.perf_counter() - started
        rows.append((
            f"{scale:g}",
            f"{stats.customers:,}",
            f"{stats.orders:,}",
            f"{stats.order_items:,}",
            f"{wall:.1f}",
            f"{path.stat().st_size / 2**20:.0f}",
            f"{_peak_rss_mb():.0f}",
        ))  # fmt: skip
        print(f"built scale {scale:g} in {wall:.1f} s", file=sys.stderr)
    return rows


def markdown(rows: list[tuple[str, ...]]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 5.0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="build here and keep the files")
    args = parser.parse_args(argv)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        print(markdown(bench(args.scales, args.seed, args.keep)))
        return
    with tempfile.TemporaryDirectory(prefix="chatbi-bench-") as tmp:
        print(markdown(bench(args.scales, args.seed, Path(tmp))))


if __name__ == "__main__":
    main()
