"""Chart choice by rules over the query and the result's shape, emitted as Vega-Lite via Altair.

Never chart code from a model: ``RULES`` is an ordered tuple of (name, applies,
build); the first rule that applies draws the chart, so adding a chart type
means adding a rule. Labels are in the question's language (East → 华东), axis
formats follow the metric's format, and nominal axes are always given an
explicit sort (Altair sorts them alphabetically otherwise).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

import altair as alt

from semantic_layer.compiler import OutputColumn

from .formatting import D3_FORMATS, display_width, format_key, format_value
from .result import ResultSet

#: Fonts with CJK glyphs first, so Chinese renders in the browser and in exported SVG.
FONT = "WenQuanYi Micro Hei, Noto Sans CJK SC, Microsoft YaHei, PingFang SC, sans-serif"
#: d3 number locale: ``$`` in a format prints ¥.
LOCALE = {"number": {"decimal": ".", "thousands": ",", "grouping": [3], "currency": ["¥", ""]}}
#: Time keys are ISO dates read as UTC, so a month never slides into the previous one.
_TIME_UNITS = {"day": "utcyearmonthdate", "week": "utcyearmonthdate", "month": "utcyearmonth",
               "quarter": "utcyearquarter", "year": "utcyear"}
_TIME_FORMATS = {"day": "%Y-%m-%d", "week": "%Y-%m-%d", "month": "%Y-%m", "quarter": "%Y Q%q", "year": "%Y"}
#: Words that ask for parts of a whole (占比 → donut or stacked bar).
SHARE_WORDS = re.compile(r"占比|比例|比重|构成|份额|结构|分布|share|proportion|composition|\bmix\b|breakdown",
                         re.IGNORECASE)
MAX_DONUT_PARTS = 6
MAX_GROUPED_SERIES = 6
MAX_GROUPED_CELLS = 48
LONG_LABEL_WIDTH = 10  # display columns; longer labels turn bars horizontal
MANY_BARS = 12


@dataclass(frozen=True)
class Shape:
    """What the rules look at: the result plus the question's intent."""

    result: ResultSet
    share: bool = False  # the question asks for parts of a whole

    @property
    def first_metric_additive(self) -> bool:
        return bool(self.result.metrics) and self.result.is_additive(self.result.metrics[0])


@dataclass(frozen=True)
class ChartRule:
    name: str
    applies: Callable[[Shape], bool]
    build: Callable[[Shape, str], alt.TopLevelMixin]


def share_intent(question: str) -> bool:
    """Does the question ask for parts of a whole?

    >>> share_intent("各渠道销售额占比"), share_intent("revenue by region")
    (True, False)
    """
    return bool(SHARE_WORDS.search(question or ""))


# --- data and encodings -----------------------------------------------------------


def _records(result: ResultSet, lang: str) -> list[dict[str, Any]]:
    """Rows as records with display labels for dimensions and ISO dates for time."""
    out = []
    for row in result.rows:
        rec: dict[str, Any] = {}
        for col, value in zip(result.columns, row):
            if col.kind == "metric":
                rec[col.name] = float(value) if value is not None else None
            elif col.kind == "time":
                rec[col.name] = value.isoformat() if hasattr(value, "isoformat") else value
            elif isinstance(value, (int, float)) and not col.value_labels:
                rec[col.name] = value  # numeric keys (months since first order) sort as numbers
            else:
                rec[col.name] = format_key(value, col, lang)
        if len(result.dimensions) > 1:
            rec["series"] = " · ".join(str(rec[d.name]) for d in result.dimensions)
        out.append(rec)
    return out


def _measure(col: OutputColumn, lang: str, channel: type = alt.Y, **kw: Any) -> Any:
    axis_fmt = D3_FORMATS.get(col.format, (f",.{col.decimals}~f", ""))[0]
    return channel(f"{col.name}:Q", title=col.label.get(lang), axis=alt.Axis(format=axis_fmt), **kw)


def _tooltips(result: ResultSet, lang: str) -> list[alt.Tooltip]:
    tips = []
    for col in result.columns:
        if col.kind == "metric":
            fmt = D3_FORMATS.get(col.format, ("", f",.{col.decimals}f"))[1]
            tips.append(alt.Tooltip(f"{col.name}:Q", title=col.label.get(lang), format=fmt))
        elif col.kind == "time":
            tips.append(alt.Tooltip(f"{col.name}:T", title=col.label.get(lang), timeUnit=_TIME_UNITS[col.name],
                                    format=_TIME_FORMATS[col.name]))
        else:
            tips.append(alt.Tooltip(f"{col.name}:N", title=col.label.get(lang)))
    return tips


def category_order(result: ResultSet, col: OutputColumn, lang: str) -> list[str] | None:
    """Display labels in the catalog's value order for ordered dimensions, else None."""
    if not result.is_ordered(col):
        return None
    present = result.distinct(col.name)
    if col.value_labels:
        raws = [raw for raw, _ in col.value_labels if raw in present] + [v for v in present if v not in dict(
            col.value_labels)]
    else:
        raws = sorted(present, key=lambda v: (v is None, v))
    return [format_key(v, col, lang) for v in raws]


def _by_value(col: OutputColumn, metric: OutputColumn, result: ResultSet, lang: str) -> Any:
    """Catalog order for ordered dimensions, otherwise by the metric's total, largest first."""
    return category_order(result, col, lang) or alt.EncodingSortField(field=metric.name, op="sum",
                                                                      order="descending")


def _is_horizontal(result: ResultSet, col: OutputColumn, lang: str) -> bool:
    labels = {format_key(v, col, lang) for v in result.values(col.name)}
    return len(labels) > MANY_BARS or max((display_width(lb) for lb in labels), default=0) > LONG_LABEL_WIDTH


def _chart(shape: Shape, lang: str) -> alt.Chart:
    return alt.Chart(alt.Data(values=_records(shape.result, lang)))


# --- rules --------------------------------------------------------------------------


def _cohort_heatmap(shape: Shape, lang: str) -> alt.TopLevelMixin:
    r = shape.result
    cohort, months, rate = r.column("cohort"), r.column("months_since"), r.column("retention_rate")
    return _chart(shape, lang).mark_rect().encode(
        x=alt.X("months_since:O", title=months.label.get(lang), sort="ascending", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("cohort:O", title=cohort.label.get(lang), sort="ascending"),
        color=alt.Color("retention_rate:Q", title=rate.label.get(lang), scale=alt.Scale(scheme="blues"),
                        legend=alt.Legend(format=".0%")),
        tooltip=_tooltips(r, lang),
    )


def _metric_card(shape: Shape, lang: str) -> alt.TopLevelMixin:
    """One big formatted number per metric, its label above it."""
    r = shape.result
    row = r.rows[0]
    values = [{"label": m.label.get(lang), "text": format_value(row[r.index(m.name)], m, lang),
               m.name: row[r.index(m.name)]} for m in r.metrics]
    base = alt.Chart(alt.Data(values=values)).encode(y=alt.Y("label:N", sort=None, axis=None), x=alt.value(0))
    number = base.mark_text(align="left", fontSize=32, fontWeight="bold", dy=12).encode(text="text:N")
    label = base.mark_text(align="left", fontSize=13, color="#555", dy=-20).encode(text="label:N")
    return (label + number).properties(height=80 * len(values), width=320)


def _time_series(shape: Shape, lang: str) -> alt.TopLevelMixin:
    r = shape.result
    time, metric, dims = r.time, r.metrics[0], r.dimensions
    assert time is not None
    x = alt.X(f"{time.name}:T", title=time.label.get(lang), timeUnit=_TIME_UNITS[time.name],
              axis=alt.Axis(format=_TIME_FORMATS[time.name]))
    enc: dict[str, Any] = {"x": x, "tooltip": _tooltips(r, lang)}
    series = None
    if dims:
        series = dims[0].name if len(dims) == 1 else "series"
        title = " · ".join(d.label.get(lang) for d in dims)
        order = category_order(r, dims[0], lang) if len(dims) == 1 else None
        enc["color"] = alt.Color(f"{series}:N", title=title, sort=order or "ascending")
    if shape.share and series and shape.first_metric_additive:
        enc["y"] = _measure(metric, lang, stack="normalize").axis(format=".0%")
        return _chart(shape, lang).mark_bar().encode(**enc)
    enc["y"] = _measure(metric, lang)
    return _chart(shape, lang).mark_line(point=True).encode(**enc)


def _segment_bars(shape: Shape, lang: str) -> alt.TopLevelMixin:
    return _ranked_bar(shape, lang)  # same bars; the sort comes from the catalog's value order


def _scatter(shape: Shape, lang: str) -> alt.TopLevelMixin:
    r = shape.result
    x_col, y_col, dim = r.metrics[0], r.metrics[1], r.dimensions[0]
    label = "series" if len(r.dimensions) > 1 else dim.name
    base = _chart(shape, lang).encode(x=_measure(x_col, lang, alt.X), y=_measure(y_col, lang))
    points = base.mark_circle(size=90).encode(tooltip=_tooltips(r, lang))
    if len(r.rows) > 30:
        return points
    return points + base.mark_text(align="left", dx=7, fontSize=11).encode(text=f"{label}:N")


def _donut(shape: Shape, lang: str) -> alt.TopLevelMixin:
    r = shape.result
    dim, metric = r.dimensions[0], r.metrics[0]
    return _chart(shape, lang).mark_arc(innerRadius=60).encode(
        theta=alt.Theta(f"{metric.name}:Q", title=metric.label.get(lang), stack=True),
        color=alt.Color(f"{dim.name}:N", title=dim.label.get(lang), sort=_by_value(dim, metric, r, lang)),
        order=alt.Order(f"{metric.name}:Q", sort="descending"),
        tooltip=_tooltips(r, lang),
    )


def _stacked_share(shape: Shape, lang: str) -> alt.TopLevelMixin:
    r = shape.result
    dims, metric = r.dimensions, r.metrics[0]
    share = _measure(metric, lang, alt.X if len(dims) == 1 else alt.Y, stack="normalize").axis(format=".0%")
    part = dims[-1]
    enc: dict[str, Any] = {
        "color": alt.Color(f"{part.name}:N", title=part.label.get(lang), sort=_by_value(part, metric, r, lang)),
        "order": alt.Order(f"{metric.name}:Q", sort="descending"),
        "tooltip": _tooltips(r, lang),
    }
    if len(dims) == 1:
        return _chart(shape, lang).mark_bar().encode(x=share, **enc).properties(height=60)
    whole = dims[0]
    x = alt.X(f"{whole.name}:N", title=whole.label.get(lang), sort=_by_value(whole, metric, r, lang),
              axis=alt.Axis(labelAngle=0))
    return _chart(shape, lang).mark_bar().encode(x=x, y=share, **enc)


def _cross_grouped(shape: Shape, lang: str) -> alt.TopLevelMixin:
    r = shape.result
    outer, inner, metric = r.dimensions[0], r.dimensions[1], r.metrics[0]
    inner_sort = _by_value(inner, metric, r, lang)
    return _chart(shape, lang).mark_bar().encode(
        x=alt.X(f"{outer.name}:N", title=outer.label.get(lang), sort=_by_value(outer, metric, r, lang),
                axis=alt.Axis(labelAngle=0)),
        xOffset=alt.XOffset(f"{inner.name}:N", sort=inner_sort),
        y=_measure(metric, lang),
        color=alt.Color(f"{inner.name}:N", title=inner.label.get(lang), sort=inner_sort),
        tooltip=_tooltips(r, lang),
    )


def _cross_heatmap(shape: Shape, lang: str) -> alt.TopLevelMixin:
    r = shape.result
    rows_dim, cols_dim, metric = r.dimensions[0], r.dimensions[1], r.metrics[0]
    fmt = D3_FORMATS.get(metric.format, ("", ",.2f"))[0]
    return _chart(shape, lang).mark_rect().encode(
        x=alt.X(f"{cols_dim.name}:N", title=cols_dim.label.get(lang), sort=_by_value(cols_dim, metric, r, lang)),
        y=alt.Y(f"{rows_dim.name}:N", title=rows_dim.label.get(lang), sort=_by_value(rows_dim, metric, r, lang)),
        color=alt.Color(f"{metric.name}:Q", title=metric.label.get(lang), scale=alt.Scale(scheme="blues"),
                        legend=alt.Legend(format=fmt)),
        tooltip=_tooltips(r, lang),
    )


def _ranked_bar(shape: Shape, lang: str) -> alt.TopLevelMixin:
    """One bar per category, largest first (or in catalog order); horizontal for long labels."""
    r = shape.result
    dim, metric = r.dimensions[0], r.metrics[0]
    order = category_order(r, dim, lang)
    if _is_horizontal(r, dim, lang):
        y = alt.Y(f"{dim.name}:N", title=dim.label.get(lang), sort=order or "-x")
        return _chart(shape, lang).mark_bar().encode(y=y, x=_measure(metric, lang, alt.X),
                                                     tooltip=_tooltips(r, lang))
    x = alt.X(f"{dim.name}:N", title=dim.label.get(lang), sort=order or "-y", axis=alt.Axis(labelAngle=0))
    return _chart(shape, lang).mark_bar().encode(x=x, y=_measure(metric, lang), tooltip=_tooltips(r, lang))


def _entity_list(shape: Shape, lang: str) -> alt.TopLevelMixin:
    """A list of customers (id, name, …): one horizontal bar per row, labelled "id · name", in the list's order."""
    r = shape.result
    metric = r.metrics[0]
    y = alt.Y("series:N", title=" · ".join(d.label.get(lang) for d in r.dimensions), sort="-x")
    return _chart(shape, lang).mark_bar().encode(y=y, x=_measure(metric, lang, alt.X), tooltip=_tooltips(r, lang))


def _identifies_rows(s: Shape) -> bool:
    """The first dimension is an identifier (customer_id) and the others describe it: a list, not a cross."""
    dims = s.result.dimensions
    return len(dims) >= 2 and s.result.time is None and dims[0].name.endswith("_id")


def _one_dim(s: Shape) -> bool:
    return len(s.result.dimensions) == 1 and s.result.time is None


RULES: tuple[ChartRule, ...] = (
    ChartRule("cohort_heatmap", lambda s: s.result.is_cohort, _cohort_heatmap),
    ChartRule("metric_card", lambda s: not s.result.keys, _metric_card),
    ChartRule("time_series", lambda s: s.result.time is not None, _time_series),
    ChartRule("segment_bars", lambda s: _one_dim(s) and s.result.is_ordered(s.result.dimensions[0])
              and not s.share, _segment_bars),
    ChartRule("scatter", lambda s: len(s.result.metrics) >= 2 and _one_dim(s), _scatter),
    ChartRule("donut", lambda s: s.share and _one_dim(s) and s.first_metric_additive
              and len(s.result.rows) <= MAX_DONUT_PARTS
              and all((v or 0) >= 0 for v in s.result.values(s.result.metrics[0].name)), _donut),
    ChartRule("stacked_share", lambda s: s.share and s.first_metric_additive and 1 <= len(s.result.dimensions) <= 2,
              _stacked_share),
    ChartRule("entity_list", _identifies_rows, _entity_list),
    ChartRule("cross_grouped", lambda s: len(s.result.dimensions) >= 2
              and len(s.result.distinct(s.result.dimensions[1].name)) <= MAX_GROUPED_SERIES
              and len(s.result.rows) <= MAX_GROUPED_CELLS, _cross_grouped),
    ChartRule("cross_heatmap", lambda s: len(s.result.dimensions) >= 2, _cross_heatmap),
    ChartRule("ranked_bar", lambda s: len(s.result.dimensions) >= 1, _ranked_bar),
)


def _wants_share(result: ResultSet, question: str) -> bool:
    return bool(getattr(result.query, "shares", None)) or share_intent(question)


def choose_rule(result: ResultSet, question: str = "") -> ChartRule | None:
    """The first rule that applies, or None when there is nothing to draw."""
    if not result.metrics or not result.rows:
        return None
    shape = Shape(result, _wants_share(result, question))
    return next((rule for rule in RULES if rule.applies(shape)), None)


def build_chart(result: ResultSet, lang: str, question: str = "") -> dict[str, Any] | None:
    """A Vega-Lite spec (dict) for ``result``; ``usermeta.chatbi.rule`` names the rule used."""
    rule = choose_rule(result, question)
    if rule is None:
        return None
    chart = rule.build(Shape(result, _wants_share(result, question)), lang)
    shown = {"cohort_heatmap": [result.column("retention_rate")] if result.is_cohort else [],
             "metric_card": result.metrics, "scatter": result.metrics[:2]}.get(rule.name, result.metrics[:1])
    title = ("、" if lang == "zh" else ", ").join(m.label.get(lang) for m in shown)
    chart = chart.properties(
        title=alt.TitleParams(title, subtitle=result.time_range.describe(lang), anchor="start"),
        usermeta={"chatbi": {"rule": rule.name, "lang": lang}},
    ).configure(font=FONT, locale=LOCALE)
    spec: dict[str, Any] = chart.to_dict()
    if isinstance(spec.get("mark"), dict) and set(spec["mark"]) == {"type"}:
        spec["mark"] = spec["mark"]["type"]  # "bar", as Vega-Lite writes it by hand
    return spec


# --- deeper analyses (assistant/deep.py): rows from a metrics/ module, not a compiled query ---------


def _module_spec(chart: alt.TopLevelMixin, rule: str, title: str, subtitle: str, lang: str) -> dict[str, Any]:
    chart = chart.properties(title=alt.TitleParams(title, subtitle=subtitle, anchor="start"),
                             usermeta={"chatbi": {"rule": rule, "lang": lang}}).configure(font=FONT, locale=LOCALE)
    spec: dict[str, Any] = chart.to_dict()
    return spec


def survival_band_chart(points: list[dict[str, Any]], lang: str, *, title: str, subtitle: str = "",
                        group_title: str = "") -> dict[str, Any]:
    """Kaplan-Meier curves as step lines, one per group, each with its confidence band.

    ``points``: records with ``days``, ``survival``, ``lower``, ``upper`` and ``group``.
    """
    days = "距首次购买天数" if lang == "zh" else "Days since first purchase"
    share = "比例" if lang == "zh" else "Share"
    base = alt.Chart(alt.Data(values=points)).encode(
        x=alt.X("days:Q", title=days),
        color=alt.Color("group:N", title=group_title or None, sort="ascending"))
    band = base.mark_area(opacity=0.2, interpolate="step-after").encode(
        y=alt.Y("lower:Q", title=share, axis=alt.Axis(format=".0%"), scale=alt.Scale(domain=[0, 1])), y2="upper:Q")
    line = base.mark_line(interpolate="step-after").encode(
        y=alt.Y("survival:Q", title=share, axis=alt.Axis(format=".0%")),
        tooltip=[alt.Tooltip("group:N", title=group_title or ("分组" if lang == "zh" else "Group")),
                 alt.Tooltip("days:Q", title=days), alt.Tooltip("survival:Q", format=".1%"),
                 alt.Tooltip("lower:Q", format=".1%"), alt.Tooltip("upper:Q", format=".1%")])
    return _module_spec(band + line, "survival_band", title, subtitle, lang)


def size_bars_chart(records: list[dict[str, Any]], lang: str, *, title: str, subtitle: str = "") -> dict[str, Any]:
    """Clusters as bars of their size (``label``, ``customers``, ``share``), largest first."""
    chart = alt.Chart(alt.Data(values=records)).mark_bar().encode(
        y=alt.Y("label:N", title="客群" if lang == "zh" else "Cluster", sort="-x"),
        x=alt.X("customers:Q", title="客户数" if lang == "zh" else "Customers", axis=alt.Axis(format=",d")),
        tooltip=[alt.Tooltip("label:N"), alt.Tooltip("customers:Q", format=","), alt.Tooltip("share:Q", format=".1%")])
    return _module_spec(chart, "cluster_bars", title, subtitle, lang)


def lift_bars_chart(records: list[dict[str, Any]], lang: str, *, title: str, subtitle: str = "",
                    rule: str = "lift_bars") -> dict[str, Any]:
    """Horizontal bars of lift (``label``, ``lift``) in the given order, with a rule at 1 (= like the base)."""
    order = [r["label"] for r in records]
    bars = alt.Chart(alt.Data(values=records)).mark_bar().encode(
        y=alt.Y("label:N", title=None, sort=order),
        x=alt.X("lift:Q", title="提升度" if lang == "zh" else "Lift", axis=alt.Axis(format=".1f")),
        tooltip=[alt.Tooltip("label:N"), alt.Tooltip("lift:Q", format=".2f")])
    one = alt.Chart(alt.Data(values=[{"one": 1.0}])).mark_rule(strokeDash=[4, 4], color="#888").encode(x="one:Q")
    return _module_spec(bars + one, rule, title, subtitle, lang)
