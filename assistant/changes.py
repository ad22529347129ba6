"""环比 and 同比 sentences: the result against the same query over the previous period and a year earlier."""

from __future__ import annotations

from semantic_layer.compiler import OutputColumn

from .facts import Context, finish, is_partial, kind_of, sum_metric
from .formatting import format_change
from .result import Comparison, ResultSet


def comparisons_sentence(ctx: Context) -> str | None:
    """环比 and 同比: totals (or single values) and, by category, the biggest movers."""
    out = [s for c in ctx.comparisons if (s := _compare(ctx, c))]
    return ("" if ctx.zh else " ").join(out) or None


def _compare(ctx: Context, comp: Comparison) -> str | None:
    r, p = ctx.result, comp.result
    kind = kind_of(r)
    head = ctx.t(f"{comp.label('zh')}（对比 {comp.range.describe('zh')}）：",
                 f"{comp.label('en').capitalize()} (against {comp.range.describe('en')}): ")
    base = ctx.t("上期" if comp.kind == "previous" else "去年同期", "then")
    parts: list[str] = []
    if kind == "single":
        for m in r.metrics[:3]:
            cur, prev = r.rows[0][r.index(m.name)], p.rows[0][p.index(m.name)]
            if cur is None or prev is None or (change := format_change(float(cur), float(prev), m, ctx.lang)) is None:
                continue
            parts.append(ctx.t(f"{m.label.zh}{change}（{base} {ctx.v(prev, m)}）",
                               f"{m.label.en} {change} ({base} {ctx.v(prev, m)})"))
    elif kind != "cohort":
        metric = r.metrics[0]
        if r.is_additive(metric) and not is_partial(r):
            cur, prev = sum_metric(r, metric), sum_metric(p, metric)
            change = format_change(cur, prev, metric, ctx.lang)
            if change:
                parts.append(ctx.t(f"{metric.label.zh}合计{change}（{base} {ctx.v(prev, metric)}）",
                                   f"total {metric.label.en} {change} ({base} {ctx.v(prev, metric)})"))
        if kind == "category":
            parts += _movers(ctx, p, metric)
        elif kind == "time" and not r.is_additive(metric) and comp.kind == "year_ago":
            parts += _same_period(ctx, p, metric)
    if not parts:
        return None
    return finish(ctx, head + ctx.t("；".join(parts), "; ".join(parts)))


def _movers(ctx: Context, previous: ResultSet, metric: OutputColumn) -> list[str]:
    """The items that rose most and least against the comparison period (matched by key)."""
    r = ctx.result
    key, i = r.index(r.dimensions[0].name), r.index(metric.name)
    before = {row[previous.index(r.dimensions[0].name)]: row[previous.index(metric.name)] for row in previous.rows}
    changes = []
    for row in r.rows:
        prev = before.get(row[key])
        if row[i] is None or prev is None or (metric.format != "percent" and float(prev) == 0):
            continue
        delta = float(row[i]) - float(prev) if metric.format == "percent" else (float(row[i]) - float(prev)) / abs(
            float(prev))
        changes.append((delta, row, prev))
    if len(changes) < 2:
        return []
    changes.sort(key=lambda c: c[0])
    (lo_delta, low, low_prev), (hi_delta, high, high_prev) = changes[0], changes[-1]
    up = f"{ctx.key(high)}（{format_change(float(high[i]), float(high_prev), metric, 'zh')}）" if ctx.zh \
        else f"{ctx.key(high)} ({format_change(float(high[i]), float(high_prev), metric, 'en')})"
    down = f"{ctx.key(low)}（{format_change(float(low[i]), float(low_prev), metric, 'zh')}）" if ctx.zh \
        else f"{ctx.key(low)} ({format_change(float(low[i]), float(low_prev), metric, 'en')})"
    if lo_delta >= 0:
        return [ctx.t(f"增长最快的是{up}，最慢的是{down}", f"fastest growth {up}, slowest {down}")]
    if hi_delta < 0:
        return [ctx.t(f"降幅最大的是{down}，最小的是{up}", f"steepest fall {down}, smallest {up}")]
    return [ctx.t(f"增长最快的是{up}，降幅最大的是{down}", f"biggest rise {up}, steepest fall {down}")]


def _same_period(ctx: Context, previous: ResultSet, metric: OutputColumn) -> list[str]:
    """For rates over time: the latest period against the same period a year earlier."""
    r = ctx.result
    t = r.time
    assert t is not None
    ti, i = r.index(t.name), r.index(metric.name)
    last = max(r.rows, key=lambda row: str(row[ti]))
    target = last[ti].replace(year=last[ti].year - 1) if hasattr(last[ti], "replace") else None
    match = [row for row in previous.rows if row[previous.index(t.name)] == target]
    if not match or last[i] is None or match[0][previous.index(metric.name)] is None:
        return []
    prev = match[0][previous.index(metric.name)]
    change = format_change(float(last[i]), float(prev), metric, ctx.lang)
    if change is None:
        return []
    return [ctx.t(f"{ctx.key(last)} {metric.label.zh}{change}（去年同期 {ctx.v(prev, metric)}）",
                  f"{ctx.key(last)} {metric.label.en} {change} (a year earlier {ctx.v(prev, metric)})")]
