"""Bilingual labels for feature columns and their values, read from the catalog when there is one.

Feature columns map to catalog dimensions (``membership_tier`` → customers.membership_tier,
``top_category`` → products.category …), so 金卡会员 / Gold come from the same
YAML as every answer. Without a catalog the built-in names below are used and
values show as stored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from semantic_layer.catalog import Catalog
from semantic_layer.errors import UserError
from semantic_layer.schema import Dimension, Text

#: feature column → (model, dimension) in the catalog
DIMENSIONS: dict[str, tuple[str, str]] = {
    "gender": ("customers", "gender"),
    "age_band": ("customers", "age_band"),
    "region": ("customers", "region"),
    "city": ("customers", "city"),
    "city_tier": ("customers", "city_tier"),
    "membership_tier": ("customers", "membership_tier"),
    "acquisition_channel": ("customers", "acquisition_channel"),
    "top_category": ("products", "category"),
    "top_channel": ("orders", "sales_channel"),
    "rfm_segment": ("customer_segments", "rfm_segment"),
}

#: Column names where the catalog's own label would mislead (a customer's *main* category).
_NAMES: dict[str, Text] = {
    "gender": Text(zh="性别", en="Gender"),
    "age_band": Text(zh="年龄段", en="Age band"),
    "region": Text(zh="地区", en="Region"),
    "city": Text(zh="城市", en="City"),
    "city_tier": Text(zh="城市等级", en="City tier"),
    "membership_tier": Text(zh="会员等级", en="Membership tier"),
    "acquisition_channel": Text(zh="获客渠道", en="Acquisition channel"),
    "top_category": Text(zh="主要购买品类", en="Main category"),
    "top_channel": Text(zh="主要购买渠道", en="Main sales channel"),
    "rfm_segment": Text(zh="RFM客户分群", en="RFM segment"),
}


@dataclass(frozen=True)
class Labels:
    """Labels for feature columns and values; ``catalog=None`` falls back to stored values."""

    catalog: Catalog | None = None

    def column(self, name: str) -> Text:
        return _NAMES.get(name, Text(zh=name, en=name))

    def value(self, column: str, value: object) -> Text:
        dim = self._dimension(column)
        if missing(value):
            if dim is not None and dim.null_label is not None:
                return dim.null_label
            return Text(zh="(空)", en="(none)")
        if dim is not None:
            for v in dim.values:
                if v.value == value:
                    return v.label
        return Text(zh=str(value), en=str(value))

    def _dimension(self, column: str) -> Dimension | None:
        if self.catalog is None or column not in DIMENSIONS:
            return None
        model, name = DIMENSIONS[column]
        try:
            spec = self.catalog.model(model)
        except UserError:  # a catalog without that model: stored values
            return None
        return next((d for d in spec.dimensions if d.name == name), None)


def pct(x: float) -> str:
    """A share as a short percent.

    >>> pct(0.4123), pct(0.045), pct(0.0)
    ('41%', '4.5%', '0%')
    """
    if missing(x):
        return "-"
    return f"{x * 100:.0f}%" if abs(x) >= 0.1 or x == 0 else f"{x * 100:.1f}%"


def money(x: float) -> str:
    """Yuan with cents.

    >>> money(1234.5)
    '¥1,234.50'
    """
    return "-" if missing(x) else f"¥{x:,.2f}"


def num(x: float, digits: int = 1) -> str:
    return "-" if missing(x) else f"{x:,.{digits}f}"


def missing(x: object) -> bool:
    """None or a float NaN (pandas gives NaN for missing values)."""
    return x is None or (isinstance(x, float) and math.isnan(x))
