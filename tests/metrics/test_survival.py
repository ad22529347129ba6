"""Kaplan-Meier, Greenwood log-log bands and the log-rank test: by hand, a textbook, the warehouse."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from metrics.survival import kaplan_meier, logrank_test, median_survival, survival_at, survival_curves

AS_OF = dt.date(2025, 12, 31)

# Freireich et al. (1963) 6-MP remission times (weeks; 0 = censored), as tabulated in Kleinbaum &
# Klein, "Survival Analysis: A Self-Learning Text", ch. 2 and in R's survival::gehan.
MP6 = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
MP6_EVENT = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]
PLACEBO = [1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22, 23]


def test_hand_computed_km_with_greenwood_and_log_log_band() -> None:
    # times 1(e) 2(e) 2(c) 3(e) 4(c): n = 5, 4, 2 at the event times
    km = kaplan_meier([1, 2, 2, 3, 4], [1, 1, 0, 1, 0])
    assert km["time"].tolist() == [1, 2, 3, 4]
    assert km["at_risk"].tolist() == [5, 4, 2, 1]
    s = [4 / 5, 4 / 5 * 3 / 4, 4 / 5 * 3 / 4 * 1 / 2, 0.3]
    assert km["survival"].tolist() == pytest.approx(s)
    g2 = 1 / (5 * 4) + 1 / (4 * 3)
    assert km["std_err"].iloc[1] == pytest.approx(0.6 * math.sqrt(g2))
    v = math.sqrt(g2) / abs(math.log(0.6))
    assert km["lower"].iloc[1] == pytest.approx(0.6 ** math.exp(1.959964 * v), rel=1e-5)
    assert km["upper"].iloc[1] == pytest.approx(0.6 ** math.exp(-1.959964 * v), rel=1e-5)
    assert survival_at(km, 0.5) == 1.0 and survival_at(km, 2.5) == pytest.approx(0.6)
    assert median_survival(km) == 3.0


def test_textbook_6mp_curve_bands_and_logrank() -> None:
    km = kaplan_meier(MP6, MP6_EVENT)
    ev = km[km["events"] > 0]
    # published KM (Kleinbaum & Klein table 2.x; R survfit with conf.type = "log-log")
    assert ev["survival"].round(4).tolist() == [0.8571, 0.8067, 0.7529, 0.6902, 0.6275, 0.5378, 0.4482]
    assert ev["std_err"].round(4).tolist() == [0.0764, 0.0869, 0.0963, 0.1068, 0.1141, 0.1282, 0.1346]
    assert ev["lower"].round(3).tolist() == [0.620, 0.563, 0.503, 0.432, 0.368, 0.268, 0.188]
    assert ev["upper"].round(3).tolist() == [0.952, 0.923, 0.889, 0.849, 0.805, 0.747, 0.680]
    result = logrank_test(MP6 + PLACEBO, MP6_EVENT + [1] * 21, ["6-MP"] * 21 + ["placebo"] * 21)
    assert result.statistic == pytest.approx(16.79, abs=0.005)  # Kleinbaum & Klein: 16.79, p < 0.0001
    assert result.expected["6-MP"] == pytest.approx(19.25, abs=0.005)
    assert result.dof == 1 and result.p_value == pytest.approx(4.17e-5, rel=0.01)


def test_logrank_three_groups_matches_two_group_special_case() -> None:
    rng = np.random.default_rng(1)
    t = rng.exponential(10, 300).round()
    e = rng.random(300) < 0.7
    g = np.repeat(["a", "b", "c"], 100)
    three = logrank_test(t, e, g)
    assert three.dof == 2 and 0 <= three.p_value <= 1
    two = logrank_test(t[:200], e[:200], g[:200])
    assert two.dof == 1
    assert sum(three.observed.values()) == pytest.approx(sum(three.expected.values()))


@pytest.fixture
def read(tiny_warehouse, open_reader):
    def day(n: int) -> dt.date:
        return AS_OF - dt.timedelta(days=n)

    customers = [(i, f"n{i}", r, "Organic", dt.date(2023, 1, 1)) for i, r in
                 [(1, "East"), (2, "East"), (3, "North"), (4, "North")]]
    c1 = dt.date(2024, 1, 1)
    dates = {1: [c1, c1 + dt.timedelta(100), c1 + dt.timedelta(400)],  # gap of 300 after day 100: churned at 280
             # 354 days between purchases: churned at 180 (then came back); second purchase at 354
             2: [dt.date(2025, 1, 1), day(10)],
             3: [day(200)],  # single purchase 200 days ago: churned at 180
             4: [day(100), day(100)]}  # two orders on one day = one purchase-day: censored at 100
    orders, oid = [], 0
    for cid, ds in dates.items():
        for d in ds:
            oid += 1
            orders.append((oid, cid, d, "App", "completed", 10))
    orders.append((99, 4, day(50), "App", "cancelled", 10))  # cancelled orders never count
    items = [(o[0], 1, 1, 10) for o in orders]
    return open_reader(tiny_warehouse(customers=customers, orders=orders, items=items))


def test_churn_durations_from_sql_by_hand(read) -> None:
    result = survival_curves(read, AS_OF, event="churn", churn_days=180)
    km = result.curves
    assert km["time"].tolist() == [100, 180, 280]
    assert km["at_risk"].tolist() == [4, 3, 1]
    assert km["events"].tolist() == [0, 2, 1]
    assert km["survival"].tolist() == pytest.approx([1.0, 1 / 3, 0.0])
    row = result.summary.iloc[0]
    assert (row["customers"], row["events"], row["median_days"]) == (4, 3, 180)
    longer = survival_curves(read, AS_OF, event="churn", churn_days=365).curves
    # 365-day rule: nobody churns (c1's gap is 300, c2's 354, c3 bought 200 days ago)
    assert longer["events"].sum() == 0 and longer["time"].tolist() == [100, 200, 364, 730]


def test_second_purchase_by_region_with_logrank(read) -> None:
    result = survival_curves(read, AS_OF, event="second_purchase", group_by="region")
    east = result.curves[result.curves["grp"] == "East"]
    assert east["time"].tolist() == [100, 354] and east["survival"].tolist() == pytest.approx([0.5, 0.0])
    north = result.curves[result.curves["grp"] == "North"]
    assert north["events"].sum() == 0 and north["survival"].tolist() == [1.0, 1.0]
    assert result.logrank is not None and result.logrank.dof == 1
    assert "Log-rank" in result.describe("en") and "对数秩检验" in result.describe("zh")


def test_cohorts_on_demo(engine, catalog) -> None:
    from metrics.governed_reader import governed_reader
    from semantic_layer.access import allowed_schema

    read = governed_reader(engine, allowed_schema(catalog, engine.tables()))
    result = survival_curves(read, AS_OF, group_by="cohort_year")
    assert result.summary["grp"].tolist() == ["2023", "2024", "2025"]
    assert (result.curves.groupby("grp")["survival"].apply(lambda s: s.is_monotonic_decreasing)).all()
    assert (result.curves["lower"] <= result.curves["survival"] + 1e-12).all()
    assert (result.curves["upper"] >= result.curves["survival"] - 1e-12).all()
    # nobody is churned before 180 days by definition; one-time buyers churn at exactly 180
    assert result.curves.loc[result.curves["time"] < 180, "survival"].eq(1.0).all()
    assert (result.summary["s_180"] < 0.7).all()
