"""Feature table and segment profiles against hand computations on a tiny warehouse, then on the demo."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from metrics.features import customer_features, governed_sql
from metrics.profiles import profile, rfm_profile, select
from semantic_layer.access import allowed_schema
from semantic_layer.engine import DuckDBEngine
from semantic_layer.errors import UserError
from semantic_layer.materialize import Materializer
from semantic_layer.policy import Principal
from semantic_layer.schema import Text
from tests.metrics.tiny_warehouse import Tiny

AS_OF = dt.date(2025, 12, 31)
D = dt.date


def _planted(path: Path) -> Path:
    """40 customers; the segment is 1–10 with 4 Gold (40%), the base has 6 Gold (15%).

    Segment: two completed App orders of 100 in Dec 2025 (Apparel); customer 1 also a returned one.
    11–30: one completed Store order of 50 on 2025-06-01 (Baby). 31–40: no orders.
    NPS: segment scores 10, 10, 9, 5 (→ 50); 11–14 score 3, 3, 8, 10 (base → 12.5).
    """
    t = Tiny()
    for cid in range(1, 41):
        gold = cid <= 4 or cid in (20, 30)
        t.customer(cid, tier="Gold" if gold else "Regular", region="East" if cid % 2 else "North",
                   signup=D(2025, 1, 1) if cid <= 10 else D(2024, 1, 1))
    for cid in range(1, 11):
        t.order(cid, D(2025, 12, 1), 100)
        t.order(cid, D(2025, 12, 15), 100)
    t.order(1, D(2025, 12, 20), 999, status="returned")
    for cid in range(11, 31):
        t.order(cid, D(2025, 6, 1), 50, channel="Store", product=2)
    for cid, score in zip(range(1, 5), (10, 10, 9, 5)):
        t.survey(cid, score)
    for cid, score in zip(range(11, 15), (3, 3, 8, 10)):
        t.survey(cid, score)
    t.order(11, D(2025, 12, 31), 0, status="cancelled")  # sets the warehouse's as-of date
    return t.write(path)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory, catalog):
    eng = DuckDBEngine(_planted(tmp_path_factory.mktemp("tiny") / "tiny.duckdb"))
    Materializer(catalog, eng).ensure(["customer_segments"], AS_OF)
    yield eng
    eng.close()


@pytest.fixture(scope="module")
def features(tiny, catalog):
    return customer_features(tiny, allowed_schema(catalog, tiny.tables()), AS_OF, catalog=catalog)


def test_features_match_hand_values(features) -> None:
    f = features.set_index("customer_id")
    assert len(f) == 40
    one = f.loc[1]
    assert (one.orders, one.revenue, one.aov, one.recency_days, one.first_order_days) == (2, 200.0, 100.0, 16, 30)
    assert (one.orders_365, one.revenue_365, one.tenure_days) == (2, 200.0, 364)
    assert (one.cat_apparel, one.cat_baby, one.ch_app, one.ch_store) == (1.0, 0.0, 1.0, 0.0)
    assert (one.top_category, one.top_channel, one.promoters, one.detractors) == ("Apparel", "App", 1, 0)
    assert bool(f.loc[11].churned) and f.loc[11].recency_days == 213 and f.loc[11].top_channel == "Store"
    assert f.loc[35].orders == 0 and f.loc[35].revenue == 0 and f.loc[35].top_category != f.loc[35].top_category
    assert f.loc[1].rfm_segment == "Important Value" and f.loc[35].rfm_segment != f.loc[35].rfm_segment


def test_planted_gold_share_lift_and_measures(features, catalog) -> None:
    p = profile(features, list(range(1, 11)), Text(zh="VIP", en="VIP"), catalog=catalog, min_support=3)
    assert (p.size, p.base_size) == (10, 40)
    gold = p.distributions.query("dimension == 'membership_tier' and value == 'Gold'").iloc[0]
    assert (gold.segment_count, gold.base_count) == (4, 6)
    assert gold.segment_share == pytest.approx(0.4) and gold.base_share == pytest.approx(0.15)
    assert gold.lift == pytest.approx(0.4 / 0.15)
    found = {(f.field, f.value): f for f in p.findings}
    assert found[("membership_tier", "Gold")].text.zh == "VIP中会员等级为「金卡会员」的占 40%, 全体为 15%(是全体的 2.7 倍)。"
    assert found[("membership_tier", "Gold")].text.en == \
        "Membership tier = Gold: 40% of VIP vs 15% of all customers (2.7×)."
    # The rule by hand: |p - q| x min(max(p/q, q/p), 10); ties over-represented first, then field, value.
    # Baby / Store are absent (0 vs 20/30: 2/3 x 10), General Win-back absent (0 vs 1/2: 5), Important Value
    # 1 vs 1/4 (3), Apparel / App 1 vs 1/3 (2), Gold 0.4 vs 0.15 (0.25 x 8/3), Regular 0.6 vs 0.85 (0.25 x 17/12).
    ranked = [(f.field, f.value, round(f.score, 6)) for f in p.findings]
    assert ranked == [("top_category", "Baby", 6.666667), ("top_channel", "Store", 6.666667),
                      ("rfm_segment", "General Win-back", 5.0), ("rfm_segment", "Important Value", 3.0),
                      ("top_category", "Apparel", 2.0), ("top_channel", "App", 2.0),
                      ("membership_tier", "Gold", 0.666667), ("membership_tier", "Regular", 0.354167)]
    assert p.findings[0].text.zh == "VIP中没有主要购买品类为「母婴」的客户, 全体中占 67%。"
    m = p.measures.set_index("measure")
    assert m.loc["aov", "segment"] == pytest.approx(100) and m.loc["aov", "base"] == pytest.approx(3000 / 40)
    assert m.loc["nps", "segment"] == pytest.approx(50) and m.loc["nps", "base"] == pytest.approx(12.5)
    assert m.loc["repeat_share", "segment"] == 1.0 and m.loc["repeat_share", "base"] == pytest.approx(10 / 30)
    assert m.loc["orders_365", "base"] == pytest.approx(40 / 40)
    mix = p.mix.set_index("column")
    assert mix.loc["cat_apparel", "segment_share"] == 1.0
    assert mix.loc["cat_apparel", "base_share"] == pytest.approx(2000 / 3000)
    assert "VIP共 10 人" in p.summary("zh")


def test_minimum_support_and_z_drop_small_differences(features, catalog) -> None:
    p = profile(features, list(range(1, 11)), Text(zh="VIP", en="VIP"), catalog=catalog)  # min_support 30
    assert not p.findings


def test_select_by_filter_and_rfm(features, catalog) -> None:
    mask = select(features, filters=[{"field": "customers.membership_tier", "op": "=", "values": ["Gold"]},
                                     {"field": "orders", "op": ">=", "values": [2]}])
    assert sorted(features.loc[mask, "customer_id"]) == [1, 2, 3, 4]
    with pytest.raises(UserError) as err:
        select(features, filters=[{"field": "nope", "values": ["x"]}])
    assert err.value.code == 260
    p = rfm_profile(features, "Important Value", catalog=catalog, min_support=3)
    assert p.segment.zh == "重要价值客户" and p.size == 10


def test_row_rules_apply_through_the_compiler_sources(tmp_path: Path, features) -> None:
    """The governed wiring: a manager for East sees only East customers, equal to the admin's rows for East."""
    from assistant.service import ChatBI

    bi = ChatBI(_planted(tmp_path / "gov.duckdb"), audit=False, llm=False)
    try:
        bi.materializer.ensure(["customer_segments"], bi.as_of)
        access = bi.access_for(Principal("wang", "manager", attributes={"regions": ("East",)}))
        assert access.restricted and not access.see_pii
        schema = allowed_schema(bi.catalog, bi.engine.tables(), include_pii=access.see_pii)
        east = customer_features(bi.engine, schema, bi.as_of, catalog=bi.catalog, access=access)
    finally:
        bi.engine.close()
    assert sorted(east.customer_id) == list(range(1, 41, 2))
    admin = features[features.region == "East"].reset_index(drop=True)
    cols = ["customer_id", "orders", "revenue", "promoters", "cat_apparel", "rfm_segment"]
    assert east[cols].equals(admin[cols])
    sql = governed_sql("SELECT o.amount FROM orders AS o", {"as_of": AS_OF}, catalog=bi.catalog, access=access)
    assert "IN ('East')" in sql and "AS o" in sql


def test_demo_important_value_gold_share_equals_hand_sql(engine, catalog, raw_con) -> None:
    as_of = engine.as_of_date()
    Materializer(catalog, engine).ensure(["customer_segments"], as_of)
    f = customer_features(engine, allowed_schema(catalog, engine.tables()), as_of, catalog=catalog)
    assert len(f) == raw_con.execute("SELECT count(*) FROM customers").fetchone()[0]
    p = rfm_profile(f, "Important Value", catalog=catalog)
    # Hand SQL: the 8-class rule recomputed from raw orders, then Gold share in and out of the segment.
    seg_gold, seg_n, base_gold, base_n = raw_con.execute(f"""
        WITH b AS (SELECT customer_id, date_diff('day', max(order_date), DATE '{as_of}') AS r, count(*) AS f,
                     sum(amount) AS m FROM orders WHERE status = 'completed'
                     AND order_date > DATE '{as_of}' - INTERVAL 365 DAY AND order_date <= DATE '{as_of}'
                     GROUP BY customer_id),
             iv AS (SELECT customer_id FROM b WHERE r < (SELECT avg(r) FROM b) AND f > (SELECT avg(f) FROM b)
                     AND m > (SELECT avg(m) FROM b))
        SELECT count(*) FILTER (WHERE c.membership_tier = 'Gold' AND iv.customer_id IS NOT NULL),
               count(iv.customer_id), count(*) FILTER (WHERE c.membership_tier = 'Gold'), count(*)
        FROM customers c LEFT JOIN iv USING (customer_id)""").fetchone()
    gold = p.distributions.query("dimension == 'membership_tier' and value == 'Gold'").iloc[0]
    assert (gold.segment_count, p.size, gold.base_count, p.base_size) == (seg_gold, seg_n, base_gold, base_n)
    assert any(x.field == "membership_tier" for x in p.findings)
    assert p.findings[0].text.zh.startswith("重要价值客户中")
