"""The product catalogue: 720 products in 7 categories, the same at every scale.

Prices come from the item type (a laptop costs more than a mouse) times a brand
premium and a little noise, then are rounded to retail price points (199, 39.9).
Margins differ by category (Beauty rich, Electronics thin). Products are held
sorted by (category, price) internally; product_id is a shuffled numbering so it
carries no meaning, as in a real catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Category:
    """Catalogue and behaviour parameters of one category."""

    name: str
    n_products: int
    cost_ratio: tuple[float, float]  # unit_cost / list_price, uniform range
    extra_qty: float  # mean extra units per line (Poisson), food is bought by the bag
    return_rate: float  # chance a line gets its order returned
    brands: tuple[tuple[str, float], ...]  # (brand, price premium)
    items: tuple[tuple[str, float, float], ...]  # (item, median list price ¥, popularity)


# fmt: off
CATEGORIES: tuple[Category, ...] = (
    Category("Apparel", 140, (0.30, 0.45), 0.25, 0.075,
             (("Lanxi", 1.0), ("Urban Pine", 1.2), ("Moyu", 0.8), ("Northfield", 1.6),
              ("Silkroad", 1.4), ("Qingyi", 0.9)),
             (("T-Shirt", 89, 3), ("Jeans", 229, 2), ("Down Jacket", 699, 1), ("Hoodie", 199, 2),
              ("Dress", 299, 2), ("Shirt", 159, 2), ("Trench Coat", 599, 0.6),
              ("Sweater", 259, 1.5),
              ("Chinos", 179, 1.2), ("Skirt", 169, 1.2), ("Polo Shirt", 129, 1.5),
              ("Windbreaker", 349, 0.8), ("Leggings", 99, 1.5), ("Pajamas", 139, 1))),
    Category("Beauty", 100, (0.20, 0.35), 0.30, 0.032,
             (("Huazhi", 1.0), ("Pure Lotus", 0.8), ("Yuerong", 1.5), ("Dewline", 1.2),
              ("Meisu", 0.7), ("Jade Petal", 2.0)),
             (("Face Serum", 299, 1.5), ("Moisturizer", 199, 2), ("Sunscreen", 129, 2),
              ("Lipstick", 169, 2), ("Cleanser", 79, 2.5), ("Toner", 139, 1.5),
              ("Eye Cream", 329, 1), ("Sheet Mask Set", 99, 2.5), ("Foundation", 239, 1),
              ("Shampoo", 69, 2.5), ("Body Lotion", 89, 1.5), ("Perfume", 499, 0.6))),
    Category("Electronics", 90, (0.70, 0.85), 0.05, 0.038,
             (("Zenitek", 1.3), ("Voltra", 1.0), ("Haoxin", 0.8), ("Pixelon", 1.1),
              ("Kunlun Digital", 0.9), ("Auralink", 1.2)),
             (("Smartphone", 2999, 1), ("Wireless Earbuds", 399, 2.5), ("Tablet", 2299, 0.6),
              ("Smartwatch", 1199, 0.8), ("Power Bank", 129, 3), ("Bluetooth Speaker", 299, 1.2),
              ("Laptop", 5499, 0.4), ("Monitor", 1299, 0.5), ("Keyboard", 249, 1.2),
              ("Mouse", 99, 2), ("Router", 299, 0.8), ("Fast Charger", 89, 3))),
    Category("Home", 110, (0.40, 0.55), 0.30, 0.027,
             (("Homely", 1.0), ("Mujia", 1.3), ("Nestor", 0.8), ("Linen & Oak", 1.6),
              ("Anju", 0.9), ("Brightware", 1.1)),
             (("Bedding Set", 399, 1), ("Pillow", 129, 2), ("Towel Set", 79, 2.5),
              ("Storage Box", 49, 3), ("Cookware Set", 499, 0.7), ("Rice Cooker", 399, 0.8),
              ("Electric Kettle", 149, 1.2), ("Desk Lamp", 159, 1), ("Vacuum Cleaner", 1299, 0.4),
              ("Air Purifier", 1599, 0.3), ("Dinnerware Set", 199, 1), ("Curtains", 259, 0.8))),
    Category("Food", 120, (0.55, 0.72), 0.90, 0.011,
             (("Sanhe Farm", 1.0), ("Golden Grain", 0.9), ("Tea Valley", 1.4),
              ("Mountain Honey", 1.2), ("Xiangwei", 0.8), ("Daily Fresh", 0.9)),
             (("Green Tea", 89, 1.5), ("Coffee Beans", 79, 1.5), ("Mixed Nuts", 59, 2.5),
              ("Rice 5kg", 49.9, 2), ("Instant Noodles", 29.9, 3), ("Honey", 69, 1.2),
              ("Snack Box", 99, 2), ("Cooking Oil", 79, 1.5), ("Dried Mango", 25.9, 2),
              ("Mooncake Gift Box", 199, 0.5), ("Chocolate", 45.9, 2),
              ("Yogurt Pack", 39.9, 2.5))),
    Category("Sports", 80, (0.40, 0.55), 0.15, 0.032,
             (("Fengxing", 1.0), ("Peakrun", 1.3), ("Tiyu Pro", 0.9), ("Swiftline", 1.1),
              ("Kaida", 0.8), ("Summit Gear", 1.5)),
             (("Running Shoes", 499, 2), ("Yoga Mat", 129, 2), ("Basketball", 199, 1.2),
              ("Badminton Racket", 259, 1), ("Dumbbells", 179, 1), ("Sports Bra", 149, 1.5),
              ("Cycling Helmet", 299, 0.6), ("Tennis Racket", 599, 0.5), ("Jump Rope", 39, 2),
              ("Hiking Backpack", 399, 0.8), ("Track Pants", 229, 1.5))),
    Category("Baby", 80, (0.45, 0.60), 0.50, 0.021,
             (("Little Panda", 1.0), ("Bebecare", 1.3), ("Xiaobao", 0.8), ("Tender Sprout", 1.1),
              ("Mamalove", 0.9), ("Cuddly Star", 1.2)),
             (("Diapers", 129, 3), ("Infant Formula", 259, 2.5), ("Baby Wipes", 39.9, 3),
              ("Stroller", 1299, 0.3), ("Baby Bottle", 89, 1.5), ("Teether", 39, 1),
              ("Baby Onesie", 79, 1.5), ("Car Seat", 899, 0.3), ("Crib Mattress", 599, 0.3),
              ("Baby Shampoo", 49, 1.5))),
)
# fmt: on

CATEGORY_NAMES: tuple[str, ...] = tuple(c.name for c in CATEGORIES)
SERIES: tuple[str, ...] = ("Classic", "Lite", "Pro", "Plus", "Max", "Air", "Mini", "Eco")
PRICE_NOISE = 0.25  # lognormal sigma around item median × brand premium


@dataclass(frozen=True)
class Catalogue:
    """Products as column arrays, sorted by (category, list price)."""

    product_id: np.ndarray
    name: np.ndarray
    category: np.ndarray  # index into CATEGORIES
    brand: np.ndarray
    price_cents: np.ndarray
    cost_cents: np.ndarray
    popularity: np.ndarray


def build_catalogue(rng: np.random.Generator) -> Catalogue:
    """Draw every product; deterministic for a given generator state."""
    parts = [_category_products(rng, k, cat) for k, cat in enumerate(CATEGORIES)]
    cols = [np.concatenate(col) for col in zip(*parts)]
    category, name, brand, price, cost, popularity = cols
    product_id = rng.permutation(len(name)).astype(np.int32) + 1
    return Catalogue(product_id, name, category, brand, price, cost, popularity)


def _category_products(
    rng: np.random.Generator, k: int, cat: Category
) -> tuple[np.ndarray, ...]:
    """One category's products, sorted by price; names unique within the catalogue."""
    combos = len(cat.brands) * len(cat.items) * len(SERIES)
    pick = rng.choice(combos, size=cat.n_products, replace=False)
    b_idx, rest = np.divmod(pick, len(cat.items) * len(SERIES))
    i_idx, s_idx = np.divmod(rest, len(SERIES))
    brand = np.array([b for b, _ in cat.brands])[b_idx]
    premium = np.array([p for _, p in cat.brands])[b_idx]
    item = np.array([i for i, _, _ in cat.items])[i_idx]
    median = np.array([m for _, m, _ in cat.items])[i_idx]
    item_pop = np.array([p for _, _, p in cat.items])[i_idx]
    series = np.array(SERIES)[s_idx]
    name = np.char.add(np.char.add(brand, " "), np.char.add(np.char.add(item, " "), series))
    raw = median * premium * rng.lognormal(0.0, PRICE_NOISE, cat.n_products)
    price = _price_point_cents(raw)
    cost = np.rint(price * rng.uniform(*cat.cost_ratio, cat.n_products)).astype(np.int64)
    popularity = item_pop * rng.lognormal(0.0, 0.5, cat.n_products)
    order = np.argsort(price, kind="stable")
    category = np.full(cat.n_products, k, dtype=np.int8)
    return category, name[order], brand[order], price[order], cost[order], popularity[order]


def _price_point_cents(raw_yuan: np.ndarray) -> np.ndarray:
    """Round to retail price points: ¥x9 from ¥60 up (199, 1299), ¥x.9 below (39.9)."""
    high = np.maximum(np.rint(raw_yuan / 10) * 10 - 1, 59) * 100
    low = np.maximum(np.rint(raw_yuan) - 0.1, 4.9) * 100
    return np.rint(np.where(raw_yuan >= 60, high, low)).astype(np.int64)
