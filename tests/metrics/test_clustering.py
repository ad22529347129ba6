"""k-means finds planted clusters and names them by rule; deterministic on the demo warehouse."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from metrics.clustering import AVERAGE, NAMING, Centroid, cluster_customers, name_cluster
from metrics.features import customer_features
from metrics.labels import Labels
from semantic_layer.access import allowed_schema
from semantic_layer.engine import DuckDBEngine
from tests.metrics.tiny_warehouse import Tiny

AS_OF = dt.date(2025, 12, 31)
D = dt.date
GROUPS = {"frequent_small": range(1, 31), "big_ticket": range(31, 61), "dormant": range(61, 91),
          "new": range(91, 121)}


def _planted(path: Path) -> Path:
    """Four groups of 30 with small deterministic jitter (see the names each must get below)."""
    t = Tiny()
    for cid in range(1, 121):
        t.customer(cid, signup=D(2023, 1, 1))
    for i, cid in enumerate(GROUPS["frequent_small"]):  # 12 orders of ~40 over the last year, last ~5 days ago
        for m in range(12):
            t.order(cid, AS_OF - dt.timedelta(days=5 + i % 3 + 30 * m), 40 + i % 5)
    for i, cid in enumerate(GROUPS["big_ticket"]):  # 2 orders of ~3000: ~700 and ~60 days ago
        t.order(cid, AS_OF - dt.timedelta(days=700 + i % 7), 3000 + 10 * (i % 4))
        t.order(cid, AS_OF - dt.timedelta(days=60 + i % 5), 3000 + 10 * (i % 3))
    for i, cid in enumerate(GROUPS["dormant"]):  # 3 orders of ~300, 700 to 500 days ago
        for d in (700, 600, 500):
            t.order(cid, AS_OF - dt.timedelta(days=d + i % 6), 300 + i % 4)
    for i, cid in enumerate(GROUPS["new"]):  # one order of ~300 in the last 40 days
        t.order(cid, AS_OF - dt.timedelta(days=10 + i), 300 + i % 6)
    return t.write(path)


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory, catalog):
    with DuckDBEngine(_planted(tmp_path_factory.mktemp("clusters") / "c.duckdb")) as eng:
        features = customer_features(eng, allowed_schema(catalog, eng.tables()), AS_OF, catalog=catalog)
    return features


def test_kmeans_finds_the_planted_groups_and_names_them_by_rule(planted, catalog) -> None:
    result = cluster_customers(planted, catalog=catalog)
    assert result.k == 4 and result.silhouettes[4] == max(result.silhouettes.values())
    a = result.assignments.set_index("customer_id")
    names = {}
    for group, ids in GROUPS.items():
        got = a.loc[list(ids)]
        assert got["cluster"].nunique() == 1, group  # each planted group is exactly one cluster
        names[group] = got["name_zh"].iloc[0]
    assert names == {"frequent_small": "高频低额型", "big_ticket": "大额低频型", "dormant": "沉睡型",
                     "new": "新客型"}
    assert {c.name.en for c in result.clusters} == {"Frequent, small baskets", "Big-ticket, infrequent", "Dormant",
                                                    "New buyers"}
    # The base the rules compare with, by hand: orders in the last 365 days per buyer.
    assert result.base.size == 120 and result.base.orders_365 == pytest.approx((30 * 12 + 30 + 0 + 30) / 120)
    assert "高频低额型" in result.summary("zh") and "Dormant" in result.summary("en")


def test_clustering_is_deterministic(planted, catalog) -> None:
    one = cluster_customers(planted, catalog=catalog, k_range=(3, 5))
    two = cluster_customers(planted, catalog=catalog, k_range=(3, 5))
    assert one.assignments.equals(two.assignments) and one.silhouettes == two.silhouettes


def test_naming_rules_in_order() -> None:
    base = Centroid(100, 60, 400, 4.0, 400.0, 1600.0, {"baby": 0.1}, {"store": 0.3})
    labels = Labels()

    def named(**kw: object) -> str:
        c = Centroid(**{**base.__dict__, **kw})
        return name_cluster(c, base, labels)[0].zh

    assert named(recency_median=200) == "沉睡型"  # dormant wins over everything after it
    assert named(first_order_median=90) == "新客型"
    assert named(orders_365=6.0, aov=500.0) == "高价值型"
    assert named(orders_365=6.0, aov=300.0) == "高频低额型"
    assert named(aov=600.0, orders_365=3.0) == "大额低频型"
    assert named(orders_365=0.5, aov=300.0) == "低频低额型"
    assert named() == AVERAGE.zh
    _, traits, pref = name_cluster(Centroid(**{**base.__dict__, "categories": {"baby": 0.4}}), base, labels)
    assert pref is not None and pref.zh == "Baby偏好" and traits == (pref,)
    assert len(NAMING) == 8


def test_demo_clusters_are_named_from_the_rule_vocabulary(engine, catalog) -> None:
    from semantic_layer.materialize import Materializer

    as_of = engine.as_of_date()
    Materializer(catalog, engine).ensure(["customer_segments"], as_of)
    features = customer_features(engine, allowed_schema(catalog, engine.tables()), as_of, catalog=catalog)
    result = cluster_customers(features, catalog=catalog)
    vocabulary = {n.zh for n, _ in NAMING} | {AVERAGE.zh}
    assert 3 <= result.k <= 8 and len({c.name.zh for c in result.clusters}) == result.k
    assert all(any(c.name.zh.startswith(v) for v in vocabulary) for c in result.clusters)
    assert result.assignments["customer_id"].is_unique
    assert len(result.assignments) == int((features["orders"] > 0).sum())
    assert "沉睡型" in {c.name.zh for c in result.clusters}  # the demo has many lapsed buyers
