"""The demo calendar: day indices 2023-01-01..2025-12-31 and their shopping intensity.

Every date in the generator is an integer day index from START; the writer turns
it into a DATE. The intensity curve drives both when orders happen (customers'
purchase clocks run faster on busy days) and when new customers arrive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

START = date(2023, 1, 1)
END = date(2025, 12, 31)  # the as-of date: the latest order_date is exactly this
N_DAYS = (END - START).days + 1
YEARS = tuple(range(START.year, END.year + 1))
N_MONTHS = (END.year - START.year) * 12 + END.month - START.month + 1
DAYS_PER_YEAR = 365.25

# Chinese New Year (正月初一) of each year in range; the retail lull moves with it.
CNY = {2023: date(2023, 1, 22), 2024: date(2024, 2, 10), 2025: date(2025, 1, 29)}


@dataclass(frozen=True)
class Event:
    """A recurring window that scales daily shopping intensity.

    anchor is "cny" (offsets from each Chinese New Year) or "MM-DD" (that date
    every year); first..last are inclusive day offsets from the anchor.
    """

    label: str
    anchor: str
    first: int
    last: int
    factor: float
    promo: bool  # platform-wide discounts run on these days


# Factors multiply where windows overlap. Tuned so that February (or the late-January
# week of an early New Year) dips, June spikes, and November is each year's top month.
EVENTS: tuple[Event, ...] = (
    Event("new-year goods festival 年货节", "cny", -24, -9, 1.35, False),
    Event("spring festival lull 春节", "cny", -8, 10, 0.35, False),
    Event("lantern festival recovery", "cny", 11, 20, 0.75, False),
    Event("618 presale", "06-01", 0, 14, 1.45, True),
    Event("618 peak", "06-16", 0, 2, 2.2, True),
    Event("618 hangover", "06-19", 0, 11, 0.95, False),
    Event("double 11 presale", "10-31", 0, 9, 1.8, True),
    Event("double 11 eve", "11-10", 0, 0, 2.5, True),
    Event("double 11 peak 双十一", "11-11", 0, 0, 7.0, True),
    Event("double 12", "12-12", 0, 0, 2.0, True),
    Event("year-end holidays", "12-20", 0, 11, 1.1, False),
)
WEEKEND_FACTOR = 1.08
TREND_PER_YEAR = 0.06  # same-customer spend frequency creeps up a little each year


def day_index(d: date) -> int:
    """Day index of a date (0 = START)."""
    return (d - START).days


def years_elapsed() -> np.ndarray:
    """Years since START for each day index, as float."""
    return np.arange(N_DAYS) / DAYS_PER_YEAR


def event_days(event: Event) -> np.ndarray:
    """Day indices covered by an event in every year, clipped to the range."""
    anchors = [CNY[y] if event.anchor == "cny" else _on(y, event.anchor) for y in YEARS]
    idx = [
        day_index(a + timedelta(days=k))
        for a in anchors
        for k in range(event.first, event.last + 1)
    ]
    out = np.array(idx, dtype=np.int64)
    return out[(out >= 0) & (out < N_DAYS)]


def event_factor() -> np.ndarray:
    """Product of all event factors per day (1.0 on ordinary days)."""
    f = np.ones(N_DAYS)
    for event in EVENTS:
        f[event_days(event)] *= event.factor
    return f


def promo_days() -> np.ndarray:
    """Boolean per day: a platform-wide promotion is running."""
    on = np.zeros(N_DAYS, dtype=bool)
    for event in EVENTS:
        if event.promo:
            on[event_days(event)] = True
    return on


def weekend_factor() -> np.ndarray:
    """WEEKEND_FACTOR on Saturdays and Sundays, 1.0 otherwise."""
    weekday = (np.arange(N_DAYS) + START.weekday()) % 7  # 0 = Monday
    return np.where(weekday >= 5, WEEKEND_FACTOR, 1.0)


def order_intensity(rng: np.random.Generator) -> np.ndarray:
    """Relative purchase intensity per day: events × weekends × trend × small noise."""
    trend = 1.0 + TREND_PER_YEAR * years_elapsed()
    noise = rng.lognormal(0.0, 0.05, N_DAYS)
    return event_factor() * weekend_factor() * trend * noise


def month_index(days: np.ndarray) -> np.ndarray:
    """Month number 0..35 of each day index (0 = 2023-01)."""
    dates = np.datetime64(START.isoformat(), "D") + days.astype("timedelta64[D]")
    months = dates.astype("datetime64[M]").astype(np.int64)
    return months - np.datetime64(START.isoformat(), "M").astype(np.int64)



def month_start_days() -> np.ndarray:
    """Day index of the first day of each month 0..N_MONTHS-1."""
    first = np.datetime64(START.isoformat(), "M") + np.arange(N_MONTHS).astype("timedelta64[M]")
    return (first.astype("datetime64[D]") - np.datetime64(START.isoformat(), "D")).astype(np.int64)


def _on(year: int, month_day: str) -> date:
    month, day = (int(part) for part in month_day.split("-"))
    return date(year, month, day)
