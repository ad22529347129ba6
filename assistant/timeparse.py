"""Time expressions in Chinese and English → a ``TimeSpec``.

Each rule is (pattern, builder); the first match per kind wins and its span is
consumed so numbers inside dates are not read again as "top N". Relative
phrases stay relative (the compiler resolves them against the as-of date);
"前年" style phrases become absolute years using the as-of date.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Callable

from semantic_layer.query import TimeSpec
from semantic_layer.schema import Grain

_CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}


def cn_number(text: str) -> int:
    """Arabic or simple Chinese numerals up to 99.

    >>> cn_number("十二"), cn_number("3"), cn_number("二十")
    (12, 3, 20)
    """
    if text.isdigit():
        return int(text)
    if text.startswith("十"):
        return 10 + (cn_number(text[1:]) if len(text) > 1 else 0)
    if "十" in text:
        tens, _, ones = text.partition("十")
        return _CN_DIGITS[tens] * 10 + (_CN_DIGITS[ones] if ones else 0)
    return _CN_DIGITS[text]


_N = r"(\d+|[一二两三四五六七八九十]+)"
_Q = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_MONTHS_EN = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august",
     "september", "october", "november", "december"], start=1)}
_MONTH_RE = "|".join(list(_MONTHS_EN) + [m[:3] for m in _MONTHS_EN if len(m) > 3])


@dataclass(frozen=True)
class TimeParse:
    spec: TimeSpec | None
    spans: list[tuple[int, int]]


def _month_end(year: int, month: int) -> dt.date:
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def _quarter(year: int, q: int) -> dict[str, dt.date]:
    return {"start": dt.date(year, 3 * q - 2, 1), "end": _month_end(year, 3 * q)}


def _year(year: int) -> dict[str, dt.date]:
    return {"start": dt.date(year, 1, 1), "end": dt.date(year, 12, 31)}


def _month(year: int, month: int) -> dict[str, dt.date]:
    return {"start": dt.date(year, month, 1), "end": _month_end(year, month)}


def _en_month(name: str) -> int:
    name = name.lower()
    return _MONTHS_EN.get(name) or next(v for k, v in _MONTHS_EN.items() if k.startswith(name[:3]))


Builder = Callable[[re.Match[str], dt.date], dict[str, object]]

#: Ranges, most specific first. Example per rule in the trailing comment.
RANGE_RULES: list[tuple[str, Builder]] = [
    (r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?\s*(?:到|至|~|-|—|to|until)\s*(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?",
     lambda m, _: {"start": dt.date(int(m[1]), int(m[2]), int(m[3])), "end": dt.date(int(m[4]), int(m[5]), int(m[6]))}),  # 2025-01-01到2025-03-31
    (r"(\d{4})\s*年?\s*(?:第\s*)?([一二三四1-4])\s*季度", lambda m, _: _quarter(int(m[1]), _Q[m[2]])),  # 2025年第三季度
    (r"(\d{4})\s*年?\s*q([1-4])", lambda m, _: _quarter(int(m[1]), int(m[2]))),  # 2025 Q3
    (r"q([1-4])\s*(?:of\s*)?(\d{4})", lambda m, _: _quarter(int(m[2]), int(m[1]))),  # Q3 2025
    (r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(?:到|至|-|~)\s*(\d{1,2})\s*月",
     lambda m, _: {"start": dt.date(int(m[1]), int(m[2]), 1), "end": _month_end(int(m[1]), int(m[3]))}),  # 2025年1月到3月
    (r"(\d{4})\s*年\s*(\d{1,2})\s*月", lambda m, _: _month(int(m[1]), int(m[2]))),  # 2025年3月
    (r"(\d{4})-(\d{1,2})(?!\d)", lambda m, _: _month(int(m[1]), int(m[2]))),  # 2025-03
    (rf"({_MONTH_RE})\.?\s+(\d{{4}})", lambda m, _: _month(int(m[2]), _en_month(m[1]))),  # March 2025
    (r"(\d{4})\s*年?\s*上半年", lambda m, _: {"start": dt.date(int(m[1]), 1, 1), "end": dt.date(int(m[1]), 6, 30)}),
    (r"(\d{4})\s*年?\s*下半年", lambda m, _: {"start": dt.date(int(m[1]), 7, 1), "end": dt.date(int(m[1]), 12, 31)}),
    (r"(?:h1|first half(?: of)?)\s*(\d{4})", lambda m, _: {"start": dt.date(int(m[1]), 1, 1), "end": dt.date(int(m[1]), 6, 30)}),
    (r"(?:h2|second half(?: of)?)\s*(\d{4})", lambda m, _: {"start": dt.date(int(m[1]), 7, 1), "end": dt.date(int(m[1]), 12, 31)}),
    (r"(\d{4})\s*(?:年)?\s*(?:到|至|-|~|to)\s*(\d{4})\s*年?", lambda m, _: {"start": dt.date(int(m[1]), 1, 1), "end": dt.date(int(m[2]), 12, 31)}),  # 2023到2024年
    (r"(?:from|between)\s+(\d{4})\s+(?:to|and)\s+(\d{4})", lambda m, _: {"start": dt.date(int(m[1]), 1, 1), "end": dt.date(int(m[2]), 12, 31)}),
    (r"(20\d{2})\s*年(?:度)?", lambda m, _: _year(int(m[1]))),  # 2025年
    (r"(?:in|for|during|of|year)\s+(20\d{2})\b", lambda m, _: _year(int(m[1]))),  # in 2025
    (r"\b(20\d{2})\b(?!\s*(?:元|块|yuan|rmb|cny|单|个|人|位))", lambda m, _: _year(int(m[1]))),  # 2025 (not "2000 yuan")
    (r"(?:第\s*)?([一二三四1-4])\s*季度", lambda m, as_of: _quarter(as_of.year, _Q[m[1]])),  # 第三季度 (as-of year)
    (r"\bq([1-4])\b", lambda m, as_of: _quarter(as_of.year, int(m[1]))),  # Q3
    (r"(?<![\d个])(1[0-2]|[1-9])\s*月份?(?!\d)", lambda m, as_of: _month(as_of.year, int(m[1]))),  # 3月份 (as-of year)
    (r"上半年", lambda m, as_of: {"start": dt.date(as_of.year, 1, 1), "end": dt.date(as_of.year, 6, 30)}),
    (r"下半年", lambda m, as_of: {"start": dt.date(as_of.year, 7, 1), "end": dt.date(as_of.year, 12, 31)}),
    (rf"(?:最近|近|过去|最近的)\s*{_N}\s*(?:天|日)", lambda m, _: {"relative": "last_n_days", "n": cn_number(m[1])}),
    (rf"(?:最近|近|过去)\s*{_N}\s*(?:个)?(?:周|星期)", lambda m, _: {"relative": "last_n_weeks", "n": cn_number(m[1])}),
    (rf"(?:最近|近|过去)\s*{_N}\s*个?月", lambda m, _: {"relative": "last_n_months", "n": cn_number(m[1])}),
    (rf"(?:最近|近|过去)\s*{_N}\s*个?季度", lambda m, _: {"relative": "last_n_quarters", "n": cn_number(m[1])}),
    (rf"(?:最近|近|过去)\s*{_N}\s*年", lambda m, _: {"relative": "last_n_years", "n": cn_number(m[1])}),
    (r"(?:last|past|previous)\s+(\d+)\s+days?", lambda m, _: {"relative": "last_n_days", "n": int(m[1])}),
    (r"(?:last|past|previous)\s+(\d+)\s+weeks?", lambda m, _: {"relative": "last_n_weeks", "n": int(m[1])}),
    (r"(?:last|past|previous)\s+(\d+)\s+months?", lambda m, _: {"relative": "last_n_months", "n": int(m[1])}),
    (r"(?:last|past|previous)\s+(\d+)\s+quarters?", lambda m, _: {"relative": "last_n_quarters", "n": int(m[1])}),
    (r"(?:last|past|previous)\s+(\d+)\s+years?", lambda m, _: {"relative": "last_n_years", "n": int(m[1])}),
    (r"今年以来|年初至今|本年迄今|year[- ]to[- ]date|\bytd\b", lambda m, _: {"relative": "year_to_date"}),
    (r"本季度以来|季初至今|quarter[- ]to[- ]date|\bqtd\b", lambda m, _: {"relative": "quarter_to_date"}),
    (r"本月以来|月初至今|month[- ]to[- ]date|\bmtd\b", lambda m, _: {"relative": "month_to_date"}),
    (r"前年|the year before last", lambda m, as_of: _year(as_of.year - 2)),
    (r"今年|本年|this year|current year", lambda m, _: {"relative": "this_year"}),
    (r"去年|上一年|上年|last year|previous year", lambda m, _: {"relative": "last_year"}),
    (r"本季度|这个季度|当季|this quarter|current quarter", lambda m, _: {"relative": "this_quarter"}),
    (r"上季度|上个季度|上一季度|last quarter|previous quarter", lambda m, _: {"relative": "last_quarter"}),
    (r"本月|这个月|当月|this month|current month", lambda m, _: {"relative": "this_month"}),
    (r"上个月|上月|上一个月|last month|previous month", lambda m, _: {"relative": "last_month"}),
    (r"本周|这周|这一周|this week", lambda m, _: {"relative": "this_week"}),
    (r"今天|今日|today", lambda m, _: {"relative": "today"}),
]

#: Grains: "每月", "按季度", "monthly", "trend" (a series by month).
GRAIN_RULES: list[tuple[str, Grain]] = [
    (r"每天|每日|按天|按日|逐日|日度|daily|by day|per day|each day", Grain.day),
    (r"每周|按周|逐周|周度|weekly|by week|per week|each week", Grain.week),
    (r"每个?月|按月|逐月|月度|各月|分月|monthly|by month|per month|each month|month by month|month over month", Grain.month),
    (r"每个?季度|按季度?|逐季|季度走势|分季度|各季度|quarterly|by quarter|per quarter|each quarter", Grain.quarter),
    (r"每年|按年(?!龄)|逐年|年度走势|分年(?!龄)|各年(?!龄)|yearly|annually|by year|per year|each year|year over year", Grain.year),
    (r"趋势|走势|变化情况|变化|trend|over time|time series", Grain.month),
]


def parse_time(question: str, as_of: dt.date, blocked: list[tuple[int, int]] | None = None) -> TimeParse:
    """The question's time range and grain; ``spec`` is None when it has neither.

    ``blocked`` spans belong to longer catalog terms ("近一年销售额" is a metric,
    not "the last year" + 销售额) and are not read as time.
    """
    text = question.lower()
    spans: list[tuple[int, int]] = list(blocked or [])
    fields: dict[str, object] = {}
    for pattern, build in RANGE_RULES:
        m = _first_free(pattern, text, spans)
        if m:
            try:
                fields.update(build(m, as_of))
            except ValueError:  # 2025年13月: not a date; leave it to the clarifier
                continue
            spans.append(m.span())
            break
    for pattern, grain in GRAIN_RULES:
        m = _first_free(pattern, text, spans)
        if m:
            fields["grain"] = grain
            spans.append(m.span())
            break
    spans = spans[len(blocked or []):]
    return TimeParse(TimeSpec.model_validate(fields) if fields else None, spans)


def _first_free(pattern: str, text: str, spans: list[tuple[int, int]]) -> re.Match[str] | None:
    return next((m for m in re.finditer(pattern, text) if not overlaps(m.span(), spans)), None)


def overlaps(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    """Whether ``span`` shares a character with any of ``spans`` (half-open ranges)."""
    return any(span[0] < e and s < span[1] for s, e in spans)
