"""Customer clustering: k-means on standardised behaviour, named by rules, never at random.

Input is the feature table (``metrics.features``); customers with at least one
completed order are clustered. Features, each standardised (z-score):

- R ``recency_days``; F ``log1p(orders)``; M ``log1p(revenue)``; ``log1p(aov)``;
  ``first_order_days`` (how long ago the first order was: what sets new buyers apart).
  Counts and money are heavy-tailed, hence the log;
- the category mix (``cat_*`` revenue shares) and the channel mix (``ch_*``
  order shares). Each mix is one block weighted 1/√(columns), so a mix counts
  like one feature and seven category columns cannot outvote R, F and M.

k is chosen by the silhouette over ``k_range`` (default 3–8; ties go to the smaller
k): each k is fitted on up to ``fit_sample`` customers (20,000: everyone at the demo
size) and scored on ``sample_size`` (2,000) of them, both drawn with a fixed seed;
the chosen k is then fitted on every buyer. k-means runs with
a fixed ``random_state``, so a rerun gives the same clusters; clusters are
numbered by size (0 = largest).

Names come from rules over each cluster's centroid in business units against the
clustered base (``NAMING``, first rule wins; the others become traits):

=========  =====================================================================
沉睡型     median days since the last order ≥ ``churn_days`` (180)
新客型     median days since the first order ≤ 180 and ≤ half the base's median
高价值型   orders in 365 days ≥ 1.5× the base and AOV ≥ 1.2× the base
高频低额型 orders in 365 days ≥ 1.3× the base and AOV ≤ 0.9× the base
大额低频型 AOV ≥ 1.3× the base and orders in 365 days ≤ 0.9× the base
高频型     orders in 365 days ≥ 1.3× the base
大额型     AOV ≥ 1.3× the base
低频低额型 orders in 365 days ≤ 0.7× and AOV ≤ 0.85× the base
普通型     none of the above
=========  =====================================================================

Preference traits: a category whose revenue share is ≥ 1.5× the base's and ≥ 30%
("母婴偏好"), a sales channel whose order share is ≥ 1.3× the base's and ≥ 50%
("门店为主"). Two clusters with the same name are told apart by their strongest
preference trait, then by a number.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from semantic_layer.catalog import Catalog
from semantic_layer.errors import UserError
from semantic_layer.schema import Text

from .features import CHURN_DAYS, mix_columns
from .labels import Labels, money, num, pct

BEHAVIOUR = ("recency_days", "orders", "revenue", "aov", "first_order_days")
_LOGGED = {"orders", "revenue", "aov"}


@dataclass(frozen=True)
class Centroid:
    """A cluster (or the base) in business units."""

    size: int
    recency_median: float
    first_order_median: float
    orders_365: float  # mean per customer
    aov: float  # Σ revenue / Σ orders
    revenue_365: float  # mean per customer
    categories: dict[str, float]  # category value → revenue share
    channels: dict[str, float]  # channel value → order share


@dataclass(frozen=True)
class Cluster:
    id: int
    name: Text
    traits: tuple[Text, ...]
    size: int
    share: float
    centroid: Centroid
    description: Text


@dataclass(frozen=True)
class ClusterResult:
    k: int
    silhouettes: dict[int, float]
    clusters: tuple[Cluster, ...]
    assignments: pd.DataFrame  # customer_id, cluster, name_zh, name_en
    base: Centroid
    features: tuple[str, ...]

    def summary(self, lang: str = "zh") -> str:
        head = (f"按轮廓系数选出 {self.k} 类(轮廓系数 {self.silhouettes[self.k]:.2f}):"
                if lang == "zh" else f"{self.k} clusters chosen by silhouette ({self.silhouettes[self.k]:.2f}): ")
        return head + ("; " if lang == "en" else ";").join(c.description.get(lang) for c in self.clusters)

    def table(self, lang: str = "zh") -> pd.DataFrame:
        return pd.DataFrame([{
            "cluster": c.id, "name": c.name.get(lang), "customers": c.size, "share": c.share,
            "recency_median": c.centroid.recency_median, "orders_365": c.centroid.orders_365,
            "aov": c.centroid.aov, "revenue_365": c.centroid.revenue_365,
            "first_order_median": c.centroid.first_order_median,
            "traits": ", ".join(t.get(lang) for t in c.traits),
        } for c in self.clusters])


# --- the matrix ---------------------------------------------------------------------------------


def design_matrix(features: pd.DataFrame) -> tuple[np.ndarray, tuple[str, ...]]:
    """Standardised behaviour columns plus the two mixes, each mix weighted 1/√(its columns)."""
    blocks, names = [], []
    for col in BEHAVIOUR:
        x = features[col].to_numpy(dtype=float)
        blocks.append(_z(np.log1p(x) if col in _LOGGED else x)[:, None])
        names.append(f"log1p({col})" if col in _LOGGED else col)
    for prefix in ("cat_", "ch_"):
        cols = mix_columns(features, prefix)
        if cols:
            z = np.column_stack([_z(features[c].to_numpy(dtype=float)) for c in cols])
            blocks.append(z / math.sqrt(len(cols)))
            names += cols
    return np.hstack(blocks), tuple(names)


def _z(x: np.ndarray) -> np.ndarray:
    sd = x.std()
    return (x - x.mean()) / sd if sd > 0 else np.zeros_like(x)


def cluster_customers(features: pd.DataFrame, *, k_range: tuple[int, int] = (3, 8), random_state: int = 0,
                      sample_size: int = 2000, fit_sample: int = 20_000, n_init: int = 4, catalog: Catalog | None = None,
                      churn_days: int = CHURN_DAYS) -> ClusterResult:
    """Cluster the buyers in ``features``; k by silhouette over ``k_range`` (inclusive)."""
    # sklearn first: threadpool_limits only reaches thread pools already loaded (libgomp comes with it).
    import sklearn.cluster  # noqa: F401
    from threadpoolctl import threadpool_limits

    # One BLAS/OpenMP thread: on a 2-core machine the threaded k-means spun against
    # itself (18k customers: 5.1 s with 2 threads, 0.18 s with 1, measured here).
    with threadpool_limits(limits=1):
        return _cluster(features, k_range, random_state, sample_size, fit_sample, n_init, Labels(catalog),
                        churn_days)


def _cluster(features: pd.DataFrame, k_range: tuple[int, int], random_state: int, sample_size: int,
             fit_sample: int, n_init: int,
             labels_: Labels, churn_days: int) -> ClusterResult:
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    buyers = features[features["orders"] > 0].reset_index(drop=True)
    lo, hi = k_range
    hi = min(hi, len(buyers) - 1)
    if lo < 2 or hi < lo:
        raise UserError(263, f"客户数({len(buyers)})不足以聚成 {lo} 类",
                        f"too few customers ({len(buyers)}) for {lo} clusters")
    x, names = design_matrix(buyers)
    rng = np.random.default_rng(random_state)
    # k is chosen on at most fit_sample customers (all of them at the demo size); the silhouette on
    # sample_size of those (it costs O(n²)); the chosen k is then fitted on everyone.
    chosen = np.sort(rng.choice(len(x), size=min(fit_sample, len(x)), replace=False))
    sample = np.sort(rng.choice(len(chosen), size=min(sample_size, len(chosen)), replace=False))
    xs = x[chosen]
    scores: dict[int, float] = {}
    fits = {}
    for k in range(lo, hi + 1):
        labels = KMeans(n_clusters=k, n_init=n_init, random_state=random_state).fit(xs).labels_
        scores[k] = float(silhouette_score(xs[sample], labels[sample])) if len(set(labels[sample])) > 1 else -1.0
        fits[k] = labels
    best = max(scores, key=lambda k: (round(scores[k], 6), -k))
    raw = fits[best] if len(chosen) == len(x) else \
        KMeans(n_clusters=best, n_init=n_init, random_state=random_state).fit(x).labels_
    # Number clusters by size (then by their first customer) so ids do not depend on k-means' order.
    order = sorted(set(raw), key=lambda c: (-int((raw == c).sum()), int(np.argmax(raw == c))))
    ids = np.empty_like(raw)
    for new, old in enumerate(order):
        ids[raw == old] = new
    return _describe(buyers, ids, best, scores, names, labels_, churn_days)


# --- naming --------------------------------------------------------------------------------------


def centroid(df: pd.DataFrame, labels: Labels) -> Centroid:
    def shares(prefix: str, dim: str, weight: str) -> dict[str, float]:
        total = df[weight].sum()
        out = {}
        for col in mix_columns(df, prefix):
            out[col[len(prefix):]] = float((df[col] * df[weight]).sum() / total) if total else 0.0
        return out

    return Centroid(
        size=len(df),
        recency_median=float(df["recency_days"].median()),
        first_order_median=float(df["first_order_days"].median()),
        orders_365=float(df["orders_365"].mean()),
        aov=float(df["revenue"].sum() / df["orders"].sum()) if df["orders"].sum() else math.nan,
        revenue_365=float(df["revenue_365"].mean()),
        categories=shares("cat_", "top_category", "revenue"),
        channels=shares("ch_", "top_channel", "orders"),
    )


Rule = tuple[Text, Callable[[Centroid, Centroid, int], bool]]


def _ratio(a: float, b: float) -> float:
    return a / b if b else math.inf if a > 0 else 1.0


#: (name, test(cluster, base, churn_days)) — first match names the cluster (see the module docstring).
NAMING: tuple[Rule, ...] = (
    (Text(zh="沉睡型", en="Dormant"), lambda c, b, churn: c.recency_median >= churn),
    (Text(zh="新客型", en="New buyers"),
     lambda c, b, churn: c.first_order_median <= 180 and c.first_order_median <= 0.5 * b.first_order_median),
    (Text(zh="高价值型", en="High value"),
     lambda c, b, churn: _ratio(c.orders_365, b.orders_365) >= 1.5 and _ratio(c.aov, b.aov) >= 1.2),
    (Text(zh="高频低额型", en="Frequent, small baskets"),
     lambda c, b, churn: _ratio(c.orders_365, b.orders_365) >= 1.3 and _ratio(c.aov, b.aov) <= 0.9),
    (Text(zh="大额低频型", en="Big-ticket, infrequent"),
     lambda c, b, churn: _ratio(c.aov, b.aov) >= 1.3 and _ratio(c.orders_365, b.orders_365) <= 0.9),
    (Text(zh="高频型", en="Frequent"), lambda c, b, churn: _ratio(c.orders_365, b.orders_365) >= 1.3),
    (Text(zh="大额型", en="Big-ticket"), lambda c, b, churn: _ratio(c.aov, b.aov) >= 1.3),
    (Text(zh="低频低额型", en="Occasional, small baskets"),
     lambda c, b, churn: _ratio(c.orders_365, b.orders_365) <= 0.7 and _ratio(c.aov, b.aov) <= 0.85),
)
AVERAGE = Text(zh="普通型", en="Average")


def name_cluster(c: Centroid, base: Centroid, labels: Labels, churn_days: int = CHURN_DAYS
                 ) -> tuple[Text, tuple[Text, ...], Text | None]:
    """(name, other traits, strongest preference trait) by the rules over ``c`` against ``base``."""
    matched = [name for name, test in NAMING if test(c, base, churn_days)]
    prefs: list[tuple[float, Text]] = []
    for key, share in c.categories.items():
        b = base.categories.get(key, 0.0)
        if share >= 0.3 and share >= 1.5 * b:
            lab = labels.value("top_category", _value(key, labels, "top_category"))
            prefs.append((share / b if b else math.inf, Text(zh=f"{lab.zh}偏好", en=f"prefers {lab.en}")))
    for key, share in c.channels.items():
        b = base.channels.get(key, 0.0)
        if share >= 0.5 and share >= 1.3 * b:
            lab = labels.value("top_channel", _value(key, labels, "top_channel"))
            prefs.append((share / b if b else math.inf, Text(zh=f"{lab.zh}为主", en=f"mostly {lab.en}")))
    prefs.sort(key=lambda p: -p[0])
    name = matched[0] if matched else AVERAGE
    traits = tuple(matched[1:]) + tuple(t for _, t in prefs)
    return name, traits, prefs[0][1] if prefs else None


def _value(key: str, labels: Labels, column: str) -> str:
    """The stored value behind a mix column's slug (``baby`` → ``Baby``) via the catalog's values."""
    from .features import slug
    from .labels import DIMENSIONS

    if labels.catalog is not None and column in DIMENSIONS:
        model, dim = DIMENSIONS[column]
        for d in labels.catalog.model(model).dimensions:
            if d.name == dim:
                for v in d.values:
                    if slug(v.value) == key:
                        return v.value
    return key.replace("_", " ").title()


def _describe(buyers: pd.DataFrame, ids: np.ndarray, k: int, scores: dict[int, float], names: Sequence[str],
              labels: Labels, churn_days: int) -> ClusterResult:
    base = centroid(buyers, labels)
    drafts = []
    for cid in range(k):
        part = buyers[ids == cid]
        c = centroid(part, labels)
        drafts.append((cid, c, *name_cluster(c, base, labels, churn_days)))
    # Same name twice: add the strongest preference, then a number (largest cluster first).
    seen: dict[str, int] = {}
    counts = pd.Series([d[2].zh for d in drafts]).value_counts()
    clusters = []
    for cid, c, name, traits, pref in drafts:
        if counts[name.zh] > 1 and pref is not None:
            name = Text(zh=f"{name.zh}({pref.zh})", en=f"{name.en} ({pref.en})")
        seen[name.zh] = seen.get(name.zh, 0) + 1
        if seen[name.zh] > 1:
            name = Text(zh=f"{name.zh}{seen[name.zh]}", en=f"{name.en} {seen[name.zh]}")
        clusters.append(Cluster(cid, name, traits, c.size, c.size / len(buyers), c, _text(name, c, base)))
    name_of = {cl.id: cl.name for cl in clusters}
    assignments = pd.DataFrame({
        "customer_id": buyers["customer_id"].to_numpy(), "cluster": ids,
        "name_zh": [name_of[i].zh for i in ids], "name_en": [name_of[i].en for i in ids],
    })
    return ClusterResult(k, scores, tuple(clusters), assignments, base, tuple(names))


def _text(name: Text, c: Centroid, b: Centroid) -> Text:
    def times(a: float, ref: float) -> str:
        r = _ratio(a, ref)
        return num(r, 1 if r >= 1 else 2)

    zh = (f"「{name.zh}」{c.size:,} 人({pct(c.size / b.size)}): 近一年人均 {num(c.orders_365, 1)} 单"
          f"(全体的 {times(c.orders_365, b.orders_365)} 倍), 平均订单金额 {money(c.aov)}"
          f"({times(c.aov, b.aov)} 倍), 最近一次购买中位 {num(c.recency_median, 0)} 天前, "
          f"首单中位 {num(c.first_order_median, 0)} 天前")
    en = (f"'{name.en}' {c.size:,} customers ({pct(c.size / b.size)}): {num(c.orders_365, 1)} orders in 365 days "
          f"({times(c.orders_365, b.orders_365)}× the base), AOV {money(c.aov)} ({times(c.aov, b.aov)}×), "
          f"last order a median {num(c.recency_median, 0)} days ago, first {num(c.first_order_median, 0)} days ago")
    return Text(zh=zh, en=en)
