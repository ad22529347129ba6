"""Saved segments on disk, and tracking (DiD against a matched control) by hand on a tiny warehouse."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from metrics.segments import SegmentStore, segments_home
from metrics.tracking import strata, track, window_frame, windows_for
from semantic_layer.access import allowed_schema
from semantic_layer.engine import DuckDBEngine
from semantic_layer.errors import UserError
from semantic_layer.schema import Text
from tests.metrics.tiny_warehouse import Tiny

D = dt.date
AS_OF = D(2025, 12, 31)
SINCE = D(2025, 11, 1)  # with 30 days: post 11-01..11-30, pre 10-02..10-31, prev 09-02..10-01


# --- the store ----------------------------------------------------------------------------------


def test_save_list_get_delete(tmp_path: Path) -> None:
    store = SegmentStore(tmp_path / "segments")
    when = dt.datetime(2025, 12, 31, 8, 0, tzinfo=dt.UTC)
    query = {"metrics": ["avg_historical_clv"], "dimensions": ["customer_id"],
             "filters": [{"field": "churn_risk", "op": "=", "values": ["High"]}]}
    seg = store.save("VIP挽回", [3, "1", 2.0, 3], author="wang", definition={"semantic_query": query},
                     as_of=AS_OF, now=when)
    assert (seg.customer_ids, seg.size, seg.author, seg.created_at) == ([1, 2, 3], 3, "wang", when)
    path = store.path("VIP挽回")
    assert path.parent == tmp_path / "segments" and path.name == f"{seg.id}.json"
    on_disk = json.loads(path.read_text(encoding="utf-8"))
    assert on_disk["name"] == "VIP挽回" and on_disk["definition"]["semantic_query"] == query
    assert not [p for p in path.parent.iterdir() if p.suffix == ".tmp"]  # atomic write left no temp file
    assert store.get("VIP挽回") == seg == store.get(seg.id)
    with pytest.raises(UserError) as err:
        store.save("vip挽回", [9], author="li")  # same name up to case: refused, not overwritten
    assert err.value.code == 264 and store.get("VIP挽回").customer_ids == [1, 2, 3]
    store.save("vip挽回", [9], author="li", overwrite=True, now=when)
    store.save("Gold 2025", [5], author="li", now=when + dt.timedelta(hours=1))
    assert [s.name for s in store.list()] == ["Gold 2025", "vip挽回"]
    store.delete("VIP挽回")
    assert [s.name for s in store.list()] == ["Gold 2025"]
    with pytest.raises(UserError) as err:
        store.get("VIP挽回")
    assert err.value.code == 265


@pytest.mark.parametrize("name, ids, code", [("", [1], 266), ("../x", [1], 266), ("a" * 65, [1], 266),
                                             ("ok", [], 267), ("ok", [None], 267)])
def test_invalid_saves_are_refused(tmp_path: Path, name: str, ids: list, code: int) -> None:
    with pytest.raises(UserError) as err:
        SegmentStore(tmp_path).save(name, ids, author="x")
    assert err.value.code == code


def test_default_home_is_chatbi_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CHATBI_HOME", str(tmp_path))
    assert SegmentStore().root == segments_home() == tmp_path / "segments"


# --- tracking -----------------------------------------------------------------------------------


def _tracking_warehouse(path: Path) -> Path:
    """Segment 1–4 (+ 11 unmatched, 12 signed up too late); controls 5–10.

    Stratum X (1 order of 100 on 10-15, one on 09-15): members 1, 2, 3; controls 5, 6 → weight 3/2.
    Stratum Y (never bought before): member 4; controls 7, 8, 9, 10 → weight 1/4.
    Post: 1 and 2 two orders of 100; 4 one of 50; 5 one of 100; 7 one of 50; 6 a returned one only.
    """
    t = Tiny()
    for cid in range(1, 13):
        t.customer(cid, signup=D(2025, 11, 15) if cid == 12 else D(2024, 1, 1))
    for cid in (1, 2, 3, 5, 6):
        t.order(cid, D(2025, 9, 15), 100)
        t.order(cid, D(2025, 10, 15), 100)
    for cid in (1, 2):
        t.order(cid, D(2025, 11, 5), 100)
        t.order(cid, D(2025, 11, 20), 100)
    t.order(4, D(2025, 11, 10), 50)
    t.order(5, D(2025, 11, 10), 100)
    t.order(7, D(2025, 11, 10), 50)
    t.order(6, D(2025, 11, 12), 80, status="returned")
    for day in (D(2025, 10, 3), D(2025, 10, 10), D(2025, 10, 17), D(2025, 10, 24), D(2025, 10, 30), D(2025, 10, 31)):
        t.order(11, day, 20)  # 6 pre-period orders: a stratum no control shares
    t.order(12, D(2025, 11, 20), 30)
    t.order(8, D(2025, 12, 31), 10, status="cancelled")
    return t.write(path)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory, catalog):
    with DuckDBEngine(_tracking_warehouse(tmp_path_factory.mktemp("track") / "t.duckdb")) as eng:
        yield eng, allowed_schema(catalog, eng.tables())


def test_windows() -> None:
    w = windows_for(SINCE, AS_OF, 30)
    assert (w.prev_start, w.pre_start, w.since, w.post_end, w.days) == (D(2025, 9, 2), D(2025, 10, 2), SINCE,
                                                                       D(2025, 11, 30), 30)
    assert windows_for(D(2025, 12, 1), AS_OF).days == 31
    with pytest.raises(UserError):
        windows_for(D(2026, 1, 1), AS_OF)


def test_did_equals_the_hand_computation(tiny, catalog) -> None:
    eng, schema = tiny
    r = track(eng, schema, [1, 2, 3, 4, 11, 12, 999], SINCE, AS_OF, period_days=30, segment=Text(zh="VIP", en="VIP"),
              catalog=catalog)
    assert (r.segment_size, r.matched, r.unmatched, r.ineligible, r.controls) == (7, 4, 1, 2, 6)
    t = r.table.set_index("metric")
    # Segment (4 members): pre active 3/4, orders 3/4, revenue 300/4, repeat 0/3, churn 0/3;
    # post active 3/4, orders 5/4, revenue 450/4, repeat 2/3, churn 1/3 (member 3).
    # Control (5, 6 at 1.5; 7–10 at 0.25; total weight 4): pre as the segment; post active 1.75/4,
    # orders 1.75/4, revenue (150 + 12.5)/4, repeat 0/1.75, churn 1.5/3 (customer 6).
    hand = {
        "active_rate": (0.75, 0.75, 0.75, 1.75 / 4),
        "orders_per_customer": (0.75, 1.25, 0.75, 1.75 / 4),
        "revenue_per_customer": (75.0, 112.5, 75.0, 162.5 / 4),
        "repeat_rate": (0.0, 2 / 3, 0.0, 0.0),
        "churn_rate": (0.0, 1 / 3, 0.0, 0.5),
    }
    for metric, (sp, sq, cp, cq) in hand.items():
        row = t.loc[metric]
        assert (row.segment_pre, row.segment_post, row.control_pre, row.control_post) == pytest.approx(
            (sp, sq, cp, cq)), metric
        assert row.did == pytest.approx((sq - sp) - (cq - cp)), metric
        assert row.pre_gap == pytest.approx(sp - cp), metric
    assert t.loc["revenue_per_customer", "did"] == pytest.approx(71.875)
    assert t.loc["churn_rate", "did"] == pytest.approx(-1 / 6)
    totals = r.totals.set_index("measure")
    assert totals.loc["revenue"].tolist() == [300.0, 450.0] and totals.loc["orders"].tolist() == [3, 5]
    assert "人均销售额: 分群 ¥75.00 → ¥112.50, 对照组 ¥75.00 → ¥40.62, 双重差分 +¥71.88。" in r.summary("zh")
    assert "DiD +31.2 points" in r.summary("en")


def test_all_others_control_is_unweighted(tiny, catalog) -> None:
    eng, schema = tiny
    r = track(eng, schema, [1, 2, 3, 4], SINCE, AS_OF, period_days=30, method="all", catalog=catalog)
    t = r.table.set_index("metric")
    # Controls 5–11 (7 customers; 12 signed up too late): post revenue 100 + 50 = 150, pre 200 + 120.
    assert r.controls == 7
    assert t.loc["revenue_per_customer", "control_post"] == pytest.approx(150 / 7)
    assert t.loc["revenue_per_customer", "control_pre"] == pytest.approx(320 / 7)


def test_strata_keys(tiny, catalog) -> None:
    eng, schema = tiny
    frame = window_frame(eng, schema, windows_for(SINCE, AS_OF, 30), catalog=catalog)
    key = strata(frame).set_axis(frame["customer_id"])
    assert key[1] == key[5] == key[6] and key[4] == key[7] == key[10] and key[11] not in set(key.drop(11))
    assert 12 not in key.index


def test_segment_without_visible_customers(tiny, catalog) -> None:
    eng, schema = tiny
    with pytest.raises(UserError) as err:
        track(eng, schema, [999], SINCE, AS_OF, catalog=catalog)
    assert err.value.code == 269


def test_demo_tracking_matches_hand_sql(engine, catalog, raw_con) -> None:
    """A saved segment on the demo: its pre/post revenue per customer equals hand SQL; controls are balanced."""
    as_of = engine.as_of_date()
    ids = [r[0] for r in raw_con.execute(
        "SELECT customer_id FROM customers WHERE membership_tier = 'Gold' AND region = 'East' "
        "AND signup_date < DATE '2025-10-01'").fetchall()]
    r = track(engine, allowed_schema(catalog, engine.tables()), ids, D(2025, 10, 1), as_of, catalog=catalog)
    pre, post = raw_con.execute(f"""
        SELECT coalesce(sum(amount) FILTER (WHERE order_date >= DATE '2025-07-01' AND order_date < DATE '2025-10-01'), 0),
               coalesce(sum(amount) FILTER (WHERE order_date >= DATE '2025-10-01' AND order_date <= DATE '{as_of}'), 0)
        FROM orders WHERE status = 'completed' AND customer_id IN (SELECT unnest(?::INTEGER[]))""", [ids]).fetchone()
    row = r.table.set_index("metric").loc["revenue_per_customer"]
    assert (r.matched, r.unmatched, r.ineligible) == (len(ids), 0, 0)  # every Gold East customer has controls
    assert row.segment_pre == pytest.approx(float(pre) / len(ids))
    assert row.segment_post == pytest.approx(float(post) / len(ids))
    totals = r.totals.set_index("measure")
    assert totals.loc["customers", "pre"] == r.matched
    # Matching on pre-period orders (0, 1, 2, ...) makes the pre-period active and repeat rates equal.
    gaps = r.table.set_index("metric")["pre_gap"]
    assert gaps["active_rate"] == pytest.approx(0.0, abs=1e-12) and gaps["repeat_rate"] == pytest.approx(0.0, abs=1e-12)
