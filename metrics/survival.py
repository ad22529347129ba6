"""Survival and retention curves: Kaplan-Meier with Greenwood bands, and the log-rank test.

Two events, both over completed orders summed per customer-day, with time counted in
days from the customer's first purchase:

- ``churn`` — the customer becomes churned on the day ``churn_days`` (default 180,
  the catalog's churned flag) have passed since a purchase with no next purchase
  inside that gap: event time = (last purchase before the first gap of ≥ N days) + N
  − first purchase. S(t) is the share not yet churned at tenure t, so S(t) = 1 for
  t < N by construction. A customer who comes back after such a gap still counts as
  churned at the first gap (reactivation is a later story).
- ``second_purchase`` — the second purchase-day; S(t) is the share still
  waiting for a second purchase t days after the first (1 − S is repeat conversion).

Customers without the event are censored at the as-of date (as_of − first purchase).

Kaplan-Meier: S(t) = Π_{t_i ≤ t} (1 − d_i/n_i). Greenwood's variance
Var[S(t)] = S(t)² Σ d_i/(n_i(n_i − d_i)). Bands use the log-log transform (R's
``conf.type = "log-log"``, lifelines' default): with v = Σ d_i/(n_i(n_i − d_i)) / (ln S)²,
the band is S^exp(±z·√v), which stays inside [0, 1].
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from semantic_layer.errors import UserError
from semantic_layer.schema import Text

from .governed_reader import Reader
from .segment_filter import Segment

Event = Literal["churn", "second_purchase"]
E_NO_DATA = 260
# Cohort labels: 2024, 2024-Q3, 2024-07 (the first purchase's period).
COHORT_GRAINS = {
    "cohort_year": "strftime(f.first_date, '%Y')",
    "cohort_quarter": "strftime(f.first_date, '%Y') || '-Q' || CAST(quarter(f.first_date) AS VARCHAR)",
    "cohort_month": "strftime(f.first_date, '%Y-%m')",
}
KM_COLUMNS = ["time", "at_risk", "events", "censored", "survival", "std_err", "lower", "upper"]


# --- the estimators ---------------------------------------------------------------


def kaplan_meier(durations: ArrayLike, events: ArrayLike, *, alpha: float = 0.05) -> pd.DataFrame:
    """The Kaplan-Meier table at every distinct observed time (events or censorings).

    Columns: time, at_risk (n_i), events (d_i), censored, survival (S after time),
    std_err (Greenwood), lower, upper (log-log band at 1 − alpha).

    >>> km = kaplan_meier([1, 2, 2, 3], [1, 1, 0, 1])
    >>> km["survival"].round(3).tolist()
    [0.75, 0.5, 0.0]
    """
    t = np.asarray(durations, dtype=np.float64)
    e = np.asarray(events).astype(bool)
    if t.shape != e.shape or t.ndim != 1:
        raise ValueError("durations and events must be 1-d and of one length")
    if (t < 0).any() or not np.isfinite(t).all():
        raise ValueError("durations must be finite and non-negative")
    if t.size == 0:
        return pd.DataFrame(columns=KM_COLUMNS)
    times, inverse = np.unique(t, return_inverse=True)
    d = np.bincount(inverse, weights=e, minlength=times.size)
    c = np.bincount(inverse, weights=~e, minlength=times.size)
    total = d + c
    n = t.size - np.concatenate([[0.0], np.cumsum(total)[:-1]])  # at risk just before each time
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(1.0 - d / n)
        green = np.cumsum(np.where(n > d, d / (n * (n - d)), np.inf))  # d = n: S hits 0, variance undefined
        std = surv * np.sqrt(green)
        z = stats.norm.ppf(1 - alpha / 2)
        log_s = np.log(surv)
        v = np.sqrt(green) / np.abs(log_s)
        lower = np.where(surv >= 1, 1.0, np.where(surv <= 0, 0.0, surv ** np.exp(z * v)))
        upper = np.where(surv >= 1, 1.0, np.where(surv <= 0, 0.0, surv ** np.exp(-z * v)))
    std = np.where(surv <= 0, np.nan, std)
    return pd.DataFrame({"time": times, "at_risk": n.astype(np.int64), "events": d.astype(np.int64),
                         "censored": c.astype(np.int64), "survival": surv, "std_err": std,
                         "lower": lower, "upper": upper})


def survival_at(km: pd.DataFrame, t: float, column: str = "survival") -> float:
    """S(t) (or a band column) read off a KM table: a right-continuous step function."""
    before = km[km["time"] <= t]
    return 1.0 if before.empty else float(before[column].iloc[-1])


def median_survival(km: pd.DataFrame) -> float:
    """The first time S(t) ≤ 0.5; NaN if the curve never gets there."""
    hit = km[km["survival"] <= 0.5]
    return float(hit["time"].iloc[0]) if len(hit) else float("nan")


@dataclass(frozen=True)
class LogRankResult:
    """k-group log-rank test: chi-square on k − 1 degrees of freedom."""

    statistic: float
    dof: int
    p_value: float
    observed: dict[str, float]
    expected: dict[str, float]


def logrank_test(durations: ArrayLike, events: ArrayLike, groups: ArrayLike) -> LogRankResult:
    """Do the groups' survival curves differ? (Mantel's log-rank, hypergeometric variance).

    At each event time, O − E per group with E_g = d·n_g/n, and the covariance
    V_gh = d(n − d)/(n − 1) · n_g/n · (δ_gh − n_h/n); the statistic is
    (O − E)ᵀ V⁻¹ (O − E) over the first k − 1 groups.
    """
    t = np.asarray(durations, dtype=np.float64)
    e = np.asarray(events).astype(bool)
    g = np.asarray(groups).astype(str)
    labels = sorted(set(g.tolist()))
    if len(labels) < 2:
        raise ValueError("the log-rank test needs at least two groups")
    times = np.unique(t[e])
    k = len(labels)
    obs, exp_, var = np.zeros(k), np.zeros(k), np.zeros((k, k))
    # at-risk counts per group at every event time, by sorted search (O(n log n))
    at_risk = np.empty((k, times.size))
    deaths = np.empty((k, times.size))
    for j, label in enumerate(labels):
        tj, ej = t[g == label], e[g == label]
        sorted_t = np.sort(tj)
        at_risk[j] = tj.size - np.searchsorted(sorted_t, times, side="left")
        ev = np.sort(tj[ej])
        deaths[j] = np.searchsorted(ev, times, side="right") - np.searchsorted(ev, times, side="left")
    n = at_risk.sum(axis=0)
    d = deaths.sum(axis=0)
    obs = deaths.sum(axis=1)
    exp_ = (at_risk * (d / n)).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(n > 1, d * (n - d) / (n - 1), 0.0) / n
    share = at_risk / n
    for a in range(k):
        for b in range(k):
            var[a, b] = np.sum(scale * at_risk[a] * ((1.0 if a == b else 0.0) - share[b]))
    diff = (obs - exp_)[:-1]
    stat = float(diff @ np.linalg.solve(var[:-1, :-1], diff))
    return LogRankResult(stat, k - 1, float(stats.chi2.sf(stat, k - 1)),
                         dict(zip(labels, obs.tolist())), dict(zip(labels, exp_.tolist())))


# --- from the warehouse ---------------------------------------------------------------


def durations_sql(as_of: dt.date, *, event: Event = "churn", churn_days: int = 180,
                  group_by: str | None = None, segment: Segment | None = None,
                  first_between: tuple[dt.date, dt.date] | None = None) -> str:
    """One row per customer: customer_id, grp, first_date, duration (days), event (bool).

    ``group_by``: None (one curve), ``cohort_year`` / ``cohort_quarter`` / ``cohort_month``
    (the first purchase's period) or a column of ``customers`` (region, acquisition_channel,
    membership_tier, city_tier, gender …; the guard checks it exists).
    ``first_between`` keeps customers whose first purchase falls in the range.
    """
    day = f"DATE '{as_of.isoformat()}'"
    seg = segment.condition("o.customer_id") if segment else "TRUE"
    if group_by is None:
        grp = "'all'"
    elif group_by in COHORT_GRAINS:
        grp = COHORT_GRAINS[group_by]
    elif group_by.isidentifier() and group_by.islower():
        grp = f"CAST(c.{group_by} AS VARCHAR)"
    else:
        raise UserError(262, f"无法按 {group_by!r} 分组。", f"Cannot group by {group_by!r}.")
    if event == "churn":
        event_sql = ("MIN(CASE WHEN date_diff('day', order_date, COALESCE(next_date, " + day + f")) >= {int(churn_days)}"
                     " THEN order_date END)")
        per_customer = (f"SELECT customer_id, MIN(order_date) AS first_date, {event_sql} AS churn_from "
                        "FROM nxt GROUP BY customer_id")
        duration = (f"CASE WHEN f.churn_from IS NOT NULL THEN date_diff('day', f.first_date, f.churn_from) + "
                    f"{int(churn_days)} ELSE date_diff('day', f.first_date, {day}) END")
        happened = "f.churn_from IS NOT NULL"
    else:
        per_customer = ("SELECT customer_id, MIN(order_date) AS first_date, "
                        "MIN(CASE WHEN rn = 2 THEN order_date END) AS second_date FROM nxt GROUP BY customer_id")
        duration = (f"CASE WHEN f.second_date IS NOT NULL THEN date_diff('day', f.first_date, f.second_date) "
                    f"ELSE date_diff('day', f.first_date, {day}) END")
        happened = "f.second_date IS NOT NULL"
    first_filter = ""
    if first_between is not None:
        first_filter = (f" AND f.first_date BETWEEN DATE '{first_between[0].isoformat()}'"
                        f" AND DATE '{first_between[1].isoformat()}'")
    return (
        "WITH days AS (SELECT DISTINCT o.customer_id, o.order_date FROM orders AS o "
        f"WHERE o.status = 'completed' AND o.order_date <= {day} AND {seg}), "
        "nxt AS (SELECT customer_id, order_date, "
        "LEAD(order_date) OVER (PARTITION BY customer_id ORDER BY order_date) AS next_date, "
        "ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY order_date) AS rn FROM days), "
        f"f AS ({per_customer}) "
        f"SELECT f.customer_id, {grp} AS grp, f.first_date, {duration} AS duration, {happened} AS event "
        "FROM f LEFT JOIN customers AS c ON c.customer_id = f.customer_id "
        f"WHERE TRUE{first_filter} ORDER BY f.customer_id"
    )


@dataclass(frozen=True)
class SurvivalResult:
    """KM curves per group, a per-group summary, and the log-rank test across groups.

    ``curves``: grp + KM_COLUMNS. ``summary``: grp, customers, events, median_days and
    S at each of ``checkpoints`` days (columns ``s_90`` …). ``logrank`` is None with one group.
    """

    event: Event
    churn_days: int
    as_of: dt.date
    curves: pd.DataFrame
    summary: pd.DataFrame
    logrank: LogRankResult | None
    title: Text
    definition: Text

    def describe(self, lang: str = "zh") -> str:
        """A short narrative: each group's S at one year and the median, then the test."""
        lines = [self.title.get(lang)]
        for row in self.summary.itertuples(index=False):
            s365 = getattr(row, "s_365", float("nan"))
            med = "—" if np.isnan(row.median_days) else f"{row.median_days:.0f}"
            if lang == "zh":
                lines.append(f"- {row.grp}: {row.customers:,} 位客户, 365 天时 S={s365:.1%}, 中位时间 {med} 天")
            else:
                lines.append(f"- {row.grp}: {row.customers:,} customers, S(365 d) = {s365:.1%}, median {med} days")
        if self.logrank is not None:
            lr = self.logrank
            verdict = lr.p_value < 0.05
            if lang == "zh":
                lines.append(f"对数秩检验: χ²={lr.statistic:.1f}, 自由度 {lr.dof}, p={lr.p_value:.3g}"
                             f"({'各组曲线差异显著' if verdict else '各组差异不显著'})")
            else:
                lines.append(f"Log-rank test: χ² = {lr.statistic:.1f} on {lr.dof} df, p = {lr.p_value:.3g}"
                             f" ({'the curves differ' if verdict else 'no significant difference'})")
        return "\n".join(lines)


def survival_curves(read: Reader, as_of: dt.date, *, event: Event = "churn", churn_days: int = 180,
                    group_by: str | None = None, segment: Segment | None = None,
                    first_between: tuple[dt.date, dt.date] | None = None, alpha: float = 0.05,
                    checkpoints: Sequence[int] = (90, 180, 365, 730), min_group_size: int = 1) -> SurvivalResult:
    """Kaplan-Meier curves from the warehouse (durations in SQL, the estimator in numpy)."""
    frame = read(durations_sql(as_of, event=event, churn_days=churn_days, group_by=group_by,
                               segment=segment, first_between=first_between))
    if frame.empty:
        raise UserError(E_NO_DATA, "所选范围内没有已完成订单的客户,无法计算生存曲线。",
                        "No customer with a completed order in scope; no survival curve to draw.")
    frame["grp"] = frame["grp"].fillna("(unknown)").astype(str)
    sizes = frame["grp"].value_counts()
    frame = frame[frame["grp"].isin(sizes[sizes >= min_group_size].index)]
    curves, rows = [], []
    for grp, part in frame.groupby("grp", sort=True):
        km = kaplan_meier(part["duration"].to_numpy(np.float64), part["event"].to_numpy(bool), alpha=alpha)
        curves.append(km.assign(grp=grp))
        row: dict[str, object] = {"grp": grp, "customers": len(part), "events": int(part["event"].sum()),
                                  "median_days": median_survival(km)}
        for c in checkpoints:
            row[f"s_{c}"] = survival_at(km, c)
            row[f"s_{c}_lower"] = survival_at(km, c, "lower")
            row[f"s_{c}_upper"] = survival_at(km, c, "upper")
        rows.append(row)
    logrank = (logrank_test(frame["duration"].to_numpy(np.float64), frame["event"].to_numpy(bool),
                            frame["grp"].to_numpy()) if frame["grp"].nunique() >= 2 else None)
    curves_df = pd.concat(curves, ignore_index=True)[["grp", *KM_COLUMNS]]
    return SurvivalResult(event, churn_days, as_of, curves_df, pd.DataFrame(rows), logrank,
                          _title(event, churn_days, group_by), _definition(event, churn_days, as_of, alpha))


def _title(event: Event, churn_days: int, group_by: str | None) -> Text:
    by_zh = f"(按 {group_by})" if group_by else ""
    by_en = f" by {group_by}" if group_by else ""
    if event == "churn":
        return Text(zh=f"客户存活曲线: 首购后未流失(连续 {churn_days} 天无购买即流失)的比例{by_zh}",
                    en=f"Customer survival: share not yet churned ({churn_days} days without a purchase){by_en}")
    return Text(zh=f"复购等待曲线: 首购后尚未第二次购买的比例{by_zh}",
                en=f"Time to second purchase: share still without a second purchase{by_en}")


def _definition(event: Event, churn_days: int, as_of: dt.date, alpha: float) -> Text:
    level = f"{1 - alpha:.0%}"
    what_zh = (f"流失 = 某次购买后连续 {churn_days} 天没有已完成订单, 流失日 = 该次购买日 + {churn_days} 天"
               if event == "churn" else "事件 = 第二个购买日")
    what_en = (f"churn = {churn_days} days without a completed order after a purchase, dated that purchase + "
               f"{churn_days} days" if event == "churn" else "event = the second purchase-day")
    return Text(
        zh=(f"Kaplan-Meier 估计, 时间为距首次购买的天数; {what_zh}; 未发生者在数据截止日 {as_of.isoformat()} 删失。"
            f" 置信带为 Greenwood 方差的 log-log 变换 {level} 区间。"),
        en=(f"Kaplan-Meier estimate over days since the first purchase; {what_en}; customers without the event are"
            f" censored at the as-of date {as_of.isoformat()}. Bands: {level} Greenwood, log-log transform."),
    )
