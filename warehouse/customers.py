"""Customers: who they are, when they arrive, and their latent buying behaviour.

Arrivals follow the calendar's intensity (promotions bring new customers) and grow
year on year. Behaviour follows BG/NBD: each customer buys as a Poisson process with
a Gamma-distributed rate and may drop out after any purchase with a Beta-distributed
probability — which gives heavy-tailed purchase counts and genuine churners. The
acquisition channel shifts those distributions: referred customers stay longest,
social-media customers leave soonest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from warehouse import season
from warehouse.cities import CITIES, TIERS


@dataclass(frozen=True)
class Acquisition:
    """One acquisition channel: mix, customer quality and cost per new customer."""

    name: str
    share: float  # share of new customers at START
    share_trend: float  # log-share change per year (Social Media rising)
    rate_scale: float  # mean purchases per ordinary day = RATE_SHAPE × rate_scale
    one_off: float  # share who buy once and never return (deal seekers)
    dropout: tuple[float, float]  # Beta(a, b) of the others' per-purchase dropout chance
    store_affinity: float  # log-odds boost of buying in a Store
    age_shift: float  # years added to the age distribution
    female_share: float
    cpa: float  # ¥ marketing spend per new customer (0 = no spend rows)


# fmt: off
# name, share, share_trend, rate_scale, one_off, dropout, store_affinity, age_shift,
# female_share, cpa
ACQUISITIONS: tuple[Acquisition, ...] = (
    Acquisition("Search Ads",    0.28, -0.10, 0.070, 0.30, (1.0, 9.0),  -0.4,  0.0, 0.55, 380.0),
    Acquisition("Social Media",  0.18,  0.30, 0.060, 0.40, (1.0, 6.0),  -0.6, -6.0, 0.66, 260.0),
    Acquisition("Referral",      0.12,  0.05, 0.084, 0.12, (1.0, 18.0),  0.0,  1.0, 0.58, 90.0),
    Acquisition("Offline Store", 0.20, -0.05, 0.070, 0.25, (1.0, 11.0),  1.8,  6.0, 0.57, 150.0),
    Acquisition("Organic",       0.22,  0.00, 0.073, 0.22, (1.0, 13.0),  0.0,  2.0, 0.58, 0.0),
)
# fmt: on
ACQUISITION_NAMES: tuple[str, ...] = tuple(a.name for a in ACQUISITIONS)
GENDERS: tuple[str, ...] = ("Female", "Male")

RATE_SHAPE = 1.0  # Gamma shape of purchase rates (exponential: many slow, a few fast)
MAX_RATE = 0.25  # nobody shops more than every 4 days on average
ARRIVAL_GROWTH = 0.18  # new customers per day grow ~20 % a year
LAUNCH_BOOST = 5.0  # existing shoppers enrolling when the CRM launched in Jan 2023
LAUNCH_DAYS = 60.0  # e-folding time of that launch wave
ARRIVAL_SEASON_POWER = 0.7  # promotions attract new customers, a bit less than orders
NEVER_BUYER_SHARE = 0.04  # registered, never ordered
SIGNUP_SAME_DAY = 0.7  # otherwise signup precedes the first order by a few days
AGE_BASE, AGE_GAMMA_SHAPE, AGE_GAMMA_SCALE = 19.0, 3.2, 6.0  # median age ~35
AGE_MIN, AGE_MAX = 18, 80
# Price class mix (budget, mainstream, premium) per city tier, Tier 1 spends most.
PRICE_CLASS_MIX: dict[str, tuple[float, float, float]] = {
    "Tier 1": (0.22, 0.45, 0.33),
    "Tier 2": (0.35, 0.45, 0.20),
    "Tier 3": (0.50, 0.40, 0.10),
}
TIER_RATE = {"Tier 1": 1.10, "Tier 2": 1.00, "Tier 3": 0.90}


@dataclass(frozen=True)
class Customers:
    """Customer columns (index i is customer_id i + 1), in order of first-order day."""

    first_day: np.ndarray  # day of the first order (arrival)
    signup_day: np.ndarray
    buyer: np.ndarray  # False for registered never-buyers
    acquisition: np.ndarray  # index into ACQUISITIONS
    city: np.ndarray  # index into CITIES
    female: np.ndarray
    age: np.ndarray
    price_class: np.ndarray  # 0 budget, 1 mainstream, 2 premium
    basket: np.ndarray  # Binomial p of extra order lines
    rate: np.ndarray  # purchases per ordinary day
    dropout: np.ndarray  # P(leave) after each purchase


def draw_customers(rng: np.random.Generator, n: int, intensity: np.ndarray) -> Customers:
    """All customers, arrivals sorted so ids grow with time."""
    first_day = np.sort(rng.choice(season.N_DAYS, size=n, p=arrival_weights(intensity)))
    acq = _acquisition(rng, first_day)
    city = rng.choice(len(CITIES), size=n, p=_norm([c.weight for c in CITIES]))
    tier = np.array([TIERS.index(c.city_tier) for c in CITIES])[city]
    female = rng.random(n) < np.array([a.female_share for a in ACQUISITIONS])[acq]
    age = _age(rng, acq)
    price_class = _price_class(rng, tier)
    basket = rng.beta(3.0, 5.0, n)
    rate = _rate(rng, acq, tier)
    a, b = (np.array([x.dropout[j] for x in ACQUISITIONS])[acq] for j in (0, 1))
    one_off = rng.random(n) < np.array([x.one_off for x in ACQUISITIONS])[acq]
    dropout = np.where(one_off, 1.0, rng.beta(a, b))
    buyer = rng.random(n) >= NEVER_BUYER_SHARE
    lag = np.where(rng.random(n) < SIGNUP_SAME_DAY, 0, rng.geometric(0.15, n))
    signup_day = np.where(buyer, np.maximum(first_day - lag, 0), first_day)
    return Customers(
        first_day, signup_day, buyer, acq, city, female, age, price_class, basket, rate, dropout
    )


def arrival_weights(intensity: np.ndarray) -> np.ndarray:
    """Probability of each day being a new customer's arrival day."""
    days = np.arange(season.N_DAYS)
    growth = np.exp(ARRIVAL_GROWTH * season.years_elapsed())
    launch = 1.0 + LAUNCH_BOOST * np.exp(-days / LAUNCH_DAYS)
    return _norm(growth * launch * intensity**ARRIVAL_SEASON_POWER)


def _acquisition(rng: np.random.Generator, day: np.ndarray) -> np.ndarray:
    """Channel per customer; the mix drifts with time (Social Media gains)."""
    years = day / season.DAYS_PER_YEAR
    share = np.array([a.share for a in ACQUISITIONS])
    trend = np.array([a.share_trend for a in ACQUISITIONS])
    weights = share[None, :] * np.exp(years[:, None] * trend[None, :])
    return _pick_rows(rng, weights)


def _age(rng: np.random.Generator, acq: np.ndarray) -> np.ndarray:
    shift = np.array([a.age_shift for a in ACQUISITIONS])[acq]
    raw = AGE_BASE + shift + rng.gamma(AGE_GAMMA_SHAPE, AGE_GAMMA_SCALE, len(acq))
    return np.clip(np.rint(raw), AGE_MIN, AGE_MAX).astype(np.int16)


def _price_class(rng: np.random.Generator, tier: np.ndarray) -> np.ndarray:
    mix = np.array([PRICE_CLASS_MIX[t] for t in TIERS])[tier]
    return _pick_rows(rng, mix).astype(np.int8)


def _rate(rng: np.random.Generator, acq: np.ndarray, tier: np.ndarray) -> np.ndarray:
    scale = np.array([a.rate_scale for a in ACQUISITIONS])[acq]
    scale = scale * np.array([TIER_RATE[t] for t in TIERS])[tier]
    return np.minimum(rng.gamma(RATE_SHAPE, scale), MAX_RATE)


def _pick_rows(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """One categorical draw per row of a (n, k) weight matrix."""
    cum = np.cumsum(weights, axis=1)
    u = rng.random(len(weights)) * cum[:, -1]
    return (u[:, None] >= cum).sum(axis=1).astype(np.int8)


def _norm(values: object) -> np.ndarray:
    w = np.asarray(values, dtype=float)
    return w / w.sum()
