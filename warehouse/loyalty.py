"""What follows from behaviour: membership tiers and satisfaction surveys.

Membership is earned by spend (with noise, since tiers lag and promotions upgrade
people), so Platinum customers really are the big spenders. Surveys go to roughly
one customer in ten after a purchase; engaged customers answer more often and
score higher, and a returned or cancelled order drags the score down.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from warehouse import season
from warehouse.customers import ACQUISITION_NAMES, Customers
from warehouse.orders import CANCELLED, COMPLETED, RETURNED, Orders

MEMBERSHIP_TIERS: tuple[str, ...] = ("Regular", "Silver", "Gold", "Platinum")
# Share of all customers in each tier above Regular, best first.
TIER_SHARES = {"Platinum": 0.03, "Gold": 0.09, "Silver": 0.20}
TIER_NOISE = 0.35  # lognormal sigma on spend before ranking

SURVEY_SHARE = 0.10  # expected share of customers surveyed at least once
SURVEY_ENGAGEMENT = 0.4  # response propensity ∝ orders ** this
EXTRA_SURVEYS = (3, 0.12)  # Binomial(n, p) further surveys of the same customer
SURVEY_DELAY_P = 0.35  # survey sent Geometric(p) days after the purchase
NPS_BASE, NPS_PER_LOG_ORDER, NPS_NOISE = 6.2, 1.0, 1.8
NPS_PENALTY = {RETURNED: 2.5, CANCELLED: 1.5}
NPS_REFERRAL_BONUS = 0.5


@dataclass(frozen=True)
class Surveys:
    """Survey columns in survey_id order."""

    customer: np.ndarray
    day: np.ndarray
    nps: np.ndarray
    satisfaction: np.ndarray


def membership_tiers(rng: np.random.Generator, n: int, orders: Orders) -> np.ndarray:
    """Tier index per customer (into MEMBERSHIP_TIERS) by noisy completed spend."""
    paid = np.where(orders.status == COMPLETED, orders.amount, 0).astype(float)
    spend = np.bincount(orders.customer, weights=paid, minlength=n)
    score = spend * rng.lognormal(0.0, TIER_NOISE, n)
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(-score, kind="stable")] = np.arange(n)
    tier = np.zeros(n, dtype=np.int8)
    cut = 0
    for name, share in TIER_SHARES.items():
        size = int(round(share * n))
        tier[(rank >= cut) & (rank < cut + size) & (score > 0)] = MEMBERSHIP_TIERS.index(name)
        cut += size
    return tier


def draw_surveys(rng: np.random.Generator, cust: Customers, orders: Orders) -> Surveys:
    """Post-purchase surveys, sorted by date then customer."""
    n = len(cust.buyer)
    n_orders = np.bincount(orders.customer, minlength=n)
    propensity = np.where(n_orders > 0, n_orders.astype(float) ** SURVEY_ENGAGEMENT, 0.0)
    p = np.clip(SURVEY_SHARE * n * propensity / propensity.sum(), 0.0, 0.9)
    surveyed = np.flatnonzero(rng.random(n) < p)
    per = 1 + rng.binomial(*EXTRA_SURVEYS, len(surveyed))
    who = np.repeat(surveyed, per)
    order = _random_order_of(rng, orders, n_orders, who)
    day = orders.day[order] + rng.geometric(SURVEY_DELAY_P, len(who))
    nps = _nps(rng, cust, orders, n_orders, who, order)
    satisfaction = np.clip(np.rint(1 + 0.4 * nps + rng.normal(0, 0.6, len(who))), 1, 5)
    sent = day < season.N_DAYS  # surveys due after the as-of date are not sent yet
    sort = np.flatnonzero(sent)[np.lexsort((who[sent], day[sent]))]
    return Surveys(
        who[sort].astype(np.int32),
        day[sort].astype(np.int32),
        nps[sort].astype(np.int16),
        satisfaction[sort].astype(np.int16),
    )


def _random_order_of(
    rng: np.random.Generator, orders: Orders, n_orders: np.ndarray, who: np.ndarray
) -> np.ndarray:
    """Index of a uniformly chosen order of each given customer."""
    by_customer = np.argsort(orders.customer, kind="stable")
    first = np.cumsum(n_orders) - n_orders
    pick = first[who] + (rng.random(len(who)) * n_orders[who]).astype(np.int64)
    return by_customer[pick]


def _nps(
    rng: np.random.Generator,
    cust: Customers,
    orders: Orders,
    n_orders: np.ndarray,
    who: np.ndarray,
    order: np.ndarray,
) -> np.ndarray:
    """0–10 likelihood to recommend: loyal customers promote, bad orders detract."""
    mean = NPS_BASE + NPS_PER_LOG_ORDER * np.log(n_orders[who])
    for status, penalty in NPS_PENALTY.items():
        mean = mean - penalty * (orders.status[order] == status)
    referral = cust.acquisition[who] == ACQUISITION_NAMES.index("Referral")
    mean = mean + NPS_REFERRAL_BONUS * referral
    return np.clip(np.rint(mean + rng.normal(0.0, NPS_NOISE, len(who))), 0, 10)
