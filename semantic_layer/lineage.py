"""What an answer used, in words: metric formulas, filters, time range, as-of date.

Definitions come from the catalog through the compiler, never from a model's
prose, so "every number traceable" holds whoever writes the narrative.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from .catalog import Catalog
from .query import Filter
from .schema import (
    DerivedMetric, EntityCountMetric, Grain, Metric, PeriodChurnMetric, RatioMetric, SimpleMetric, Text,
)
from .timerange import DateRange


@dataclass(frozen=True)
class OutputColumn:
    name: str
    kind: Literal["dimension", "time", "metric"]
    label: Text
    format: str  # currency | percent | count | number | date | text
    unit: str | None = None
    decimals: int = 2
    #: Display labels of a dimension's values (East → 华东), empty for free text.
    value_labels: tuple[tuple[str, Text], ...] = ()
    null_label: Text | None = None

    def display(self, value: object, lang: str) -> str:
        if value is None:
            return self.null_label.get(lang) if self.null_label else "—"
        for raw, label in self.value_labels:
            if raw == value:
                return label.get(lang)
        return str(value)


@dataclass(frozen=True)
class Definition:
    metric: str
    label: Text
    formula: str
    description: Text | None

    def as_dict(self, lang: str) -> dict[str, str]:
        return {
            "metric": self.metric,
            "label": self.label.get(lang),
            "formula": self.formula,
            "description": self.description.get(lang) if self.description else "",
        }


@dataclass(frozen=True)
class Lineage:
    definitions: tuple[Definition, ...]
    filters: tuple[Text, ...]
    time_range: DateRange
    grain: Grain | None
    as_of: dt.date
    #: Row-level access that shaped the data (policy.Access), e.g. "only Region East".
    access: tuple[Text, ...] = ()

    def time_clause(self) -> Text:
        return Text(zh=f"时间范围: {self.time_range.describe('zh')}", en=f"Time range: {self.time_range.describe('en')}")

    def clauses(self, lang: str) -> list[str]:
        """Readable lines for the answer's "definitions used" section."""
        out = [self.time_clause().get(lang)]
        out += [f.get(lang) for f in self.filters]
        out += [a.get(lang) for a in self.access]
        as_of = self.as_of.isoformat()
        out.append(f"数据截止日: {as_of}" if lang == "zh" else f"As-of date: {as_of}")
        return out


def formula(metric: Metric) -> str:
    """A metric's definition as one line of SQL-like text.

    >>> from semantic_layer.schema import RatioMetric, Text
    >>> formula(RatioMetric(type="ratio", name="aov", label=Text(zh="a", en="a"), numerator="revenue", denominator="order_count"))
    'revenue / order_count'
    """
    if isinstance(metric, SimpleMetric):
        agg = "COUNT(DISTINCT {})" if metric.agg == "count_distinct" else f"{metric.agg.upper()}({{}})"
        text = agg.format("*" if metric.agg == "count" and metric.expr == "1" else metric.expr)
        where = f" WHERE {metric.filter}" if metric.filter else ""
        return f"{text} FROM {metric.model}{where}"
    if isinstance(metric, RatioMetric):
        return f"{metric.numerator} / {metric.denominator}"
    if isinstance(metric, DerivedMetric):
        return metric.expr
    if isinstance(metric, EntityCountMetric):
        inner = "*" if metric.expr == "1" else metric.expr
        where = f" WHERE {metric.filter}" if metric.filter else ""
        return f"COUNT({metric.entity} HAVING {metric.agg.upper()}({inner}) {metric.having}) FROM {metric.model}{where}"
    if isinstance(metric, PeriodChurnMetric):
        where = f" WHERE {metric.filter}" if metric.filter else ""
        churned = f"COUNT({metric.entity} active in previous {metric.grain.value}, not in this one)"
        base = f"COUNT({metric.entity} active in previous {metric.grain.value})"
        parts = {"rate": f"{churned} / {base}", "churned": churned, "base": base}
        return f"{parts[metric.measure]} FROM {metric.model}{where}"
    raise AssertionError(metric)


def definitions_for(metrics: list[Metric], catalog: Catalog) -> tuple[Definition, ...]:
    """The requested metrics and every metric they are built from, each once."""
    seen: dict[str, Definition] = {}

    def visit(metric: Metric) -> None:
        if metric.name in seen:
            return
        seen[metric.name] = Definition(metric.name, metric.label, formula(metric), metric.description)
        inputs: list[str] = []
        if isinstance(metric, RatioMetric):
            inputs = [metric.numerator, metric.denominator]
        elif isinstance(metric, DerivedMetric):
            inputs = list(metric.inputs)
        for name in inputs:
            visit(catalog.metric(name))

    for m in metrics:
        visit(m)
    return tuple(seen.values())


_OPS = {
    "=": ("为", "is"), "!=": ("不为", "is not"), "in": ("属于", "is one of"),
    "not_in": ("不属于", "is not one of"), ">": ("大于", "greater than"), ">=": ("不少于", "at least"),
    "<": ("小于", "less than"), "<=": ("不超过", "at most"), "between": ("介于", "between"),
    "contains": ("包含", "contains"),
}


def describe_filter(f: Filter, catalog: Catalog) -> Text:
    """``region in [East]`` → 「地区 属于 华东」 / "Region is one of East"."""
    if f.field in catalog.metrics:
        label = catalog.metrics[f.field].label
        values_zh = values_en = ", ".join(str(v) for v in f.values)
    else:
        dim = catalog.find_dimension(f.field)
        label = dim.label
        values_zh = ", ".join(_value_label(dim.values, v, "zh") for v in f.values)
        values_en = ", ".join(_value_label(dim.values, v, "en") for v in f.values)
    if f.op == "between":
        values_zh = " 和 ".join(values_zh.split(", "))
        values_en = " and ".join(values_en.split(", "))
    zh_op, en_op = _OPS[f.op]
    return Text(zh=f"{label.zh} {zh_op} {values_zh}", en=f"{label.en} {en_op} {values_en}")


def _value_label(values: list, value: object, lang: str) -> str:  # type: ignore[type-arg]
    for v in values:
        if v.value == str(value):
            return str(v.label.get(lang))
    return str(value)
