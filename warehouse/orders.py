"""Orders and order lines, generated array-at-a-time from the customers' behaviour.

Purchase dates: each buyer's first order is on their arrival day; repeat orders are
the first `min(N, G - 1)` events of a Poisson process on a warped clock (busy days
run the clock faster), where N ~ Poisson(rate × horizon) and G ~ Geometric(dropout)
is the purchase after which the customer leaves (BG/NBD). Given N, Poisson event
times are sorted uniforms, and the first m of n sorted uniforms are partial sums of
exponentials divided by their total — so no per-customer loop is needed.

Money is integer cents throughout, so lines add up to their order exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from warehouse import season
from warehouse.cities import CITIES, TIERS
from warehouse.customers import ACQUISITIONS, Customers
from warehouse.products import CATEGORIES, Catalogue

SALES_CHANNELS: tuple[str, ...] = ("Online", "App", "Store")
STATUSES: tuple[str, ...] = ("completed", "returned", "cancelled")
COMPLETED, RETURNED, CANCELLED = range(3)

# Sales-channel log-odds against Online: App gains ground every year (mobile-first),
# Store depends on the customer's acquisition channel and on the city tier.
APP_BASE, APP_TREND = -0.55, 0.45
STORE_BASE = -0.6
STORE_BY_TIER = {"Tier 1": -0.3, "Tier 2": 0.0, "Tier 3": 0.5}
CANCEL_RATE = (0.065, 0.055, 0.015)  # by sales channel; stores rarely cancel
RETURN_FACTOR = (1.0, 1.0, 0.6)  # by sales channel; try-before-you-buy in store

# Discounts: on promotion days nearly every order is discounted, and deeper.
DISCOUNT_SHARE = {False: 0.35, True: 0.92}
DISCOUNT_RANGE = {False: (0.03, 0.15), True: (0.10, 0.30)}
STORE_DISCOUNT_FACTOR = 0.5
MAX_EXTRA_LINES = 4  # 1..5 lines per order
MAX_QUANTITY = 9

# Category mix of lines per shopper segment (gender × age band), same order as
# CATEGORIES: Apparel, Beauty, Electronics, Home, Food, Sports, Baby.
AGE_BANDS = (30, 45)  # <30, 30–44, 45+
# fmt: off
CATEGORY_MIX: tuple[tuple[float, ...], ...] = (
    (0.26, 0.24, 0.07, 0.10, 0.18, 0.09, 0.06),  # Female <30
    (0.20, 0.18, 0.05, 0.14, 0.18, 0.06, 0.19),  # Female 30–44
    (0.18, 0.12, 0.04, 0.22, 0.30, 0.05, 0.09),  # Female 45+
    (0.20, 0.06, 0.20, 0.08, 0.22, 0.20, 0.04),  # Male <30
    (0.16, 0.05, 0.18, 0.14, 0.22, 0.13, 0.12),  # Male 30–44
    (0.14, 0.04, 0.14, 0.22, 0.32, 0.10, 0.04),  # Male 45+
)
# fmt: on
# Price sensitivity per price class: weight ∝ popularity × (price / median)^-beta.
PRICE_BETA = (1.1, 0.5, -0.05)


@dataclass(frozen=True)
class Orders:
    """Order columns in order_id order (index i is order_id i + 1)."""

    customer: np.ndarray  # customer index (customer_id - 1)
    day: np.ndarray
    channel: np.ndarray  # index into SALES_CHANNELS
    status: np.ndarray  # index into STATUSES
    amount: np.ndarray  # cents, paid after discount
    discount: np.ndarray  # cents
    cost: np.ndarray  # cents


@dataclass(frozen=True)
class Lines:
    """Order-line columns, grouped by order in order_id order."""

    order: np.ndarray  # order index (order_id - 1)
    line_no: np.ndarray
    product: np.ndarray  # index into the Catalogue arrays
    quantity: np.ndarray
    amount: np.ndarray  # cents


def purchase_days(
    rng: np.random.Generator, cust: Customers, intensity: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(customer index, day) of every order, sorted by day then customer."""
    buyers = np.flatnonzero(cust.buyer)
    owner, repeat_day = _repeat_days(rng, cust, buyers, intensity)
    who = np.concatenate([buyers, buyers[owner]]).astype(np.int32)
    day = np.concatenate([cust.first_day[buyers], repeat_day]).astype(np.int32)
    order = np.lexsort((who, day))
    who, day = who[order], day[order]
    day[-1] = season.N_DAYS - 1  # the as-of date must be the latest order date
    return who, day


def _repeat_days(
    rng: np.random.Generator, cust: Customers, buyers: np.ndarray, intensity: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Repeat purchases: (position in buyers, day) pairs, grouped by buyer."""
    clock = np.cumsum(intensity)  # warped time at the end of each day
    start = clock[cust.first_day[buyers]]
    horizon = clock[-1] - start
    n_events = rng.poisson(cust.rate[buyers] * horizon)
    lifetime = rng.geometric(np.clip(cust.dropout[buyers], 1e-6, 1.0))
    repeats = np.minimum(n_events, lifetime - 1)
    owner = np.repeat(np.arange(len(buyers)), repeats)
    partial = _group_cumsum(rng.exponential(1.0, int(repeats.sum())), repeats)
    last = np.zeros(len(buyers))
    ends = np.cumsum(repeats)
    has = repeats > 0
    last[has] = partial[ends[has] - 1]
    tail = rng.gamma(n_events - repeats + 1.0, 1.0)
    u = partial / (last + tail)[owner]  # the first m of n sorted uniforms
    tau = start[owner] + horizon[owner] * u
    return owner, np.searchsorted(clock, tau, side="left")


def _group_cumsum(values: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Cumulative sums restarting at each group of consecutive `sizes`."""
    total = np.cumsum(values)
    before = np.concatenate([[0.0], total])[np.cumsum(sizes) - sizes]
    return total - np.repeat(before, sizes)


def draw_orders(
    rng: np.random.Generator,
    cust: Customers,
    cat: Catalogue,
    who: np.ndarray,
    day: np.ndarray,
) -> tuple[Orders, Lines]:
    """Channels, discounts, lines and statuses for the purchase days given."""
    channel = _sales_channel(rng, cust, who, day)
    rate = _discount_rate(rng, day, channel)
    n_lines = 1 + rng.binomial(MAX_EXTRA_LINES, cust.basket[who]).astype(np.int8)
    lines, gross = _draw_lines(rng, cust, cat, who, n_lines, rate)
    starts = np.cumsum(n_lines, dtype=np.int64) - n_lines
    amount = np.add.reduceat(lines.amount, starts)
    discount = np.add.reduceat(gross, starts) - amount
    cost = np.add.reduceat(cat.cost_cents[lines.product] * lines.quantity, starts)
    status = _status(rng, cat, lines, starts, channel)
    orders = Orders(who, day, channel, status, amount, discount, cost)
    return orders, lines


def _sales_channel(
    rng: np.random.Generator, cust: Customers, who: np.ndarray, day: np.ndarray
) -> np.ndarray:
    """Online / App / Store per order; App's share grows with time."""
    years = day / season.DAYS_PER_YEAR
    tier = np.array([TIERS.index(c.city_tier) for c in CITIES])[cust.city[who]]
    store = STORE_BASE + np.array([a.store_affinity for a in ACQUISITIONS])[cust.acquisition[who]]
    store = store + np.array([STORE_BY_TIER[t] for t in TIERS])[tier]
    app = APP_BASE + APP_TREND * years
    w_app, w_store = np.exp(app), np.exp(store)
    u = rng.random(len(who)) * (1.0 + w_app + w_store)
    return (u >= 1.0).astype(np.int8) + (u >= 1.0 + w_app)


def _discount_rate(rng: np.random.Generator, day: np.ndarray, channel: np.ndarray) -> np.ndarray:
    """Fraction off list price per order (0 for undiscounted orders)."""
    promo = season.promo_days()[day]
    share = np.where(promo, DISCOUNT_SHARE[True], DISCOUNT_SHARE[False])
    lo = np.where(promo, DISCOUNT_RANGE[True][0], DISCOUNT_RANGE[False][0])
    hi = np.where(promo, DISCOUNT_RANGE[True][1], DISCOUNT_RANGE[False][1])
    rate = lo + (hi - lo) * rng.random(len(day))
    rate = np.where(rng.random(len(day)) < share, rate, 0.0)
    store = channel == SALES_CHANNELS.index("Store")
    return np.where(store, rate * STORE_DISCOUNT_FACTOR, rate)


def _draw_lines(
    rng: np.random.Generator,
    cust: Customers,
    cat: Catalogue,
    who: np.ndarray,
    n_lines: np.ndarray,
    rate: np.ndarray,
) -> tuple[Lines, np.ndarray]:
    """Order lines (and their gross cents before discount)."""
    n_orders = len(who)
    order = np.repeat(np.arange(n_orders, dtype=np.int32), n_lines)
    starts = np.cumsum(n_lines, dtype=np.int64) - n_lines
    line_no = (np.arange(len(order)) - starts[order] + 1).astype(np.int8)
    line_cust = who[order]
    segment = _segment(cust, line_cust)
    category = _draw_grouped(rng, segment, np.array(CATEGORY_MIX))
    product = _draw_products(rng, cat, cust.price_class[line_cust], category)
    extra = np.array([c.extra_qty for c in CATEGORIES])[category]
    quantity = np.minimum(1 + rng.poisson(extra), MAX_QUANTITY).astype(np.int16)
    gross = cat.price_cents[product] * quantity
    amount = np.rint(gross * (1.0 - rate[order])).astype(np.int64)
    return Lines(order, line_no, product, quantity, amount), gross


def _segment(cust: Customers, who: np.ndarray) -> np.ndarray:
    """Shopper segment 0..5 = gender × age band, the row of CATEGORY_MIX."""
    band = np.searchsorted(np.array(AGE_BANDS), cust.age[who], side="right")
    return np.where(cust.female[who], 0, len(AGE_BANDS) + 1) + band


def _draw_products(
    rng: np.random.Generator, cat: Catalogue, price_class: np.ndarray, category: np.ndarray
) -> np.ndarray:
    """Product per line, from its category, weighted by popularity and price taste."""
    n_cat = len(CATEGORIES)
    members = [np.flatnonzero(cat.category == k) for k in range(n_cat)]
    weights, index = [], []
    for beta in PRICE_BETA:
        for idx in members:
            relative = cat.price_cents[idx] / np.median(cat.price_cents[idx])
            weights.append(cat.popularity[idx] * relative ** (-beta))
            index.append(idx)
    group = price_class.astype(np.int64) * n_cat + category
    pos = _search_groups(rng, group, weights)
    return np.concatenate(index)[pos]


def _draw_grouped(rng: np.random.Generator, group: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Column index drawn from row `group` of a probability table, per element."""
    pos = _search_groups(rng, group, list(table))
    return (pos - group * table.shape[1]).astype(np.int8)


def _search_groups(
    rng: np.random.Generator, group: np.ndarray, weights: list[np.ndarray]
) -> np.ndarray:
    """Categorical draws from per-group weight vectors in one searchsorted call.

    Group g's normalised CDF is shifted to (g, g + 1], all groups concatenated, and
    g + U located in it; the result is the position in the concatenated vectors.
    """
    cdfs = []
    for g, w in enumerate(weights):
        cdf = np.cumsum(w) / np.sum(w)
        cdf[-1] = 1.0
        cdfs.append(g + cdf)
    flat = np.concatenate(cdfs)
    return np.searchsorted(flat, group + rng.random(len(group)), side="right")


def _status(
    rng: np.random.Generator,
    cat: Catalogue,
    lines: Lines,
    starts: np.ndarray,
    channel: np.ndarray,
) -> np.ndarray:
    """completed / returned / cancelled; returns depend on what was bought."""
    line_rate = np.array([c.return_rate for c in CATEGORIES])[cat.category[lines.product]]
    line_rate = line_rate * np.array(RETURN_FACTOR)[channel[lines.order]]
    keep = np.exp(np.add.reduceat(np.log1p(-line_rate), starts))
    p_cancel = np.array(CANCEL_RATE)[channel]
    p_return = (1.0 - p_cancel) * (1.0 - keep)
    u = rng.random(len(channel))
    status = np.where(u < p_cancel + p_return, RETURNED, COMPLETED)
    return np.where(u < p_cancel, CANCELLED, status).astype(np.int8)

