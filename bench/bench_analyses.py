"""Benchmark the customer analyses of issue #11: features, profiles, clustering, tracking.

    .venv/bin/python bench/bench_analyses.py --scales 1 5
    .venv/bin/python bench/bench_analyses.py --scales 5 --cache-dir /data/bench

Each scale's demo warehouse is built once into ``--cache-dir`` (default
``$TMPDIR/chatbi-bench``, shared with ``bench/load_test.py``: the file name carries
the scale, seed and a hash of ``warehouse/*.py``). On the locked-down
``DuckDBEngine`` (2 threads, 2 GB), after building ``customer_segments``:

- features: ``customer_features`` (4 guarded SQL queries + the pandas pivot of the mixes);
- profile: ``rfm_profile(features, "Important Value")`` (pandas only);
- features + profile, as a chat answer would pay it;
- clustering: ``cluster_customers`` (k = 3–8 by silhouette; single-threaded BLAS);
- tracking: ``track`` for the Important Win-back segment since 2025-10-01 (guarded SQL + matching).

Timings are the best of ``--repeat`` warm runs (one untimed warm-up), clustering
of 2 (it is deterministic and slow); peak RSS of the process is reported too.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout

from metrics.clustering import cluster_customers
from metrics.features import customer_features
from metrics.profiles import rfm_profile
from metrics.tracking import track
from semantic_layer.access import allowed_schema
from semantic_layer.engine import DuckDBEngine
from semantic_layer.loader import load_catalog
from semantic_layer.materialize import Materializer


def warehouse_path(scale: float, seed: int, cache_dir: Path) -> Path:
    """The cached demo build for (scale, seed, generator source); built in a child process when missing."""
    source = hashlib.sha256(b"".join(p.read_bytes() for p in sorted((ROOT / "warehouse").glob("*.py"))))
    path = cache_dir / f"demo_scale{scale:g}_seed{seed}_{source.hexdigest()[:10]}.duckdb"
    if not path.is_file():
        cache_dir.mkdir(parents=True, exist_ok=True)
        code = f"from warehouse.demo import build_demo; print(build_demo({str(path)!r}, scale={scale!r}, seed={seed}))"
        print(f"building {path} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    return path


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    out = fn()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def bench_scale(scale: float, seed: int, cache_dir: Path, repeat: int) -> dict[str, Any]:
    path = warehouse_path(scale, seed, cache_dir)
    catalog = load_catalog()
    with DuckDBEngine(path, threads=2, memory_limit="2GB") as engine:
        as_of = engine.as_of_date()
        assert as_of is not None
        Materializer(catalog, engine).ensure(["customer_segments"], as_of)
        schema = allowed_schema(catalog, engine.tables())
        orders = engine.table_counts()["orders"]
        t_feat, feats = best(lambda: customer_features(engine, schema, as_of, catalog=catalog), repeat)
        t_prof, prof = best(lambda: rfm_profile(feats, "Important Value", catalog=catalog), repeat)
        t_both, _ = best(lambda: rfm_profile(customer_features(engine, schema, as_of, catalog=catalog),
                                             "Important Value", catalog=catalog), repeat)
        t_clu, clusters = best(lambda: cluster_customers(feats, catalog=catalog), 1)
        ids = feats.loc[feats["rfm_segment"] == "Important Win-back", "customer_id"].tolist()
        t_trk, tracked = best(lambda: track(engine, schema, ids, dt.date(2025, 10, 1), as_of, catalog=catalog),
                              repeat)
    return {
        "scale": scale, "orders": orders, "customers": len(feats), "buyers": int((feats["orders"] > 0).sum()),
        "features_s": t_feat, "profile_s": t_prof, "features_profile_s": t_both, "cluster_s": t_clu,
        "k": clusters.k, "clusters": ", ".join(f"{c.name.zh} {c.share:.0%}" for c in clusters.clusters),
        "track_s": t_trk, "segment": len(ids), "controls": tracked.controls, "findings": len(prof.findings),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def markdown(rows: list[dict[str, Any]]) -> str:
    head = ("| scale | orders | customers | buyers | features s | profile s | features + profile s | "
            "clustering s (k) | tracking s | peak RSS MB |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    lines = [head]
    for r in rows:
        lines.append(f"| {r['scale']:g} | {r['orders']:,} | {r['customers']:,} | {r['buyers']:,} | "
                     f"{r['features_s']:.3f} | {r['profile_s']:.3f} | {r['features_profile_s']:.3f} | "
                     f"{r['cluster_s']:.2f} ({r['k']}) | {r['track_s']:.3f} | {r['peak_rss_mb']:.0f} |")
    lines.append("")
    for r in rows:
        lines.append(f"- scale {r['scale']:g}: clusters {r['clusters']}; tracking {r['segment']:,} segment "
                     f"customers against {r['controls']:,} matched controls; {r['findings']} profile findings")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 5.0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "chatbi-bench")
    args = parser.parse_args()
    print(markdown([bench_scale(s, args.seed, args.cache_dir, args.repeat) for s in args.scales]))


if __name__ == "__main__":
    main()
