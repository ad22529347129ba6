"""Resolve a query's time spec to concrete dates against the as-of date.

The as-of date is the data's own today (DESIGN §3): the latest order date, so
"今年" on the demo warehouse is 2025 whatever the wall clock says.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta

from .query import TimeSpec
from .schema import Grain


@dataclass(frozen=True)
class DateRange:
    start: dt.date | None  # None: open (all data)
    end: dt.date | None  # inclusive

    def describe(self, lang: str) -> str:
        if self.start is None and self.end is None:
            return "全部时间" if lang == "zh" else "all time"
        start = self.start.isoformat() if self.start else "…"
        end = self.end.isoformat() if self.end else "…"
        return f"{start} 至 {end}" if lang == "zh" else f"{start} to {end}"


def truncate(day: dt.date, grain: Grain) -> dt.date:
    """First day of the ``grain`` period holding ``day`` (weeks start on Monday).

    >>> truncate(dt.date(2025, 8, 14), Grain.quarter)
    datetime.date(2025, 7, 1)
    """
    if grain is Grain.day:
        return day
    if grain is Grain.week:
        return day - dt.timedelta(days=day.weekday())
    if grain is Grain.month:
        return day.replace(day=1)
    if grain is Grain.quarter:
        return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    if grain is Grain.year:
        return dt.date(day.year, 1, 1)
    raise AssertionError(grain)


_STEP = {
    Grain.day: relativedelta(days=1),
    Grain.week: relativedelta(weeks=1),
    Grain.month: relativedelta(months=1),
    Grain.quarter: relativedelta(months=3),
    Grain.year: relativedelta(years=1),
}


def shift(day: dt.date, grain: Grain, n: int) -> dt.date:
    """Move ``day`` by ``n`` periods of ``grain``.

    >>> shift(dt.date(2025, 12, 1), Grain.quarter, -1)
    datetime.date(2025, 9, 1)
    """
    return day + n * _STEP[grain]


def period(as_of: dt.date, grain: Grain, offset: int = 0) -> DateRange:
    """The ``grain`` period holding ``as_of``, moved by ``offset`` periods.

    上季度 with as-of 2025-12-31 → the calendar quarter before: 2025-07-01 .. 2025-09-30.

    >>> period(dt.date(2025, 12, 31), Grain.quarter, -1)
    DateRange(start=datetime.date(2025, 7, 1), end=datetime.date(2025, 9, 30))
    """
    start = shift(truncate(as_of, grain), grain, offset)
    return DateRange(start, shift(start, grain, 1) - dt.timedelta(days=1))


def resolve(spec: TimeSpec | None, as_of: dt.date) -> DateRange:
    """Concrete inclusive dates for ``spec``; no spec means all data.

    最近N个月 / last N months = the N calendar months ending with the as-of month;
    最近30天 = the 30 days ending on the as-of date.
    """
    if spec is None or (spec.relative is None and spec.start is None and spec.end is None):
        return DateRange(None, None)
    if spec.relative is None:
        return DateRange(spec.start, spec.end)
    rel, n = spec.relative, spec.n or 1
    fixed = {
        "today": (Grain.day, 0), "this_week": (Grain.week, 0),
        "this_month": (Grain.month, 0), "last_month": (Grain.month, -1),
        "this_quarter": (Grain.quarter, 0), "last_quarter": (Grain.quarter, -1),
        "this_year": (Grain.year, 0), "last_year": (Grain.year, -1),
    }
    if rel in fixed:
        grain, offset = fixed[rel]
        return period(as_of, grain, offset)
    to_date = {"year_to_date": Grain.year, "quarter_to_date": Grain.quarter, "month_to_date": Grain.month}
    if rel in to_date:
        return DateRange(truncate(as_of, to_date[rel]), as_of)
    if rel == "last_n_days":
        return DateRange(as_of - dt.timedelta(days=n - 1), as_of)
    last_n = {"last_n_weeks": Grain.week, "last_n_months": Grain.month,
              "last_n_quarters": Grain.quarter, "last_n_years": Grain.year}
    grain = last_n[rel]
    return DateRange(shift(truncate(as_of, grain), grain, -(n - 1)), period(as_of, grain).end)
