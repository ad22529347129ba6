"""Monthly marketing spend per paid acquisition channel.

Spend is what each channel's new customers cost: the month's new customers (by first
order) × the channel's cost per acquisition × a seasonal factor (ad auctions are
dearer around 618 and Double 11) × noise. So CAC comes out near each channel's
`cpa`: Search Ads dearest, Referral cheapest. Organic has no rows at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from warehouse import season
from warehouse.customers import ACQUISITIONS, Customers

# Calendar month → multiplier on cost per acquisition.
CPA_SEASON = {2: 0.90, 6: 1.15, 11: 1.25, 12: 1.05}
CPA_NOISE = 0.08  # lognormal sigma per (month, channel)


@dataclass(frozen=True)
class Spend:
    """Spend rows: month number (0 = 2023-01), channel index, cents."""

    month: np.ndarray
    acquisition: np.ndarray
    cents: np.ndarray


def marketing_spend(rng: np.random.Generator, cust: Customers) -> Spend:
    """One row per month and paid channel, 2023-01 .. 2025-12."""
    k = len(ACQUISITIONS)
    first_month = season.month_index(cust.first_day[cust.buyer])
    cell = first_month * k + cust.acquisition[cust.buyer]
    new = np.bincount(cell, minlength=season.N_MONTHS * k).reshape(season.N_MONTHS, k)
    calendar_month = np.arange(season.N_MONTHS) % 12 + 1
    seasonal = np.array([CPA_SEASON.get(int(m), 1.0) for m in calendar_month])
    cpa = np.array([a.cpa for a in ACQUISITIONS])
    noise = rng.lognormal(0.0, CPA_NOISE, (season.N_MONTHS, k))
    cents = np.rint(new * cpa[None, :] * seasonal[:, None] * noise * 100).astype(np.int64)
    month, channel = np.meshgrid(np.arange(season.N_MONTHS), np.arange(k), indexing="ij")
    paid = (cpa > 0)[channel]
    return Spend(month[paid], channel[paid], cents[paid])
