"""A short narrative in the user's language, deterministic, every number from the rows.

``SENTENCES`` is a tuple of small functions, each looking at the result (and the
comparison results: previous period 环比, same period last year 同比) and
returning one sentence or None. Numbers are cells of the result or follow from
them: totals, shares, ratios to the median, changes against a comparison.
"""

from __future__ import annotations

import statistics
from typing import Any, Callable, Sequence

from .changes import comparisons_sentence
from .facts import Context, describe_item, finish, is_partial, kind_of, rank_rows, sum_metric
from .formatting import count_of, format_change, format_key, format_share, join_names
from .result import Comparison, ResultSet

HIGH_OUTLIER = 2.0  # × the median: a category that stands out
LOW_OUTLIER = 0.5
TIME_HIGH_OUTLIER = 1.5  # periods vary less than categories: a month at 1.5× the median is a spike
TIME_LOW_OUTLIER = 0.6
MIN_ITEMS_FOR_OUTLIERS = 5
COHORT_MONTHS = (1, 3, 6, 12)


Sentence = Callable[[Context], "str | None"]


def narrate(result: ResultSet, lang: str, comparisons: Sequence[Comparison] = ()) -> str:
    """Totals, top and bottom items, shares, outliers and 环比/同比 in ``lang``."""
    if not result.rows:
        return "没有符合条件的数据。" if lang == "zh" else "No data matches the question."
    year_ago = {c.range for c in comparisons if c.kind == "year_ago"}
    told = tuple(c for c in comparisons if c.result.rows and not (c.kind == "previous" and c.range in year_ago))
    ctx = Context(result, told, lang)
    parts = [s for sentence in SENTENCES if (s := sentence(ctx))]
    if lang == "zh":
        return "".join(parts)
    return " ".join(p[:1].upper() + p[1:] for p in parts)

# --- sentences ---------------------------------------------------------------------------


def _lead(ctx: Context) -> str:
    """Time range first (the reader needs it to read any number), then what the rows are."""
    r = ctx.result
    rng = r.time_range.describe(ctx.lang)
    if r.time_range.end is None:
        rng += ctx.t(f"（截至 {r.lineage.as_of.isoformat()}）", f" (as of {r.lineage.as_of.isoformat()})")
    kind = kind_of(r)
    if kind == "single":
        values = [ctx.t(f"{m.label.zh}为 {ctx.v(r.rows[0][r.index(m.name)], m)}",
                        f"{m.label.en} was {ctx.v(r.rows[0][r.index(m.name)], m)}") for m in r.metrics]
        return finish(ctx, ctx.t(f"{rng}，{'，'.join(values)}", f"{rng}: {'; '.join(values)}"))
    if kind == "cohort":
        cohorts = r.distinct("cohort")
        first, last = (format_key(c, r.column("cohort"), ctx.lang) for c in (min(cohorts), max(cohorts)))
        scope = ctx.t(f"共 {len(cohorts)} 个同期群（{first} 至 {last}）", f"{len(cohorts)} cohorts ({first} to {last})")
    elif kind in ("time", "time_dims"):
        assert r.time is not None
        periods = len(r.distinct(r.time.name))
        scope = ctx.t(f"按{r.time.label.zh}共 {periods} 期", f"{periods} periods by {r.time.label.en.lower()}")
        if r.dimensions:
            dim = r.dimensions[0]
            n = len(r.distinct(dim.name))
            scope += ctx.t(f"，分 {count_of(n, dim, 'zh')}", f" across {count_of(n, dim, 'en')}")
    elif kind == "category":
        scope = count_of(len(r.rows), r.dimensions[0], ctx.lang)
    else:
        labels = " × ".join(d.label.get(ctx.lang) for d in r.dimensions)
        scope = ctx.t(f"{labels} 共 {len(r.rows)} 个组合", f"{len(r.rows)} combinations of {labels}")
    if r.truncated:
        scope += ctx.t(f"（结果已截断，仅含前 {len(r.rows)} 行）", f" (truncated to the first {len(r.rows)} rows)")
    return finish(ctx, ctx.t(f"{rng}，{scope}", f"{rng}: {scope}"))


def _extremes(ctx: Context) -> str | None:
    """Per metric: the total (when it adds up), the highest and the lowest item."""
    r = ctx.result
    if kind_of(r) not in ("category", "cross", "time"):
        return None
    out = []
    for n, metric in enumerate(r.metrics[:3]):
        ranked = rank_rows(r, metric)
        if not ranked:
            continue
        total = sum_metric(r, metric) if r.is_additive(metric) and not is_partial(r) else None
        label = metric.label.get(ctx.lang)
        head = ctx.t(f"{label}合计 {ctx.v(total, metric)}；", f"Total {label} {ctx.v(total, metric)}; ") \
            if total is not None else ctx.t(f"{label}", f"{label}")
        if len(ranked) == 1:
            sep = "" if total is not None else ctx.t("：", ": ")
            item = describe_item(ctx, ranked[0], metric, total)
            out.append(finish(ctx, f"{head}{sep}{item}"))
            continue
        top, low = describe_item(ctx, ranked[0], metric, total), describe_item(ctx, ranked[-1], metric, total)
        sep = "" if total is not None else ctx.t("", ": ")
        text = ctx.t(f"{head}最高的是{top}，最低的是{low}", f"{head}{sep}highest {top}, lowest {low}")
        i = r.index(metric.name)
        hi, lo = float(ranked[0][i]), float(ranked[-1][i])
        if n == 0 and metric.format != "percent" and lo > 0 and total is None:
            text += ctx.t(f"，前者是后者的 {hi / lo:.1f} 倍", f" ({hi / lo:.1f}× the lowest)")
        out.append(finish(ctx, text))
    return ("" if ctx.zh else " ").join(out) or None


def _concentration(ctx: Context) -> str | None:
    """The few largest items that together make half the total (Pareto)."""
    r = ctx.result
    if kind_of(r) != "category" or len(r.rows) < 4 or not r.is_additive(r.metrics[0]) or is_partial(r):
        return None
    metric = r.metrics[0]
    total = sum_metric(r, metric)
    if total <= 0:
        return None
    ranked, i = rank_rows(r, metric), r.index(metric.name)
    running, top = 0.0, []
    for row in ranked:
        running += float(row[i])
        top.append(row)
        if running / total >= 0.5:
            break
    if not 2 <= len(top) <= len(ranked) / 2:
        return None
    names = join_names((ctx.key(row) for row in top), ctx.lang)
    return finish(ctx, ctx.t(f"{names}合计占{metric.label.zh}的 {format_share(running, total)}",
                           f"{names} together make {format_share(running, total)} of {metric.label.en}"))


def _outliers(ctx: Context) -> str | None:
    """Items far from the median of the first metric (× the median)."""
    r = ctx.result
    kind = kind_of(r)
    if kind not in ("category", "time") or len(r.rows) < MIN_ITEMS_FOR_OUTLIERS:
        return None
    if kind == "category" and r.is_ordered(r.dimensions[0]):  # segments differ in size by design
        return None
    metric = r.metrics[0]
    i = r.index(metric.name)
    values = [float(row[i]) for row in r.rows if row[i] is not None]
    median = statistics.median(values) if values else 0.0
    if median <= 0 or min(values) < 0:
        return None
    high, low = (TIME_HIGH_OUTLIER, TIME_LOW_OUTLIER) if kind == "time" else (HIGH_OUTLIER, LOW_OUTLIER)
    out = []
    for row in rank_rows(r, metric)[:2]:
        if float(row[i]) / median >= high:
            ratio = float(row[i]) / median
            out.append(ctx.t(f"{ctx.key(row)}明显偏高，是中位数的 {ratio:.1f} 倍",
                             f"{ctx.key(row)} stands out high at {ratio:.1f}× the median"))
    for row in reversed(rank_rows(r, metric)[-2:]):
        if float(row[i]) / median <= low:
            out.append(ctx.t(f"{ctx.key(row)}明显偏低，仅为中位数的 {format_share(float(row[i]), median)}",
                             f"{ctx.key(row)} stands out low at {format_share(float(row[i]), median)} of the median"))
    if not out:
        return None
    return finish(ctx, ctx.t("；".join(out), "; ".join(out)))


def _latest_period(ctx: Context) -> str | None:
    """The last period against the one before it, inside the series."""
    r = ctx.result
    if kind_of(r) != "time" or len(r.rows) < 2:
        return None
    metric, t = r.metrics[0], r.time
    assert t is not None
    i, ti = r.index(metric.name), r.index(t.name)
    rows = sorted(r.rows, key=lambda row: str(row[ti]))
    last, before = rows[-1], rows[-2]
    if last[i] is None or before[i] is None:
        return None
    change = format_change(float(last[i]), float(before[i]), metric, ctx.lang)
    if change is None:
        return None
    return finish(ctx, ctx.t(f"最近一期（{ctx.key(last)}）为 {ctx.v(last[i], metric)}，"
                             f"较上一期（{ctx.key(before)}）{change}",
                           f"The latest period {ctx.key(last)} was {ctx.v(last[i], metric)}, "
                           f"{change} on {ctx.key(before)}"))


def _series_totals(ctx: Context) -> str | None:
    """Time × dimension, or two dimensions: which group leads over the whole range."""
    r = ctx.result
    if kind_of(r) not in ("time_dims", "cross") or not r.is_additive(r.metrics[0]) or is_partial(r):
        return None
    metric, dim = r.metrics[0], r.dimensions[0]
    i, di = r.index(metric.name), r.index(dim.name)
    sums: dict[Any, float] = {}
    for row in r.rows:
        if row[i] is not None:
            sums[row[di]] = sums.get(row[di], 0.0) + float(row[i])
    total = sum(sums.values())
    if len(sums) < 2 or total <= 0:
        return None
    ranked = sorted(sums.items(), key=lambda kv: -kv[1])

    def name(key: Any) -> str:
        return format_key(key, dim, ctx.lang)

    (top, top_v), (low, low_v) = ranked[0], ranked[-1]
    head = ""
    if kind_of(r) == "time_dims":
        shown = ctx.v(total, metric)
        head = ctx.t(f"{metric.label.zh}合计 {shown}；", f"Total {metric.label.en} {shown}; ")
    return finish(ctx, ctx.t(
        f"{head}按{dim.label.zh}汇总，最高的是{name(top)}（{ctx.v(top_v, metric)}，占 {format_share(top_v, total)}），"
        f"最低的是{name(low)}（{ctx.v(low_v, metric)}，占 {format_share(low_v, total)}）",
        f"{head}by {dim.label.en}, highest {name(top)} ({ctx.v(top_v, metric)}, {format_share(top_v, total)}), "
        f"lowest {name(low)} ({ctx.v(low_v, metric)}, {format_share(low_v, total)})"))


def _cohort(ctx: Context) -> str | None:
    """Customer-weighted retention k months after the first order, and the best and worst cohorts."""
    r = ctx.result
    if not r.is_cohort:
        return None
    ki, si, ri, rate_i = (r.index(n) for n in ("months_since", "cohort_size", "retained_customers", "retention_rate"))
    rate = r.column("retention_rate")
    parts = []
    for k in COHORT_MONTHS:
        rows = [row for row in r.rows if row[ki] == k]
        size = sum(row[si] for row in rows)
        if size:
            parts.append((k, sum(row[ri] for row in rows) / size))
    if not parts:
        return None
    text = ctx.t("首单后" + "，".join(f"第 {k} 个月留存率 {ctx.v(v, rate)}" for k, v in parts) + "（按客户加权）",
                 "Customer-weighted retention " + ", ".join(f"{ctx.v(v, rate)} in month {k}" for k, v in parts)
                 + " after the first order")
    first = [row for row in r.rows if row[ki] == parts[0][0]]
    if len(first) >= 2:
        best, worst = max(first, key=lambda row: row[rate_i]), min(first, key=lambda row: row[rate_i])
        cohort = r.column("cohort")
        ci = r.index("cohort")
        b, w = format_key(best[ci], cohort, ctx.lang), format_key(worst[ci], cohort, ctx.lang)
        k = parts[0][0]
        text += ctx.t(f"。第 {k} 个月留存最高的同期群是 {b}（{ctx.v(best[rate_i], rate)}），"
                      f"最低的是 {w}（{ctx.v(worst[rate_i], rate)}）",
                      f". In month {k} the best cohort was {b} ({ctx.v(best[rate_i], rate)}) "
                      f"and the weakest {w} ({ctx.v(worst[rate_i], rate)})")
    return finish(ctx, text)


SENTENCES: tuple[Sentence, ...] = (
    _lead, _extremes, _series_totals, _concentration, _outliers, _latest_period, _cohort, comparisons_sentence,
)
