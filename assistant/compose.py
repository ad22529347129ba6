"""Turn a result into a chart spec and a short narrative, deterministically.

Chart choice is a rule over the query's shape, never chart code from a model.
Every number in the narrative is read from the result rows.
"""

from __future__ import annotations

from typing import Any

from semantic_layer.compiler import CompiledQuery, OutputColumn


def format_value(value: Any, col: OutputColumn, lang: str) -> str:
    """A number as a reader expects it: ¥1,234.50, 12.3%, 1,234.

    >>> from semantic_layer.schema import Text
    >>> format_value(0.1234, OutputColumn("r", "metric", Text(zh="率", en="rate"), "percent"), "en")
    '12.3%'
    """
    if value is None:
        return "—"
    if col.format == "percent":
        return f"{float(value) * 100:.1f}%"
    if col.format == "currency":
        return f"¥{float(value):,.2f}"
    if col.format == "count":
        return f"{int(round(float(value))):,}"
    if isinstance(value, float):
        return f"{value:,.{col.decimals}f}"
    return str(value)


def choose_chart(compiled: CompiledQuery, rows: list[tuple[Any, ...]], lang: str) -> dict[str, Any] | None:
    """A Vega-Lite spec: line for a time series, bar for one category, card for one number."""
    cols = compiled.columns
    metrics = [c for c in cols if c.kind == "metric"]
    dims = [c for c in cols if c.kind == "dimension"]
    time = [c for c in cols if c.kind == "time"]
    if not metrics or not rows:
        return None
    names = [c.name for c in cols]
    values = [dict(zip(names, [_jsonable(v) for v in row])) for row in rows]
    m = metrics[0]
    y = {"field": m.name, "type": "quantitative", "title": m.label.get(lang), "axis": {"format": _d3_format(m)}}
    base: dict[str, Any] = {"$schema": "https://vega.github.io/schema/vega-lite/v5.json",
                            "data": {"values": values}, "width": "container"}
    if time:
        enc: dict[str, Any] = {"x": {"field": time[0].name, "type": "temporal", "title": time[0].label.get(lang)}, "y": y}
        if dims:
            enc["color"] = {"field": dims[0].name, "type": "nominal", "title": dims[0].label.get(lang)}
        return {**base, "mark": {"type": "line", "point": True}, "encoding": enc}
    if dims:
        x = {"field": dims[0].name, "type": "nominal", "title": dims[0].label.get(lang), "sort": "-y"}
        enc = {"x": x, "y": y}
        if len(dims) > 1:
            enc["xOffset"] = {"field": dims[1].name}
            enc["color"] = {"field": dims[1].name, "type": "nominal", "title": dims[1].label.get(lang)}
        return {**base, "mark": "bar", "encoding": enc}
    return {**base, "mark": {"type": "text", "fontSize": 32},
            "encoding": {"text": {"field": m.name, "type": "quantitative", "format": _d3_format(m)}}}


def _d3_format(col: OutputColumn) -> str:
    return {"percent": ".1%", "currency": ",.2f", "count": ",d"}.get(col.format, ",.2f")


def _jsonable(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def narrate(compiled: CompiledQuery, rows: list[tuple[Any, ...]], lang: str) -> str:
    """Totals, top and bottom items in the user's language; numbers come from ``rows``."""
    cols = compiled.columns
    metrics = [(i, c) for i, c in enumerate(cols) if c.kind == "metric"]
    keys = [(i, c) for i, c in enumerate(cols) if c.kind != "metric"]
    time_range = compiled.lineage.time_range.describe(lang)
    if not rows:
        return "没有符合条件的数据。" if lang == "zh" else "No data matches the question."
    i, m = metrics[0]
    label = m.label.get(lang)
    if not keys:
        parts = [f"{c.label.get(lang)}: {format_value(rows[0][j], c, lang)}" for j, c in metrics]
        joined = ", ".join(parts)
        return f"{time_range}, {joined}。" if lang == "zh" else f"{time_range}: {joined}."
    k, key = keys[0]
    ranked = [r for r in rows if r[i] is not None]
    if not ranked:
        return "结果中没有数值。" if lang == "zh" else "The result has no values."
    top = max(ranked, key=lambda r: r[i])
    low = min(ranked, key=lambda r: r[i])
    top_text = f"{_label(top[k], key, lang)}({format_value(top[i], m, lang)})"
    low_text = f"{_label(low[k], key, lang)}({format_value(low[i], m, lang)})"
    if lang == "zh":
        return f"{time_range}, 共 {len(rows)} 行。{label}最高的是 {top_text}, 最低的是 {low_text}。"
    return f"{time_range}: {len(rows)} rows. Highest {label}: {top_text}; lowest: {low_text}."


def _label(value: Any, col: OutputColumn, lang: str) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else col.display(value, lang)
