"""The import targets: DESIGN §3's tables, with what each column means to the cleaner.

Types and primary keys come from ``warehouse.store.TABLES`` (one source of truth
with the demo generator); this module adds, per column, the *kind* that picks its
standardisation and checks (a date, money, a catalog category…), whether it is
required (a row without it is quarantined), and which key family an id belongs
to (``orders.customer_id`` must name a ``customers.customer_id``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from warehouse.store import TABLES

Kind = Literal["key", "ref", "text", "name", "category", "city", "date", "month", "int", "money", "phone", "email"]


@dataclass(frozen=True)
class ColumnSpec:
    """One contract column as the cleaner sees it."""

    name: str
    sql_type: str
    kind: Kind
    family: str | None = None  # key/ref: which id space (customer, order, product, survey)
    low: int | None = None  # int: allowed range, inclusive
    high: int | None = None
    range_rule: str = "invalid_range"  # the reason code when an int is out of range
    default_sql: str | None = None  # value when no source column maps here (else NULL)


@dataclass(frozen=True)
class TargetSpec:
    """One contract table: columns in order, key, required columns."""

    name: str
    columns: tuple[ColumnSpec, ...]
    primary_key: tuple[str, ...]
    required: tuple[str, ...]
    comment: str

    def column(self, name: str) -> ColumnSpec:
        return next(c for c in self.columns if c.name == name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


# (table, column) → (kind, extra). Categories are standardised against the catalog
# dimension of the same name (华东 → East); ``city`` keeps unknown cities as text.
# fmt: off
_KINDS: dict[tuple[str, str], tuple[Kind, dict[str, object]]] = {
    ("customers", "customer_id"): ("key", {"family": "customer"}),
    ("customers", "customer_name"): ("name", {}),
    ("customers", "gender"): ("category", {}),
    ("customers", "age"): ("int", {"low": 1, "high": 120, "range_rule": "invalid_age"}),
    ("customers", "city"): ("city", {}),
    ("customers", "region"): ("category", {}),
    ("customers", "city_tier"): ("category", {}),
    ("customers", "signup_date"): ("date", {}),
    ("customers", "acquisition_channel"): ("category", {}),
    ("customers", "membership_tier"): ("category", {}),
    ("customers", "email"): ("email", {}),
    ("customers", "phone"): ("phone", {}),
    ("orders", "order_id"): ("key", {"family": "order"}),
    ("orders", "customer_id"): ("ref", {"family": "customer"}),
    ("orders", "order_date"): ("date", {}),
    ("orders", "sales_channel"): ("category", {}),
    ("orders", "status"): ("category", {"default_sql": "'completed'"}),
    ("orders", "amount"): ("money", {}),
    ("orders", "discount_amount"): ("money", {}),
    ("orders", "cost_amount"): ("money", {}),
    ("order_items", "order_id"): ("ref", {"family": "order"}),
    ("order_items", "line_no"): ("int", {"low": 1, "high": 32767}),
    ("order_items", "product_id"): ("ref", {"family": "product"}),
    ("order_items", "quantity"): ("int", {"low": 1, "high": 100000, "range_rule": "invalid_quantity"}),
    ("order_items", "line_amount"): ("money", {}),
    ("products", "product_id"): ("key", {"family": "product"}),
    ("products", "product_name"): ("text", {}),
    ("products", "category"): ("category", {}),
    ("products", "brand"): ("text", {}),
    ("products", "list_price"): ("money", {}),
    ("products", "unit_cost"): ("money", {}),
    ("marketing_spend", "month"): ("month", {}),
    ("marketing_spend", "acquisition_channel"): ("category", {}),
    ("marketing_spend", "spend"): ("money", {}),
    ("surveys", "survey_id"): ("key", {"family": "survey"}),
    ("surveys", "customer_id"): ("ref", {"family": "customer"}),
    ("surveys", "survey_date"): ("date", {}),
    ("surveys", "nps_score"): ("int", {"low": 0, "high": 10, "range_rule": "invalid_score"}),
    ("surveys", "satisfaction"): ("int", {"low": 1, "high": 5, "range_rule": "invalid_score"}),
}

#: Columns a row cannot be kept without (overridable per table in the mapping's rules).
REQUIRED: dict[str, tuple[str, ...]] = {
    "customers": ("customer_id",),
    "orders": ("order_id", "customer_id", "order_date", "amount"),
    "order_items": ("order_id", "product_id", "quantity", "line_amount"),
    "products": ("product_id",),
    "marketing_spend": ("month", "acquisition_channel", "spend"),
    "surveys": ("survey_id", "customer_id", "survey_date"),
}
# fmt: on

#: Parents before children, so a child's references are checked against cleaned parents.
ORDER = ("products", "customers", "orders", "order_items", "marketing_spend", "surveys")


def _build() -> dict[str, TargetSpec]:
    specs: dict[str, TargetSpec] = {}
    by_name = {t.name: t for t in TABLES}
    for name in ORDER:
        table = by_name[name]
        cols = []
        for col, sql_type in table.columns:
            kind, extra = _KINDS[(name, col)]
            cols.append(ColumnSpec(col, sql_type, kind, **extra))  # type: ignore[arg-type]
        specs[name] = TargetSpec(name, tuple(cols), table.primary_key, REQUIRED[name], table.comment)
    return specs


TARGETS: dict[str, TargetSpec] = _build()

#: Which table owns each key family (the parent a ``ref`` column must point into).
FAMILY_OWNER: dict[str, str] = {c.family: t.name for t in TARGETS.values() for c in t.columns
                                 if c.kind == "key" and c.family}
