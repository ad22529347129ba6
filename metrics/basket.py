"""Market-basket analysis: frequent itemsets and association rules, counted in SQL.

A transaction is an order (basket level) or a customer (customer level: every item
the customer ever bought in the period); an item is a product category or a product.
Only completed orders count. Apriori runs level by level, with every count done by
the engine (no one-hot matrix in pandas): one query counts single items and the
number of transactions; with the frequent items known, one query counts pairs of
frequent items (a self-join on the transaction id) and triples whose three pairs are
all frequent (Apriori pruning). Python then derives the rules from the counts.

Measures, for a rule A → C over N transactions (count(X) = transactions holding all of X):
support = count(A∪C)/N, confidence = count(A∪C)/count(A), lift = confidence /
support(C), leverage = support − support(A)·support(C), conviction =
(1 − support(C)) / (1 − confidence) (infinite when confidence is 1).
"Of customers who bought A, 60% also bought C" is the confidence.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from sqlglot import exp

from semantic_layer.schema import Text

from .governed_reader import Reader
from .segment_filter import Segment, label_of

Level = Literal["category", "product"]
Unit = Literal["order", "customer"]

_ITEM_SQL = {"category": "p.category", "product": "p.product_id"}
_TID_SQL = {"order": "o.order_id", "customer": "o.customer_id"}


@dataclass(frozen=True)
class BasketSpec:
    """What to count. ``min_support`` is a share of transactions; ``period`` bounds order_date (inclusive)."""

    level: Level = "category"
    unit: Unit = "order"
    min_support: float = 0.01
    min_confidence: float = 0.1
    min_lift: float = 0.0
    max_size: int = 3  # 1, 2 or 3 items per itemset
    #: Rules kept, strongest by lift first (None: all); the itemsets are always complete.
    top_rules: int | None = 500
    #: Above this many frequent pairs the triple count is skipped (and said so in ``notes``).
    max_pairs_for_triples: int = 5_000
    period: tuple[dt.date, dt.date] | None = None
    segment: Segment | None = None

    def __post_init__(self) -> None:
        if not 0 < self.min_support <= 1:
            raise ValueError("min_support must be in (0, 1]")
        if self.max_size not in (1, 2, 3):
            raise ValueError("max_size must be 1, 2 or 3")


@dataclass(frozen=True)
class BasketResult:
    """Itemsets and rules with their counts and measures, and how to describe them.

    ``itemsets``: items (tuple), labels_zh, labels_en, size, count, support — sorted by
    size, then count descending. ``rules``: antecedent, consequent (tuples), their
    labels, count, antecedent_support, consequent_support, support, confidence, lift,
    leverage, conviction, finding_zh, finding_en — sorted by lift then confidence.
    """

    spec: BasketSpec
    n_transactions: int
    min_count: int
    itemsets: pd.DataFrame
    rules: pd.DataFrame
    definition: Text = field(default_factory=lambda: Text(zh="-", en="-"))
    #: What was left out and why (e.g. triples skipped above the pair cap).
    notes: tuple[Text, ...] = ()

    def summary(self, lang: str = "zh", top: int = 3) -> str:
        """A short narrative: how many rules, the strongest few findings."""
        unit_zh = "订单" if self.spec.unit == "order" else "客户"
        unit_en = "orders" if self.spec.unit == "order" else "customers"
        if self.rules.empty:
            return (f"在 {self.n_transactions:,} 个{unit_zh}中没有找到满足阈值的关联规则。" if lang == "zh" else
                    f"No association rule met the thresholds over {self.n_transactions:,} {unit_en}.")
        col = "finding_zh" if lang == "zh" else "finding_en"
        lines = [str(f) for f in self.rules[col].head(top)]
        head = (f"在 {self.n_transactions:,} 个{unit_zh}中找到 {len(self.rules)} 条关联规则,提升度最高的:" if lang == "zh"
                else f"{len(self.rules)} association rules over {self.n_transactions:,} {unit_en}; strongest by lift:")
        return "\n".join([head, *("- " + s for s in lines)])


def basket_rules(read: Reader, spec: BasketSpec = BasketSpec(), *,
                 category_labels: Mapping[str, Text] | None = None) -> BasketResult:
    """Frequent itemsets and association rules for ``spec``; counts come from SQL through ``read``.

    ``category_labels`` maps a category value to its zh/en label (from the catalog:
    ``category_labels_from(catalog)``); product items are labelled by product name.
    """
    seg = spec.segment.condition("o.customer_id") if spec.segment else "TRUE"
    singles = read(_singles_sql(spec, seg))
    n = int(singles["n"].iloc[0]) if len(singles) else 0
    min_count = max(1, math.ceil(spec.min_support * n - 1e-9))
    counts: dict[tuple[object, ...], int] = {}
    frequent = sorted(singles.loc[singles["cnt"] >= min_count, "item"].tolist()) if n else []
    for item, cnt in zip(singles["item"], singles["cnt"]):
        if cnt >= min_count:
            counts[(_py(item),)] = int(cnt)
    notes: list[Text] = []
    if spec.max_size >= 2 and len(frequent) >= 2:
        pairs = read(_pairs_sql(spec, seg, frequent, min_count))
        for a, b, cnt in zip(pairs["i1"], pairs["i2"], pairs["cnt"]):
            counts[(_py(a), _py(b))] = int(cnt)
        if spec.max_size >= 3 and 3 <= len(pairs) <= spec.max_pairs_for_triples:
            in_pairs = sorted({_py(v) for v in pairs["i1"]} | {_py(v) for v in pairs["i2"]}, key=str)
            triples = read(_triples_sql(spec, seg, in_pairs, min_count))
            for row in triples.itertuples(index=False):
                counts[(_py(row.i1), _py(row.i2), _py(row.i3))] = int(row.cnt)
        elif spec.max_size >= 3 and len(pairs) > spec.max_pairs_for_triples:
            notes.append(Text(
                zh=f"频繁二项集有 {len(pairs):,} 个(上限 {spec.max_pairs_for_triples:,}),未计算三项集;请提高最小支持度。",
                en=f"{len(pairs):,} frequent pairs (cap {spec.max_pairs_for_triples:,}); triples were not counted."
                   " Raise the minimum support."))
    labels = _labels(read, spec.level, {i for key in counts for i in key}, category_labels)
    itemsets = _itemsets_frame(counts, n, labels)
    rules = _rules_frame(counts, n, spec, labels)
    return BasketResult(spec, n, min_count, itemsets, rules, _definition(spec, n, min_count), tuple(notes))


def category_labels_from(catalog: object) -> dict[str, Text]:
    """Category value → zh/en label, from the ``products.category`` dimension of the catalog."""
    model = catalog.model("products")  # type: ignore[attr-defined]
    for dim in model.dimensions:
        if dim.name == "category":
            return {v.value: v.label for v in dim.values if v.label is not None}
    return {}


# --- SQL ------------------------------------------------------------------------


def _transactions_sql(spec: BasketSpec, seg: str, items: list[object] | None = None) -> str:
    item = _ITEM_SQL[spec.level]
    conds = ["o.status = 'completed'", seg]
    if spec.period is not None:
        start, end = spec.period
        conds.append(f"o.order_date BETWEEN DATE '{start.isoformat()}' AND DATE '{end.isoformat()}'")
    if items is not None:
        conds.append(f"{item} IN ({', '.join(_literal(v) for v in items)})")
    return (f"SELECT DISTINCT {_TID_SQL[spec.unit]} AS tid, {item} AS item "
            "FROM orders AS o JOIN order_items AS i ON i.order_id = o.order_id "
            "JOIN products AS p ON p.product_id = i.product_id "
            f"WHERE {' AND '.join(conds)}")


def _singles_sql(spec: BasketSpec, seg: str) -> str:
    """Every item's transaction count, and N (the same on every row)."""
    return (f"WITH t AS ({_transactions_sql(spec, seg)}) "
            "SELECT item, COUNT(*) AS cnt, (SELECT COUNT(DISTINCT tid) FROM t) AS n "
            "FROM t GROUP BY item ORDER BY item")


def _pairs_cte(spec: BasketSpec, seg: str, frequent: list[object], min_count: int) -> str:
    return (f"WITH t AS ({_transactions_sql(spec, seg, frequent)}), "
            "pr AS (SELECT a.tid, a.item AS i1, b.item AS i2 FROM t AS a JOIN t AS b "
            "ON a.tid = b.tid AND a.item < b.item), "
            "f2 AS (SELECT i1, i2, COUNT(*) AS cnt FROM pr GROUP BY i1, i2 "
            f"HAVING COUNT(*) >= {min_count})")


def _pairs_sql(spec: BasketSpec, seg: str, frequent: list[object], min_count: int) -> str:
    """Frequent pairs (i1 < i2) of frequent items: a self-join of the transactions on their id."""
    return _pairs_cte(spec, seg, frequent, min_count) + " SELECT i1, i2, cnt FROM f2"


def _triples_sql(spec: BasketSpec, seg: str, frequent: list[object], min_count: int) -> str:
    """Frequent triples (i1 < i2 < i3) among candidates whose three pairs are all frequent.

    Candidates come from the Apriori join of f2 with itself (same first item) and the
    prune on the third pair; each is counted by equality look-ups of its three items
    within a transaction, so the work follows the candidates, not every triple bought.
    """
    return (_pairs_cte(spec, seg, frequent, min_count) + ", "
            "cand AS (SELECT a.i1, a.i2, b.i2 AS i3 FROM f2 AS a JOIN f2 AS b ON a.i1 = b.i1 AND a.i2 < b.i2 "
            "JOIN f2 AS c ON c.i1 = a.i2 AND c.i2 = b.i2) "
            "SELECT cand.i1, cand.i2, cand.i3, COUNT(*) AS cnt FROM cand "
            "JOIN t AS x ON x.item = cand.i1 "
            "JOIN t AS y ON y.tid = x.tid AND y.item = cand.i2 "
            "JOIN t AS z ON z.tid = x.tid AND z.item = cand.i3 "
            f"GROUP BY cand.i1, cand.i2, cand.i3 HAVING COUNT(*) >= {min_count}")


def _literal(value: object) -> str:
    if isinstance(value, str):
        return exp.Literal.string(value).sql(dialect="duckdb")
    return str(int(value))  # type: ignore[call-overload]


def _py(value: object) -> object:
    """numpy scalars → plain Python (stable dict keys, clean JSON)."""
    return value.item() if hasattr(value, "item") else value


# --- labels, itemsets, rules ------------------------------------------------------


def _labels(read: Reader, level: Level, items: set[object],
            category_labels: Mapping[str, Text] | None) -> dict[object, Text]:
    if level == "category":
        known = category_labels or {}
        return {i: known.get(str(i), Text(zh=str(i), en=str(i))) for i in items}
    if not items:
        return {}
    ids = ", ".join(str(int(i)) for i in sorted(items))  # type: ignore[call-overload]
    names = read(f"SELECT product_id, product_name FROM products WHERE product_id IN ({ids})")
    found = {_py(k): str(v) for k, v in zip(names["product_id"], names["product_name"])}
    return {i: Text(zh=found.get(i, str(i)), en=found.get(i, str(i))) for i in items}


def _join(labels: dict[object, Text], items: tuple[object, ...], lang: str) -> str:
    words = [labels[i].get(lang) for i in items]
    return ("和" if lang == "zh" else " and ").join(words)


def _itemsets_frame(counts: dict[tuple[object, ...], int], n: int, labels: dict[object, Text]) -> pd.DataFrame:
    keys = list(counts)
    frame = pd.DataFrame({"items": pd.Series(keys, dtype=object),
                          "size": pd.Series([len(k) for k in keys], dtype="int64"),
                          "count": pd.Series(list(counts.values()), dtype="int64")})
    frame["support"] = frame["count"] / max(n, 1)
    for lang, sep in (("zh", "和"), ("en", " and ")):
        names = {i: t.get(lang) for i, t in labels.items()}
        frame[f"labels_{lang}"] = [sep.join(names[i] for i in k) for k in keys]
    frame["_key"] = [_text_key(k) for k in keys]
    frame = frame.sort_values(["size", "count", "_key"], ascending=[True, False, True]).reset_index(drop=True)
    return frame[["items", "labels_zh", "labels_en", "size", "count", "support"]]


RULE_COLUMNS = ["antecedent", "consequent", "antecedent_zh", "antecedent_en", "consequent_zh", "consequent_en",
                "count", "antecedent_support", "consequent_support", "support", "confidence", "lift",
                "leverage", "conviction", "finding_zh", "finding_en"]


def _rules_frame(counts: dict[tuple[object, ...], int], n: int, spec: BasketSpec,
                 labels: dict[object, Text]) -> pd.DataFrame:
    ante_l, cons_l, cnt_l = [], [], []
    for items, cnt in counts.items():
        for k in range(1, len(items)):
            for ante in itertools.combinations(items, k):
                ante_l.append(ante)
                cons_l.append(tuple(i for i in items if i not in ante))
                cnt_l.append(cnt)
    frame = pd.DataFrame({"antecedent": pd.Series(ante_l, dtype=object),
                          "consequent": pd.Series(cons_l, dtype=object),
                          "count": pd.Series(cnt_l, dtype="int64")})
    c_a = frame["antecedent"].map(counts).astype("float64")
    c_c = frame["consequent"].map(counts).astype("float64")
    frame["antecedent_support"] = c_a / n
    frame["consequent_support"] = c_c / n
    frame["support"] = frame["count"] / n
    frame["confidence"] = frame["count"] / c_a
    frame["lift"] = frame["confidence"] / frame["consequent_support"]
    frame["leverage"] = frame["support"] - frame["antecedent_support"] * frame["consequent_support"]
    with np.errstate(divide="ignore"):
        frame["conviction"] = np.where(frame["confidence"] >= 1, math.inf,
                                       (1 - frame["consequent_support"]) / (1 - frame["confidence"]))
    frame = frame[(frame["confidence"] >= spec.min_confidence) & (frame["lift"] >= spec.min_lift)]
    if not frame.empty:  # ties broken by the items' text, so the order never depends on the engine
        key = frame["antecedent"].map(_text_key) + "→" + frame["consequent"].map(_text_key)
        frame = frame.assign(_key=key).sort_values(["lift", "confidence", "_key"], ascending=[False, False, True])
        frame = frame.drop(columns="_key")
        if spec.top_rules is not None:
            frame = frame.head(spec.top_rules)
    frame = frame.reset_index(drop=True)
    for side in ("antecedent", "consequent"):
        for lang in ("zh", "en"):
            frame[f"{side}_{lang}"] = [_join(labels, k, lang) for k in frame[side]]
    records = frame.to_dict("records")
    frame["finding_zh"] = [finding(r, spec, "zh") for r in records]
    frame["finding_en"] = [finding(r, spec, "en") for r in records]
    return frame[RULE_COLUMNS]


def _text_key(items: tuple[object, ...]) -> str:
    return "|".join(map(str, items))


def finding(rule: Mapping[str, object], spec: BasketSpec, lang: str) -> str:
    """One rule as a sentence: "购买了服装的客户中,62% 同时购买了美妆(…)".

    >>> r = {"antecedent_zh": "服装", "consequent_zh": "美妆", "antecedent_en": "Apparel", "consequent_en": "Beauty",
    ...      "confidence": 0.6, "lift": 1.5, "support": 0.12, "consequent_support": 0.4}
    >>> finding(r, BasketSpec(unit="customer"), "zh")
    '购买了服装的客户中,60% 同时购买了美妆(是全体客户中该比例 40% 的 1.50 倍;两者都买的占 12.0%)'
    >>> finding(r, BasketSpec(unit="order"), "en")
    'Of orders containing Apparel, 60% also contained Beauty (1.50× the 40% of all orders; 12.0% held both)'
    """
    conf, lift, sup, s_c = (float(rule[k]) for k in ("confidence", "lift", "support", "consequent_support"))  # type: ignore[arg-type]
    who_zh = label_of(spec.segment, "zh")
    who_en = label_of(spec.segment, "en")
    if lang == "zh":
        a, c = rule["antecedent_zh"], rule["consequent_zh"]
        if spec.unit == "customer":
            text = (f"购买了{a}的客户中,{conf:.0%} 同时购买了{c}"
                    f"(是全体客户中该比例 {s_c:.0%} 的 {lift:.2f} 倍;两者都买的占 {sup:.1%})")
        else:
            text = (f"包含{a}的订单中,{conf:.0%} 同时包含{c}"
                    f"(是全部订单中该比例 {s_c:.0%} 的 {lift:.2f} 倍;两者都有的订单占 {sup:.1%})")
        return f"在{who_zh}中,{text}" if who_zh else text
    a, c = rule["antecedent_en"], rule["consequent_en"]
    if spec.unit == "customer":
        text = (f"Of customers who bought {a}, {conf:.0%} also bought {c} "
                f"({lift:.2f}× the {s_c:.0%} of all customers; {sup:.1%} bought both)")
    else:
        text = (f"Of orders containing {a}, {conf:.0%} also contained {c} "
                f"({lift:.2f}× the {s_c:.0%} of all orders; {sup:.1%} held both)")
    return f"Among {who_en}: {text}" if who_en else text


def _definition(spec: BasketSpec, n: int, min_count: int) -> Text:
    unit_zh, unit_en = ("订单", "order") if spec.unit == "order" else ("客户", "customer")
    level_zh, level_en = ("品类", "category") if spec.level == "category" else ("商品", "product")
    period = (f"{spec.period[0].isoformat()} – {spec.period[1].isoformat()}" if spec.period else "")
    return Text(
        zh=(f"关联规则: 以{unit_zh}为一个购物篮、以{level_zh}为商品项, 仅计已完成订单{'(' + period + ')' if period else ''};"
            f" 共 {n:,} 个{unit_zh}, 最小支持度 {spec.min_support:.2%}(≥{min_count} 个), 最小置信度 {spec.min_confidence:.0%}。"
            " 支持度=同时包含的比例; 置信度=包含前项者中也包含后项的比例; 提升度=置信度/后项支持度。"),
        en=(f"Association rules: one basket per {unit_en}, items are {level_en}s, completed orders only"
            f"{' (' + period + ')' if period else ''}; {n:,} {unit_en}s, min support {spec.min_support:.2%}"
            f" (≥{min_count}), min confidence {spec.min_confidence:.0%}. Support = share holding both; confidence ="
            " share of those holding the antecedent that also hold the consequent; lift = confidence / consequent support."),
    )
