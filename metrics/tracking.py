"""复盘: how a segment's metrics moved since a date, against a matched control group (DiD).

Windows. ``since`` starts the post period; it runs ``period_days`` days (default:
through the as-of date) and the pre period is the same number of days just
before ``since``; a third, earlier window of the same length feeds the pre
period's churn. Only customers who signed up before ``since`` take part.

Metrics per group and window (completed orders; rates as in the catalog):

=================  ==============================================================
active_rate        share of the group with an order in the window (活跃客户占比)
orders_per_customer  orders / customers (人均订单数)
revenue_per_customer revenue / customers (人均销售额)
repeat_rate        customers with ≥ 2 orders / customers with ≥ 1 (复购率)
churn_rate         customers with an order in the window before and none in this
                   one / customers with an order in the window before (流失率)
=================  ==============================================================

Control group (``method="matched"``, the default): coarsened exact matching
(Iacus, King & Porro 2012) on behaviour *before* ``since`` — the segment was
usually chosen for what it did then, so matching on a post-period RFM class would
match on the outcome. Strata = pre-window orders (0, 1, 2, 3–5, 6+) × pre-window
revenue quartile (edges over the eligible base's buyers) × days since the last
order at ``since`` (none, ≤ 30, 31–90, 91–180, 181–365, > 365). Every non-member
in a stratum that holds members is a control, weighted n_segment / n_control of
its stratum, so the weighted control has the segment's stratum mix exactly;
members in a stratum without controls are left out and counted as unmatched.
``method="all"``: every eligible non-member, unweighted (a plain comparison).

DiD = (segment post − segment pre) − (control post − control pre). With
matching, the pre-period gap between the groups is small by construction; the
result reports it (``pre_gap``) so a reader can judge the parallel-trends
assumption.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from semantic_layer.catalog import Catalog
from semantic_layer.errors import UserError
from semantic_layer.policy import Access
from semantic_layer.schema import Text

from .features import Engine, read
from .labels import missing, money, num, pct

Method = Literal["matched", "all"]

TRACKING_SQL = """
WITH done AS (
  SELECT o.customer_id, o.order_date, o.amount
  FROM orders AS o
  WHERE o.status = 'completed' AND o.order_date <= $post_end
), windows AS (
  SELECT customer_id,
    COUNT(*) FILTER (WHERE order_date >= $prev_start AND order_date < $pre_start) AS orders_prev,
    COUNT(*) FILTER (WHERE order_date >= $pre_start AND order_date < $since) AS orders_pre,
    COALESCE(SUM(amount) FILTER (WHERE order_date >= $pre_start AND order_date < $since), 0) AS revenue_pre,
    COUNT(*) FILTER (WHERE order_date >= $since) AS orders_post,
    COALESCE(SUM(amount) FILTER (WHERE order_date >= $since), 0) AS revenue_post,
    MAX(order_date) FILTER (WHERE order_date < $since) AS last_before
  FROM done GROUP BY customer_id
)
SELECT c.customer_id,
  COALESCE(w.orders_prev, 0) AS orders_prev, COALESCE(w.orders_pre, 0) AS orders_pre,
  COALESCE(w.revenue_pre, 0) AS revenue_pre, COALESCE(w.orders_post, 0) AS orders_post,
  COALESCE(w.revenue_post, 0) AS revenue_post,
  date_diff('day', w.last_before, $since) AS recency_at_since
FROM customers AS c
LEFT JOIN windows AS w ON w.customer_id = c.customer_id
WHERE c.signup_date < $since
ORDER BY c.customer_id
"""

METRICS: tuple[tuple[str, Text, str], ...] = (
    ("active_rate", Text(zh="活跃客户占比", en="Active customers"), "pct"),
    ("orders_per_customer", Text(zh="人均订单数", en="Orders per customer"), "num"),
    ("revenue_per_customer", Text(zh="人均销售额", en="Revenue per customer"), "money"),
    ("repeat_rate", Text(zh="复购率", en="Repeat purchase rate"), "pct"),
    ("churn_rate", Text(zh="流失率", en="Churn rate"), "pct"),
)
_ORDER_BANDS = [0, 1, 2, 3, 6]  # 0, 1, 2, 3–5, 6+
_RECENCY_BANDS = [0, 31, 91, 181, 366]  # ≤30, 31–90, 91–180, 181–365, >365


@dataclass(frozen=True)
class Windows:
    prev_start: dt.date
    pre_start: dt.date
    since: dt.date
    post_end: dt.date

    @property
    def days(self) -> int:
        return (self.post_end - self.since).days + 1

    def dates(self) -> dict[str, dt.date]:
        return {"prev_start": self.prev_start, "pre_start": self.pre_start, "since": self.since,
                "post_end": self.post_end}


@dataclass(frozen=True)
class TrackingResult:
    segment: Text
    windows: Windows
    method: Method
    segment_size: int  # ids given
    matched: int  # members compared (eligible and, with matching, in a stratum with controls)
    unmatched: int  # eligible members without controls in their stratum
    ineligible: int  # members not visible or signed up on/after ``since``
    controls: int  # control customers used
    table: pd.DataFrame  # one row per metric: segment/control pre/post, changes, did, pre_gap
    totals: pd.DataFrame  # the matched segment's raw totals, pre and post
    findings: tuple[Text, ...]

    def summary(self, lang: str = "zh") -> str:
        w = self.windows
        if lang == "zh":
            head = (f"分群「{self.segment.zh}」自 {w.since} 起 {w.days} 天 vs 之前 {w.days} 天"
                    f"(对照组: {'按事前行为匹配' if self.method == 'matched' else '其余全部客户'}, "
                    f"{self.controls:,} 人; 参与比较的分群客户 {self.matched:,} 人)。")
        else:
            head = (f"Segment '{self.segment.en}': {w.days} days from {w.since} vs the {w.days} days before "
                    f"(control: {'matched on pre-period behaviour' if self.method == 'matched' else 'all others'}, "
                    f"{self.controls:,} customers; {self.matched:,} segment customers compared).")
        return " ".join([head, *(f.get(lang) for f in self.findings)])


def windows_for(since: dt.date, as_of: dt.date, period_days: int | None = None) -> Windows:
    """Post = ``since`` … (``since`` + period − 1, at most ``as_of``); pre and prev = the periods before."""
    if since > as_of:
        raise UserError(268, f"起始日 {since} 晚于数据截止日 {as_of}", f"start date {since} is after the as-of date {as_of}")
    days = period_days or (as_of - since).days + 1
    post_end = min(as_of, since + dt.timedelta(days=days - 1))
    days = (post_end - since).days + 1
    pre_start = since - dt.timedelta(days=days)
    return Windows(pre_start - dt.timedelta(days=days), pre_start, since, post_end)


def window_frame(engine: Engine, schema: Mapping[str, Collection[str]], windows: Windows, *,
                 catalog: Catalog | None = None, access: Access | None = None) -> pd.DataFrame:
    """Per eligible customer: orders and revenue in the three windows and recency at ``since`` (SQL)."""
    frame = read(engine, schema, TRACKING_SQL, windows.dates(), catalog=catalog, access=access)
    for col in ("orders_prev", "orders_pre", "orders_post"):
        frame[col] = frame[col].astype("int64")
    for col in ("revenue_pre", "revenue_post", "recency_at_since"):
        frame[col] = frame[col].astype("float64")
    return frame


def strata(frame: pd.DataFrame) -> pd.Series:
    """The matching stratum of each customer (see the module docstring), as a string key."""
    orders = np.digitize(frame["orders_pre"].to_numpy(), _ORDER_BANDS[1:])
    rev = frame["revenue_pre"].to_numpy()
    buyers = rev[frame["orders_pre"].to_numpy() > 0]
    edges = np.quantile(buyers, [0.25, 0.5, 0.75]) if len(buyers) else np.array([])
    rev_band = np.where(frame["orders_pre"].to_numpy() > 0, 1 + np.searchsorted(edges, rev, side="right"), 0)
    rec = frame["recency_at_since"].to_numpy()
    rec_band = np.where(np.isnan(rec), -1, np.digitize(np.nan_to_num(rec), _RECENCY_BANDS[1:]))
    return pd.Series([f"{o}|{r}|{c}" for o, r, c in zip(orders, rev_band, rec_band)], index=frame.index)


def control_weights(frame: pd.DataFrame, members: pd.Series, method: Method = "matched") -> tuple[pd.Series, pd.Series]:
    """(member weights, control weights) over ``frame``: 1 for compared members, n_seg/n_ctl for controls."""
    if method == "all":
        return members.astype(float), (~members).astype(float)
    key = strata(frame)
    n_seg = key[members].value_counts()
    n_ctl = key[~members].value_counts()
    ratio = (n_seg / n_ctl).dropna()  # strata holding both
    w_ctl = key.map(ratio).where(~members, np.nan).fillna(0.0).astype(float)
    w_seg = (members & key.isin(ratio.index)).astype(float)
    return w_seg, w_ctl


def group_metrics(frame: pd.DataFrame, w: pd.Series) -> dict[str, tuple[float, float]]:
    """metric → (pre, post) for one weighted group."""
    w = w.to_numpy(float)
    total = w.sum()

    def ratio(num_: np.ndarray, den: np.ndarray) -> float:
        d = (w * den).sum()
        return float((w * num_).sum() / d) if d else float("nan")

    ones = np.ones(len(frame))
    out: dict[str, list[float]] = {}
    for when, before in (("pre", "prev"), ("post", "pre")):
        o = frame[f"orders_{when}"].to_numpy()
        ob = frame[f"orders_{before}"].to_numpy()
        vals = {
            "active_rate": ratio(o > 0, ones),
            "orders_per_customer": ratio(o, ones),
            "revenue_per_customer": ratio(frame[f"revenue_{when}"].to_numpy(), ones),
            "repeat_rate": ratio(o >= 2, o >= 1),
            "churn_rate": ratio((ob > 0) & (o == 0), ob > 0),
        }
        for k, v in vals.items():
            out.setdefault(k, []).append(v if total else float("nan"))
    return {k: (v[0], v[1]) for k, v in out.items()}


def track(engine: Engine, schema: Mapping[str, Collection[str]], customer_ids: Iterable[Any], since: dt.date,
          as_of: dt.date, *, segment: Text | None = None, period_days: int | None = None,
          method: Method = "matched", catalog: Catalog | None = None, access: Access | None = None
          ) -> TrackingResult:
    """Before/after for the segment and its control group, with differences-in-differences."""
    windows = windows_for(since, as_of, period_days)
    frame = window_frame(engine, schema, windows, catalog=catalog, access=access)
    return compare(frame, customer_ids, windows, segment=segment, method=method)


def compare(frame: pd.DataFrame, customer_ids: Iterable[Any], windows: Windows, *, segment: Text | None = None,
            method: Method = "matched") -> TrackingResult:
    """The pure part of ``track``: ``frame`` as ``window_frame`` returns it."""
    ids = set(customer_ids)
    segment = segment or Text(zh="该分群", en="the segment")
    members = frame["customer_id"].isin(ids)
    if not members.any():
        raise UserError(269, f"分群「{segment.zh}」在 {windows.since} 前没有可见的客户",
                        f"segment '{segment.en}' has no visible customers who signed up before {windows.since}")
    w_seg, w_ctl = control_weights(frame, members, method)
    seg, ctl = group_metrics(frame, w_seg), group_metrics(frame, w_ctl)
    rows = []
    for name, label, kind in METRICS:
        (sp, sq), (cp, cq) = seg[name], ctl[name]
        rows.append({"metric": name, "label_zh": label.zh, "label_en": label.en,
                     "segment_pre": sp, "segment_post": sq, "control_pre": cp, "control_post": cq,
                     "segment_change": sq - sp, "control_change": cq - cp, "did": (sq - sp) - (cq - cp),
                     "pre_gap": sp - cp})
    table = pd.DataFrame(rows)
    m = frame[w_seg > 0]
    totals = pd.DataFrame([
        {"measure": "customers", "pre": len(m), "post": len(m)},
        {"measure": "active_customers", "pre": int((m["orders_pre"] > 0).sum()), "post": int((m["orders_post"] > 0).sum())},
        {"measure": "orders", "pre": int(m["orders_pre"].sum()), "post": int(m["orders_post"].sum())},
        {"measure": "revenue", "pre": float(m["revenue_pre"].sum()), "post": float(m["revenue_post"].sum())},
    ])
    matched = int((w_seg > 0).sum())
    return TrackingResult(
        segment, windows, method, len(ids), matched, int(members.sum()) - matched, len(ids) - int(members.sum()),
        int((w_ctl > 0).sum()), table, totals, tuple(_findings(table, segment)))


def _fmt(kind: str, x: float) -> str:
    return {"pct": pct, "money": money}.get(kind, lambda v: num(v, 2))(x)


def _findings(table: pd.DataFrame, segment: Text) -> list[Text]:
    kinds = {name: kind for name, _, kind in METRICS}
    out = []
    for r in table.itertuples(index=False):
        kind = kinds[r.metric]
        if missing(r.did):
            continue
        delta = (f"{r.did * 100:+.1f} 个百分点" if kind == "pct" else
                 f"{'+' if r.did >= 0 else '-'}{_fmt(kind, abs(r.did))}")
        delta_en = (f"{r.did * 100:+.1f} points" if kind == "pct" else
                    f"{'+' if r.did >= 0 else '-'}{_fmt(kind, abs(r.did))}")
        out.append(Text(
            zh=f"{r.label_zh}: 分群 {_fmt(kind, r.segment_pre)} → {_fmt(kind, r.segment_post)}, "
               f"对照组 {_fmt(kind, r.control_pre)} → {_fmt(kind, r.control_post)}, 双重差分 {delta}。",
            en=f"{r.label_en}: segment {_fmt(kind, r.segment_pre)} → {_fmt(kind, r.segment_post)}, "
               f"control {_fmt(kind, r.control_pre)} → {_fmt(kind, r.control_post)}, DiD {delta_en}."))
    return out
