"""What the narrative and its 环比/同比 sentences share: the context and small readings of a result."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from semantic_layer.compiler import OutputColumn

from .formatting import format_key, format_share, format_value
from .result import Comparison, ResultSet


@dataclass(frozen=True)
class Context:
    result: ResultSet
    comparisons: tuple[Comparison, ...]
    lang: str

    @property
    def zh(self) -> bool:
        return self.lang == "zh"

    def t(self, zh: str, en: str) -> str:
        return zh if self.zh else en

    def v(self, value: Any, col: OutputColumn) -> str:
        return format_value(value, col, self.lang)

    def key(self, row: Sequence[Any]) -> str:
        """The row's keys as shown: 华东, 2025-11, or 华东 · App."""
        keys = self.result.keys
        return " · ".join(format_key(row[self.result.index(k.name)], k, self.lang) for k in keys)


def kind_of(r: ResultSet) -> str:
    if r.is_cohort:
        return "cohort"
    if not r.keys:
        return "single"
    if r.time is not None:
        return "time" if not r.dimensions else "time_dims"
    return "category" if len(r.dimensions) == 1 else "cross"


def is_partial(r: ResultSet) -> bool:
    """A top-N or truncated result: its total is not the whole, so no totals or shares of it."""
    return bool(r.query.limit) or r.truncated


def rank_rows(r: ResultSet, metric: OutputColumn) -> list[tuple[Any, ...]]:
    i = r.index(metric.name)
    return sorted((row for row in r.rows if row[i] is not None), key=lambda row: -float(row[i]))


def sum_metric(r: ResultSet, metric: OutputColumn) -> float:
    i = r.index(metric.name)
    return sum(float(row[i]) for row in r.rows if row[i] is not None)


def describe_item(ctx: Context, row: Sequence[Any], metric: OutputColumn, total: float | None) -> str:
    """「华东 ¥13,823,197.34(占 36.3%)」: shares from the share column when the query asked for one."""
    r = ctx.result
    value = row[r.index(metric.name)]
    share_col = r.share_of(metric)
    share = None
    if share_col is not None and row[r.index(share_col.name)] is not None:
        share = ctx.v(row[r.index(share_col.name)], share_col)
    elif total and r.is_additive(metric) and float(value) >= 0 and total > 0:
        share = format_share(float(value), total)
    tail = ctx.t(f"，占 {share}", f", {share} of total") if share else ""
    return ctx.t(f"{ctx.key(row)}（{ctx.v(value, metric)}{tail}）", f"{ctx.key(row)} ({ctx.v(value, metric)}{tail})")


def finish(ctx: Context, text: str) -> str:
    return text + ("。" if ctx.zh else ".")
