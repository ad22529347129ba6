"""Build the deterministic demo warehouse (DESIGN §3) into a DuckDB file.

    build_demo("demo.duckdb")              # ~20k customers, ~200k orders, seconds
    build_demo("big.duckdb", scale=50)     # ~1M customers, ~10M orders

Each generator step draws from its own random stream spawned from `seed`, so the
same seed gives identical table contents, and changing one step's draws leaves the
others' alone. Everything is array-at-a-time numpy; DuckDB does the type
conversion and keys. Patterns (seasonality, churn, channel economics) are set by
the constant tables of the step modules: season, customers, orders, loyalty,
marketing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from warehouse import season
from warehouse.cities import CITIES, REGIONS, TIERS
from warehouse.customers import ACQUISITION_NAMES, GENDERS, Customers, draw_customers
from warehouse.loyalty import MEMBERSHIP_TIERS, Surveys, draw_surveys, membership_tiers
from warehouse.marketing import Spend, marketing_spend
from warehouse.orders import SALES_CHANNELS, STATUSES, Lines, Orders, draw_orders, purchase_days
from warehouse.people import draw_emails, draw_names, draw_phones
from warehouse.products import CATEGORY_NAMES, Catalogue, build_catalogue
from warehouse.store import write_warehouse

BASE_CUSTOMERS = 20_000  # at scale 1; orders come out ~10 per customer
MIN_CUSTOMERS = 50
STREAMS = (
    "calendar",
    "products",
    "customers",
    "purchases",
    "orders",
    "membership",
    "surveys",
    "marketing",
    "pii",
)


@dataclass(frozen=True)
class DemoStats:
    """Row counts of the built warehouse and the build time."""

    customers: int
    orders: int
    order_items: int
    seconds: float


def build_demo(path: str | Path, *, scale: float = 1.0, seed: int = 7) -> DemoStats:
    """Generate the demo warehouse into `path` (overwritten atomically)."""
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale}")
    started = time.perf_counter()
    rng = _streams(seed)
    intensity = season.order_intensity(rng["calendar"])
    catalogue = build_catalogue(rng["products"])
    n = max(int(round(BASE_CUSTOMERS * scale)), MIN_CUSTOMERS)
    cust = draw_customers(rng["customers"], n, intensity)
    who, day = purchase_days(rng["purchases"], cust, intensity)
    orders, lines = draw_orders(rng["orders"], cust, catalogue, who, day)
    del who, day
    tier = membership_tiers(rng["membership"], n, orders)
    surveys = draw_surveys(rng["surveys"], cust, orders)
    spend = marketing_spend(rng["marketing"], cust)
    frames = {
        "customers": _customers_frame(rng["pii"], cust, tier),
        "orders": _orders_frame(orders),
        "order_items": _lines_frame(lines, catalogue),
        "products": _products_frame(catalogue),
        "marketing_spend": _spend_frame(spend),
        "surveys": _surveys_frame(surveys),
    }
    counts = (n, len(orders.day), len(lines.order))
    del orders, lines
    write_warehouse(path, frames)
    return DemoStats(*counts, seconds=round(time.perf_counter() - started, 3))


def _streams(seed: int) -> dict[str, np.random.Generator]:
    """One independent generator per step, in a fixed order."""
    children = np.random.SeedSequence(seed).spawn(len(STREAMS))
    return {name: np.random.default_rng(ss) for name, ss in zip(STREAMS, children)}


def _labels(codes: np.ndarray, values: tuple[str, ...]) -> pd.Categorical:
    """Codes as a categorical, which DuckDB reads without touching Python strings."""
    return pd.Categorical.from_codes(codes.astype(np.int16), categories=list(values))


def _customers_frame(rng: np.random.Generator, cust: Customers, tier: np.ndarray) -> pd.DataFrame:
    customer_id = np.arange(1, len(cust.buyer) + 1, dtype=np.int32)
    name, pinyin = draw_names(rng, cust.female)
    city_region = np.array([REGIONS.index(c.region) for c in CITIES])
    city_tier = np.array([TIERS.index(c.city_tier) for c in CITIES])
    return pd.DataFrame(
        {
            "customer_id": customer_id,
            "customer_name": name.astype(object),
            "gender": _labels(np.where(cust.female, 0, 1), GENDERS),
            "age": cust.age,
            "city": _labels(cust.city, tuple(c.name for c in CITIES)),
            "region": _labels(city_region[cust.city], REGIONS),
            "city_tier": _labels(city_tier[cust.city], TIERS),
            "signup_date": cust.signup_day,
            "acquisition_channel": _labels(cust.acquisition, ACQUISITION_NAMES),
            "membership_tier": _labels(tier, MEMBERSHIP_TIERS),
            "email": draw_emails(rng, pinyin, customer_id).astype(object),
            "phone": draw_phones(rng, customer_id).astype(object),
        }
    )


def _orders_frame(orders: Orders) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order_id": np.arange(1, len(orders.day) + 1, dtype=np.int32),
            "customer_id": orders.customer + 1,
            "order_date": orders.day,
            "sales_channel": _labels(orders.channel, SALES_CHANNELS),
            "status": _labels(orders.status, STATUSES),
            "amount": orders.amount,
            "discount_amount": orders.discount,
            "cost_amount": orders.cost,
        }
    )


def _lines_frame(lines: Lines, catalogue: Catalogue) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order_id": lines.order + 1,
            "line_no": lines.line_no,
            "product_id": catalogue.product_id[lines.product],
            "quantity": lines.quantity,
            "line_amount": lines.amount,
        }
    )


def _products_frame(catalogue: Catalogue) -> pd.DataFrame:
    order = np.argsort(catalogue.product_id)
    return pd.DataFrame(
        {
            "product_id": catalogue.product_id[order],
            "product_name": catalogue.name[order].astype(object),
            "category": _labels(catalogue.category[order], CATEGORY_NAMES),
            "brand": catalogue.brand[order].astype(object),
            "list_price": catalogue.price_cents[order],
            "unit_cost": catalogue.cost_cents[order],
        }
    )


def _spend_frame(spend: Spend) -> pd.DataFrame:
    first_of_month = season.month_start_days()[spend.month]
    return pd.DataFrame(
        {
            "month": first_of_month,
            "acquisition_channel": _labels(spend.acquisition, ACQUISITION_NAMES),
            "spend": spend.cents,
        }
    )


def _surveys_frame(surveys: Surveys) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "survey_id": np.arange(1, len(surveys.day) + 1, dtype=np.int32),
            "customer_id": surveys.customer + 1,
            "survey_date": surveys.day,
            "nps_score": surveys.nps,
            "satisfaction": surveys.satisfaction,
        }
    )
