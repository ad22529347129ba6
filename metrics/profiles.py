"""Segment profiles (客户画像): how a set of customers differs from the whole base.

A segment is a boolean mask over the feature table (``metrics.features``):
an RFM class, a filter, or a saved segment's customer ids (``select``). Its
profile compares it with the base (every customer in the feature table — the
viewer's whole base — unless ``base`` says otherwise; the segment is part of it):

- ``distributions``: for each profile dimension and value, customers in the
  segment and the base, shares p (segment) and q (base), lift = p / q and the
  difference p − q. Shares are among customers with a value (main category and
  channel exist only for buyers);
- ``measures``: AOV (Σ revenue / Σ orders, lifetime), orders and revenue per
  customer in the last 365 days, repeat-buyer share (≥ 2 lifetime orders among
  buyers), churned share (last order ≥ 180 days ago, among buyers), tenure in
  days, recency in days (buyers) and NPS ((promoters − detractors) / responses × 100);
- ``mix``: the segment's revenue share per category and order share per sales
  channel against the base's.

Ranking rule (``RULE``): a value stands out when its support — the larger of its
count in the segment and the count the base share would predict — is at least
``min_support``, |p − q| ≥ ``min_diff`` and |z| ≥ ``min_z`` with
z = (p − q) / √(q(1 − q)/n) (n = segment customers with a value). Findings are
ranked by score = |p − q| × min(max(p/q, q/p), 10), i.e. lift times share
difference, symmetric so that a value the segment lacks ranks like one it
over-represents, capped so that an absent value (p = 0) is not infinitely
important. Ties: over-represented first, then by dimension and value.
Measures stand out when segment / base ≥ 1.2 or ≤ 1/1.2, ranked by |log ratio|
(shares and NPS: ≥ 10 points apart, ranked by points / 50).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from semantic_layer.catalog import Catalog
from semantic_layer.errors import UserError
from semantic_layer.query import Filter
from semantic_layer.schema import Text

from .features import mix_columns, slug
from .labels import Labels, missing, money, num, pct

MAX_LIFT = 10.0  # cap on max(lift, 1/lift) in the score: a value the segment lacks entirely is not infinite
PROFILE_DIMENSIONS = ("gender", "age_band", "region", "city_tier", "membership_tier", "acquisition_channel",
                      "top_category", "top_channel", "rfm_segment")
RULE = Text(
    zh="突出特征: 支持数(分群内人数与按全体占比的期望人数取大)≥ 最小支持数, 占比差 ≥ 最小差值且 |z| ≥ 2; "
       "按 |占比差| × min(max(提升度, 1/提升度), 10) 排序。",
    en="Stands out when support (max of segment count and the count the base share predicts) ≥ the minimum, "
       "|share difference| ≥ the minimum and |z| ≥ 2; ranked by |p − q| × min(max(lift, 1/lift), 10).",
)


@dataclass(frozen=True)
class Finding:
    """One difference that stands out, with its numbers and its bilingual sentence."""

    kind: Literal["share", "measure"]
    field: str  # a profile dimension or a measure name
    value: str | None  # the dimension value (stored form); None for measures
    segment: float  # share p, or the segment's measure
    base: float  # share q, or the base's measure
    lift: float  # p / q (or segment / base)
    diff: float  # p − q (or segment − base)
    support: int
    score: float
    text: Text


@dataclass(frozen=True)
class SegmentProfile:
    segment: Text
    size: int
    base_size: int
    distributions: pd.DataFrame
    measures: pd.DataFrame
    mix: pd.DataFrame
    findings: tuple[Finding, ...]  # share differences, ranked
    measure_findings: tuple[Finding, ...]  # measure differences, ranked
    rule: Text = RULE

    def summary(self, lang: str = "zh") -> str:
        """A short narrative: size, then the top findings."""
        head = (f"{self.segment.zh}共 {self.size:,} 人, 占全体 {pct(self.size / self.base_size)}。"
                if lang == "zh" else
                f"{self.segment.en}: {self.size:,} customers, {pct(self.size / self.base_size)} of the base.")
        parts = [f.text.get(lang) for f in (*self.findings[:3], *self.measure_findings[:2])]
        return " ".join([head, *parts])


# --- choosing the segment ------------------------------------------------------------------


def select(features: pd.DataFrame, *, ids: Iterable[Any] | None = None,
           filters: Sequence[Filter | Mapping[str, Any]] = ()) -> pd.Series:
    """A segment mask: customers in ``ids`` (when given) and matching every filter.

    Filters take the semantic query's shape (``{"field": "rfm_segment", "op": "=",
    "values": ["Important Value"]}``); the field is a feature column (a
    ``model.`` prefix is dropped).
    """
    mask = pd.Series(True, index=features.index)
    if ids is not None:
        mask &= features["customer_id"].isin(list(ids))
    for raw in filters:
        f = raw if isinstance(raw, Filter) else Filter.model_validate(raw)
        mask &= _filter_mask(features, f)
    return mask


def _filter_mask(features: pd.DataFrame, f: Filter) -> pd.Series:
    name = f.field.split(".")[-1]
    if name not in features.columns:
        raise UserError(260, f"画像特征中没有字段 '{name}'", f"the feature table has no field '{name}'")
    col, vals = features[name], list(f.values)
    match f.op:
        case "=" | "in":
            return col.isin(vals)
        case "!=" | "not_in":
            return ~col.isin(vals) & col.notna()
        case ">":
            return col > vals[0]
        case ">=":
            return col >= vals[0]
        case "<":
            return col < vals[0]
        case "<=":
            return col <= vals[0]
        case "between":
            return (col >= vals[0]) & (col <= vals[1])
        case "contains":
            return col.astype("string").str.contains(str(vals[0]), case=False, regex=False).fillna(False)
    raise AssertionError(f.op)


# --- the profile ---------------------------------------------------------------------------


def profile(features: pd.DataFrame, members: pd.Series | Iterable[Any], segment: Text, *,
            base: pd.Series | None = None, dimensions: Sequence[str] = PROFILE_DIMENSIONS,
            catalog: Catalog | None = None, min_support: int = 30, min_diff: float = 0.05,
            min_z: float = 2.0, top: int = 8) -> SegmentProfile:
    """Profile the segment ``members`` (a mask over ``features`` or customer ids) against ``base``."""
    mask = members if isinstance(members, pd.Series) and members.dtype == bool else select(features, ids=members)
    base_mask = pd.Series(True, index=features.index) if base is None else base
    seg, ref = features[mask & base_mask], features[base_mask]
    if seg.empty:
        raise UserError(261, f"分群「{segment.zh}」在可见数据中没有客户", f"segment '{segment.en}' has no customers in the visible data")
    labels = Labels(catalog)
    dims = [d for d in dimensions if d in features.columns]
    dist = distributions(seg, ref, dims, labels)
    findings = _share_findings(dist, segment, labels, min_support, min_diff, min_z)[:top]
    meas = measures(seg, ref)
    return SegmentProfile(segment, len(seg), len(ref), dist, meas, mix(seg, ref, labels), tuple(findings),
                          tuple(_measure_findings(meas, segment)[:top]))


def distributions(seg: pd.DataFrame, ref: pd.DataFrame, dims: Sequence[str], labels: Labels) -> pd.DataFrame:
    rows = []
    for dim in dims:
        keep_null = dim == "rfm_segment"  # "not segmented" is a real class; a missing main category is not
        s_counts = seg[dim].value_counts(dropna=not keep_null)
        b_counts = ref[dim].value_counts(dropna=not keep_null)
        n_seg, n_base = int(s_counts.sum()), int(b_counts.sum())
        for value, b in b_counts.items():
            s = int(seg[dim].isna().sum()) if missing(value) else int(s_counts.get(value, 0))
            q = b / n_base
            p = s / n_seg if n_seg else math.nan
            label = labels.value(dim, value)
            rows.append({
                "dimension": dim, "value": None if missing(value) else value,
                "label_zh": label.zh, "label_en": label.en,
                "segment_count": s, "segment_share": p, "base_count": int(b), "base_share": q,
                "lift": p / q if q else math.nan, "diff": p - q, "segment_n": n_seg,
            })
    return pd.DataFrame(rows)


def measures(seg: pd.DataFrame, ref: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for name, zh, en, fn in _MEASURES:
        s, b = fn(seg), fn(ref)
        rows.append({"measure": name, "label_zh": zh, "label_en": en, "segment": s, "base": b,
                     "ratio": s / b if b else math.nan})
    return pd.DataFrame(rows)


def _ratio(num_: float, den: float) -> float:
    return float(num_ / den) if den else math.nan


def _buyers(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["orders"] > 0]


_MEASURES: tuple[tuple[str, str, str, Any], ...] = (
    ("aov", "平均订单金额", "Average order value", lambda d: _ratio(d["revenue"].sum(), d["orders"].sum())),
    ("orders_365", "近一年人均订单数", "Orders per customer (365 days)", lambda d: float(d["orders_365"].mean())),
    ("revenue_365", "近一年人均消费", "Revenue per customer (365 days)", lambda d: float(d["revenue_365"].mean())),
    ("repeat_share", "复购客户占比", "Repeat-buyer share",
     lambda d: _ratio((_buyers(d)["orders"] >= 2).sum(), len(_buyers(d)))),
    ("churned_share", "已流失占比", "Churned share", lambda d: _ratio(_buyers(d)["churned"].sum(), len(_buyers(d)))),
    ("tenure_days", "平均注册天数", "Average tenure (days)", lambda d: float(d["tenure_days"].mean())),
    ("recency_days", "平均未购天数", "Average days since last order",
     lambda d: float(_buyers(d)["recency_days"].mean())),
    ("nps", "NPS", "NPS", lambda d: _ratio((d["promoters"].sum() - d["detractors"].sum()) * 100.0,
                                           d["survey_responses"].sum())),
)


def mix(seg: pd.DataFrame, ref: pd.DataFrame, labels: Labels) -> pd.DataFrame:
    """Category revenue shares and channel order shares, segment against base (population shares)."""
    rows = []
    for prefix, dim, weight in (("cat_", "top_category", "revenue"), ("ch_", "top_channel", "orders")):
        cols = mix_columns(ref, prefix)
        for col in cols:
            # Shares are per customer; weight them back into population totals.
            s = _ratio((seg[col] * seg[weight]).sum(), seg[weight].sum())
            b = _ratio((ref[col] * ref[weight]).sum(), ref[weight].sum())
            value = _value_of(ref, dim, col, prefix)
            label = labels.value(dim, value)
            rows.append({"kind": "category" if prefix == "cat_" else "channel", "column": col, "value": value,
                         "label_zh": label.zh, "label_en": label.en, "segment_share": s, "base_share": b,
                         "lift": s / b if b else math.nan})
    return pd.DataFrame(rows)


def _value_of(ref: pd.DataFrame, dim: str, col: str, prefix: str) -> str:
    for v in ref[dim].dropna().unique() if dim in ref else ():
        if prefix + slug(v) == col:
            return str(v)
    return col[len(prefix):]


def _share_findings(dist: pd.DataFrame, segment: Text, labels: Labels, min_support: int, min_diff: float,
                    min_z: float) -> list[Finding]:
    out = []
    for r in dist.itertuples(index=False):
        n, p, q = r.segment_n, r.segment_share, r.base_share
        if not n or q <= 0 or q >= 1:
            continue
        support = max(r.segment_count, round(q * n))
        z = (p - q) / math.sqrt(q * (1 - q) / n) if q < 1 else 0.0
        if support < min_support or abs(p - q) < min_diff or abs(z) < min_z:
            continue
        lift = p / q
        sym = min(max(lift, q / p if p else math.inf), MAX_LIFT)
        out.append(Finding("share", r.dimension, r.value, p, q, lift, p - q, support, abs(p - q) * sym,
                           _share_text(segment, labels.column(r.dimension), Text(zh=r.label_zh, en=r.label_en),
                                       p, q, lift)))
    # Ties: over-represented values first, then by field and value (deterministic).
    return sorted(out, key=lambda f: (-round(f.score, 12), f.diff < 0, f.field, str(f.value)))


def _share_text(segment: Text, dim: Text, value: Text, p: float, q: float, lift: float) -> Text:
    if p == 0:
        return Text(zh=f"{segment.zh}中没有{dim.zh}为「{value.zh}」的客户, 全体中占 {pct(q)}。",
                    en=f"No customer of {segment.en} has {dim.en} = {value.en}, vs {pct(q)} of all customers.")
    times = num(lift, 1 if lift >= 1 else 2)
    if p >= q:
        return Text(zh=f"{segment.zh}中{dim.zh}为「{value.zh}」的占 {pct(p)}, 全体为 {pct(q)}(是全体的 {times} 倍)。",
                    en=f"{dim.en} = {value.en}: {pct(p)} of {segment.en} vs {pct(q)} of all customers ({times}×).")
    return Text(zh=f"{segment.zh}中{dim.zh}为「{value.zh}」的仅占 {pct(p)}, 全体为 {pct(q)}(为全体的 {times} 倍)。",
                en=f"{dim.en} = {value.en}: only {pct(p)} of {segment.en} vs {pct(q)} of all customers ({times}×).")


#: Measures that are shares: they stand out by percentage points, not by ratio.
_SHARE_MEASURES = {"repeat_share", "churned_share"}


def _measure_findings(meas: pd.DataFrame, segment: Text) -> list[Finding]:
    """Measures ≥ 1.2× or ≤ 1/1.2× the base (shares: ≥ 10 points apart; NPS: ≥ 10 points), by |log ratio|."""
    out = []
    for r in meas.itertuples(index=False):
        s, b = r.segment, r.base
        if missing(s) or missing(b):
            continue
        if r.measure == "nps" or r.measure in _SHARE_MEASURES:
            unit = 1.0 if r.measure == "nps" else 0.01
            if abs(s - b) < 10 * unit:
                continue
            score = abs(s - b) / (50 * unit)  # 50 points apart ranks like a ratio of e (log ratio 1)
        else:
            if b <= 0 or s < 0 or (s > 0 and 1 / 1.2 < s / b < 1.2):
                continue
            score = abs(math.log(max(s, 1e-9) / b))
        fmt = _FORMAT.get(r.measure, num)
        if r.measure == "nps":
            rel_zh, rel_en = f"相差 {num(s - b, 0)} 分", f"{num(s - b, 0)} points apart"
        elif r.measure in _SHARE_MEASURES:
            rel_zh, rel_en = f"相差 {num((s - b) * 100, 0)} 个百分点", f"{num((s - b) * 100, 0)} points apart"
        else:
            times = num(s / b, 1 if s >= b else 2)
            rel_zh, rel_en = f"{times} 倍", f"{times}×"
        text = Text(zh=f"{segment.zh}的{r.label_zh}为 {fmt(s)}, 全体为 {fmt(b)}({rel_zh})。",
                    en=f"{r.label_en} of {segment.en}: {fmt(s)} vs {fmt(b)} for all customers ({rel_en}).")
        out.append(Finding("measure", r.measure, None, s, b, s / b if b else math.nan, s - b, 0, score, text))
    return sorted(out, key=lambda f: (-f.score, f.field))


_FORMAT: dict[str, Callable[[float], str]] = {
    "aov": money, "revenue_365": money, "repeat_share": pct, "churned_share": pct,
    "tenure_days": lambda x: num(x, 0), "recency_days": lambda x: num(x, 0), "nps": lambda x: num(x, 1),
    "orders_365": lambda x: num(x, 2),
}


def rfm_profile(features: pd.DataFrame, rfm_segment: str, *, catalog: Catalog | None = None,
                **kwargs: Any) -> SegmentProfile:
    """Profile one 8-class RFM segment ("Important Value"); needs ``rfm_segment`` in the features."""
    if "rfm_segment" not in features.columns:
        raise UserError(262, "特征表中没有 RFM 分群(先构建 customer_segments)",
                        "the feature table has no rfm_segment (build customer_segments first)")
    label = Labels(catalog).value("rfm_segment", rfm_segment)
    dims = [d for d in kwargs.pop("dimensions", PROFILE_DIMENSIONS) if d != "rfm_segment"]
    return profile(features, features["rfm_segment"] == rfm_segment, label, catalog=catalog,
                   dimensions=dims, **kwargs)


def top_findings_table(p: SegmentProfile, lang: str = "zh") -> pd.DataFrame:
    """The ranked findings as a small table (for an answer's rows)."""
    rows = [{"field": f.field, "value": f.value, "segment": f.segment, "base": f.base, "lift": f.lift,
             "diff": f.diff, "support": f.support, "score": f.score, "text": f.text.get(lang)}
            for f in (*p.findings, *p.measure_findings)]
    return pd.DataFrame(rows, columns=["field", "value", "segment", "base", "lift", "diff", "support", "score", "text"])


__all__ = [
    "PROFILE_DIMENSIONS",
    "RULE",
    "Finding",
    "SegmentProfile",
    "distributions",
    "measures",
    "mix",
    "profile",
    "rfm_profile",
    "select",
    "top_findings_table",
]
