"""Numbers, keys and lists as a reader expects them, in zh and en.

One place decides how a value is shown, so the narrative, the suggestions, the
report table and the chart tooltips all print ¥1,234.50 and 12.3% alike.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable

from semantic_layer.compiler import OutputColumn

#: Vega/d3 formats per metric format: (axis, tooltip). ``$`` is the locale's currency (¥, see charts).
D3_FORMATS = {
    "currency": ("$.3~s", "$,.2f"),
    "percent": (".0%", ".1%"),
    "count": ("~s", ",d"),
}

#: How a time key reads at each grain: month 2025-11-01 → "2025-11", quarter → "2025-Q4".
_GRAIN_FORMATS = {"day": "%Y-%m-%d", "week": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}


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
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def format_key(value: Any, col: OutputColumn, lang: str) -> str:
    """A dimension or time value as shown: East → 华东, 2025-11-01 at month grain → 2025-11.

    >>> from semantic_layer.schema import Text
    >>> format_key(dt.date(2025, 10, 1), OutputColumn("quarter", "time", Text(zh="季度", en="Quarter"), "date"), "en")
    '2025-Q4'
    """
    if isinstance(value, str) and col.kind == "time":
        value = dt.date.fromisoformat(value[:10])
    if isinstance(value, (dt.date, dt.datetime)):
        grain = col.name if col.kind == "time" else ("month" if col.name == "cohort" else "day")
        if grain == "quarter":
            return f"{value.year}-Q{(value.month - 1) // 3 + 1}"
        return value.strftime(_GRAIN_FORMATS.get(grain, "%Y-%m-%d"))
    return col.display(value, lang)


def format_change(current: float, previous: float, col: OutputColumn, lang: str) -> str | None:
    """The change from ``previous`` to ``current``: percentage points for rates, percent otherwise.

    >>> from semantic_layer.schema import Text
    >>> rev = OutputColumn("revenue", "metric", Text(zh="销售额", en="Revenue"), "currency")
    >>> format_change(110.0, 100.0, rev, "zh"), format_change(90.0, 100.0, rev, "en")
    ('增长 10.0%', 'down 10.0%')
    """
    if col.format == "percent":
        diff = (current - previous) * 100
        if round(abs(diff), 1) == 0:
            return "持平" if lang == "zh" else "unchanged"
        if lang == "zh":
            return f"{'上升' if diff >= 0 else '下降'} {abs(diff):.1f} 个百分点"
        return f"{'up' if diff >= 0 else 'down'} {abs(diff):.1f} percentage points"
    if previous == 0:
        return None
    rel = (current - previous) / abs(previous) * 100
    if round(abs(rel), 1) == 0:
        return "持平" if lang == "zh" else "unchanged"
    if lang == "zh":
        return f"{'增长' if rel >= 0 else '下降'} {abs(rel):.1f}%"
    return f"{'up' if rel >= 0 else 'down'} {abs(rel):.1f}%"


def format_share(part: float, whole: float) -> str:
    """``part`` as a percentage of ``whole``.

    >>> format_share(1, 8)
    '12.5%'
    """
    return f"{part / whole * 100:.1f}%"


def join_names(names: Iterable[str], lang: str) -> str:
    """华东、华南 / East, South."""
    return ("、" if lang == "zh" else ", ").join(names)


def count_of(n: int, col: OutputColumn, lang: str) -> str:
    """「7 个地区」 / "7 groups by Region" — a count of a dimension's values.

    >>> from semantic_layer.schema import Text
    >>> count_of(7, OutputColumn("region", "dimension", Text(zh="地区", en="Region"), "text"), "zh")
    '7 个地区'
    """
    if lang == "zh":
        return f"{n} 个{col.label.zh}"
    return f"{n} group{'s' if n != 1 else ''} by {col.label.en}"


def customers(n: int, lang: str) -> str:
    """「1,889 位客户」 / "1,889 customers"."""
    return f"{n:,} 位客户" if lang == "zh" else f"{n:,} customer{'s' if n != 1 else ''}"


def display_width(text: str) -> int:
    """Columns a label takes: CJK characters count twice.

    >>> display_width("华东"), display_width("East")
    (4, 4)
    """
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
