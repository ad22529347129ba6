"""Benchmark the CLV models on simulated customers (100k and 1M by default).

Simulates BG/NBD purchase histories and Gamma-Gamma spend with vectorised numpy
(``metrics.bgnbd.simulate_bgnbd``, ``metrics.gamma_gamma.simulate_spend``),
then times the BG/NBD fit, the Gamma-Gamma fit and the per-customer prediction
(``score_customers``: expected purchases over 12 months, P(alive), expected
spend, discounted CLV), and prints a markdown table.

Timings are the best of ``--repeat`` untraced runs; peak memory from a second run of each stage
under ``tracemalloc`` (numpy reports its buffers to it), so tracing overhead
does not distort the times. ``ru_maxrss`` is the whole process's high-water mark.

    .venv/bin/python bench/bench_clv.py            # 100k and 1M customers
    .venv/bin/python bench/bench_clv.py --sizes 20000
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

from metrics.bgnbd import BGNBDParams, fit_bgnbd, simulate_bgnbd  # noqa: E402
from metrics.clv import CLVModels, score_customers  # noqa: E402
from metrics.gamma_gamma import GammaGammaParams, fit_gamma_gamma, simulate_spend  # noqa: E402

# CDNOW-like truth (FHL 2005; Fader & Hardie 2013), ages up to two years in weeks.
TRUE_BG = BGNBDParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
TRUE_GG = GammaGammaParams(p=6.25, q=3.74, gamma=15.44)


def simulate(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    T = rng.uniform(1.0, 104.0, n)
    x, t_x = simulate_bgnbd(TRUE_BG, T, rng)
    zbar = simulate_spend(TRUE_GG, x, rng)
    return pd.DataFrame({"customer": np.arange(n), "x": x.astype(np.int64), "t_x": t_x,
                         "T": T, "zbar": zbar, "revenue": zbar * x})


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[Any, float]:
    """Result and best wall time of ``repeat`` runs (the machine may be shared)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - start)
    return value, best


def traced_peak_mb(fn: Callable[[], Any]) -> float:
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def max_rel_error(fitted: object, true: object, names: tuple[str, ...]) -> float:
    return max(abs(getattr(fitted, k) / getattr(true, k) - 1) for k in names)


def bench(n: int, seed: int, repeat: int) -> dict[str, Any]:
    data, t_sim = timed(lambda: simulate(n, seed))
    x, t_x, T, zbar = (data[c].to_numpy(np.float64) for c in ("x", "t_x", "T", "zbar"))
    bg, t_bg = timed(lambda: fit_bgnbd(x, t_x, T), repeat)
    gg, t_gg = timed(lambda: fit_gamma_gamma(x, zbar), repeat)
    models = CLVModels(bg, gg)
    scored, t_pred = timed(lambda: score_customers(data, models), repeat)
    assert np.isfinite(scored[["expected_purchases", "p_alive", "clv"]].to_numpy()).all()
    return {
        "customers": n,
        "repeat buyers": int((x > 0).sum()),
        "simulate s": t_sim,
        "fit BG/NBD s": t_bg,
        "fit Gamma-Gamma s": t_gg,
        "predict s": t_pred,
        "fit+predict s": t_bg + t_gg + t_pred,
        "peak MB fit": traced_peak_mb(lambda: (fit_bgnbd(x, t_x, T), fit_gamma_gamma(x, zbar))),
        "peak MB predict": traced_peak_mb(lambda: score_customers(data, models)),
        "max rel err BG/NBD": max_rel_error(bg, TRUE_BG, ("r", "alpha", "a", "b")),
        "max rel err GG": max_rel_error(gg, TRUE_GG, ("p", "q", "gamma")),
    }


def markdown(rows: list[dict[str, Any]]) -> str:
    head = list(rows[0])
    fmt = {int: "{:,}", float: "{:.3f}"}
    lines = ["| " + " | ".join(head) + " |", "|" + "---:|" * len(head)]
    for row in rows:
        cells = [fmt[type(row[k])].format(row[k]) for k in head]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=2005)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per stage (best kept)")
    args = parser.parse_args()
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rows = [bench(n, args.seed, args.repeat) for n in args.sizes]
    print(markdown(rows))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"\nprocess ru_maxrss: {rss / 1024:.0f} MB (+{(rss - rss0) / 1024:.0f} MB over start); "
          f"prediction = 12 monthly steps of eq. 10 per customer; numpy {np.__version__}")


if __name__ == "__main__":
    main()
