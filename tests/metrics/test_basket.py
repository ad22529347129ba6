"""Association rules against hand counts on a tiny warehouse and brute force on the demo."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections import Counter

import pytest

from metrics.basket import BasketSpec, basket_rules, category_labels_from
from metrics.segment_filter import Segment
from semantic_layer.schema import Text

D = dt.date(2025, 3, 1)
# Orders (category sets): o1 AB, o2 ABC, o3 A, o4 BC, o5 AB; o6 AC is cancelled (never counted).
# Customers: 1 → o1, o2; 2 → o3, o4; 3 → o5, o6.
CUSTOMERS = [(1, "n1", "East", "Organic", D), (2, "n2", "North", "Organic", D), (3, "n3", "East", "Referral", D)]
ORDERS = [(1, 1, D, "App", "completed", 20), (2, 1, D, "App", "completed", 30), (3, 2, D, "App", "completed", 10),
          (4, 2, D, "Store", "completed", 20), (5, 3, D, "Online", "completed", 20), (6, 3, D, "App", "cancelled", 20)]
ITEMS = [(1, 1, 1, 10), (1, 2, 2, 10), (2, 1, 1, 10), (2, 2, 2, 10), (2, 3, 3, 10), (3, 1, 1, 10),
         (4, 1, 2, 10), (4, 2, 3, 10), (5, 1, 1, 10), (5, 2, 2, 10), (5, 3, 1, 10), (6, 1, 1, 10), (6, 2, 3, 10)]


@pytest.fixture
def read(tiny_warehouse, open_reader):
    return open_reader(tiny_warehouse(customers=CUSTOMERS, orders=ORDERS, items=ITEMS))


def _rule(result, ante, cons):
    rules = result.rules
    hit = rules[(rules["antecedent"] == tuple(ante)) & (rules["consequent"] == tuple(cons))]
    assert len(hit) == 1, (ante, cons)
    return hit.iloc[0]


def test_order_level_counts_and_measures_by_hand(read) -> None:
    result = basket_rules(read, BasketSpec(min_support=0.2, min_confidence=0.0))
    assert result.n_transactions == 5 and result.min_count == 1
    counts = {row.items: row.count for row in result.itemsets.itertuples()}
    assert counts == {("A",): 4, ("B",): 4, ("C",): 2, ("A", "B"): 3, ("A", "C"): 1, ("B", "C"): 2,
                      ("A", "B", "C"): 1}
    ab = _rule(result, ["A"], ["B"])
    assert (ab["support"], ab["confidence"], ab["lift"]) == pytest.approx((0.6, 0.75, 0.75 / 0.8))
    assert ab["leverage"] == pytest.approx(0.6 - 0.8 * 0.8)
    assert ab["conviction"] == pytest.approx((1 - 0.8) / (1 - 0.75))
    cb = _rule(result, ["C"], ["B"])
    assert cb["confidence"] == 1.0 and cb["lift"] == pytest.approx(1.25) and math.isinf(cb["conviction"])
    abc = _rule(result, ["A", "B"], ["C"])
    assert abc["confidence"] == pytest.approx(1 / 3) and abc["lift"] == pytest.approx((1 / 3) / 0.4)
    assert result.rules["lift"].is_monotonic_decreasing
    assert cb["finding_zh"] == "包含C的订单中,100% 同时包含B(是全部订单中该比例 80% 的 1.25 倍;两者都有的订单占 40.0%)"
    top = result.rules.iloc[0]  # lift ties (A,C → B and C → B at 1.25) break by the items' text
    assert (top["antecedent"], top["consequent"]) == (("A", "C"), ("B",))


def test_customer_level_and_thresholds(read) -> None:
    result = basket_rules(read, BasketSpec(unit="customer", min_support=0.5, min_confidence=0.9))
    assert result.n_transactions == 3 and result.min_count == 2
    counts = {row.items: row.count for row in result.itemsets.itertuples()}
    assert counts == {("A",): 3, ("B",): 3, ("C",): 2, ("A", "B"): 3, ("A", "C"): 2, ("B", "C"): 2,
                      ("A", "B", "C"): 2}
    assert (result.rules["confidence"] >= 0.9).all()
    ca = _rule(result, ["C"], ["A"])
    assert ca["confidence"] == 1.0 and ca["lift"] == pytest.approx(1.0)
    assert ca["finding_en"].startswith("Of customers who bought C, 100% also bought A")


def test_segment_by_ids_and_by_condition_and_labels(read) -> None:
    by_ids = basket_rules(read, BasketSpec(min_support=0.1, segment=Segment(customer_ids=frozenset({1}))))
    assert by_ids.n_transactions == 2
    assert {r.items: r.count for r in by_ids.itemsets.itertuples()}[("A", "B")] == 2
    east = Segment(where="region = 'East'", label=Text(zh="华东客户", en="East customers"))
    labels = {"A": Text(zh="服装", en="Apparel"), "B": Text(zh="美妆", en="Beauty"), "C": Text(zh="数码", en="Tech")}
    by_where = basket_rules(read, BasketSpec(min_support=0.1, segment=east), category_labels=labels)
    assert by_where.n_transactions == 3  # o1, o2, o5 (o6 cancelled)
    rule = _rule(by_where, ["C"], ["A"])
    assert rule["finding_zh"].startswith("在华东客户中,包含数码的订单中,100% 同时包含服装")
    assert rule["finding_en"].startswith("Among East customers: Of orders containing Tech, 100%")


def test_product_level_labels_and_max_size(read) -> None:
    result = basket_rules(read, BasketSpec(level="product", min_support=0.2, max_size=2, min_confidence=0.5))
    assert result.itemsets["size"].max() == 2
    assert set(result.itemsets["labels_en"]) >= {"Alpha", "Alpha and Beta"}
    assert result.rules.iloc[0]["antecedent_en"] in {"Alpha", "Beta", "Gamma"}


def test_pair_cap_skips_triples_and_says_so(read) -> None:
    result = basket_rules(read, BasketSpec(min_support=0.2, max_pairs_for_triples=2))
    assert result.itemsets["size"].max() == 2
    assert result.notes and "triples were not counted" in result.notes[0].en


def test_category_rules_match_brute_force_on_demo(engine, raw_con, catalog) -> None:
    from metrics.governed_reader import governed_reader
    from semantic_layer.access import allowed_schema

    read = governed_reader(engine, allowed_schema(catalog, engine.tables()))
    spec = BasketSpec(unit="customer", min_support=0.05, min_confidence=0.0,
                      period=(dt.date(2025, 1, 1), dt.date(2025, 12, 31)))
    result = basket_rules(read, spec, category_labels=category_labels_from(catalog))
    rows = raw_con.execute(
        "SELECT DISTINCT o.customer_id, p.category FROM orders o JOIN order_items i USING (order_id) "
        "JOIN products p USING (product_id) WHERE o.status = 'completed' "
        "AND o.order_date BETWEEN DATE '2025-01-01' AND DATE '2025-12-31'").fetchall()
    baskets: dict[int, set[str]] = {}
    for cid, cat in rows:
        baskets.setdefault(cid, set()).add(cat)
    counts: Counter = Counter()
    for items in baskets.values():
        for k in (1, 2, 3):
            counts.update(itertools.combinations(sorted(items), k))
    n = len(baskets)
    expected = {k: c for k, c in counts.items() if c >= math.ceil(0.05 * n)}
    assert result.n_transactions == n
    assert {r.items: r.count for r in result.itemsets.itertuples()} == expected
    zh = {t.zh for t in category_labels_from(catalog).values()}
    assert set(result.rules.iloc[0]["antecedent_zh"].split("和")) <= zh
