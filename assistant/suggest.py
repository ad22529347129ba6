"""Playbook rules evaluated on a result: strategy suggestions that say why and for whom.

Each condition kind has one matcher (``MATCHERS``) that looks at the result and
the comparison results and returns a ``Hit``: which part of the result
triggered the rule, whom it targets and how many customers that is.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Callable, Sequence

from semantic_layer.compiler import OutputColumn

from .formatting import count_of, customers, format_change, format_key, format_value, join_names
from .playbook import ChangeWhen, Playbook, RatioWhen, Rule, SegmentWhen, ThresholdWhen
from .result import Comparison, ResultSet

MAX_NAMED = 5  # groups named in a trigger before "等 N 个"


@dataclass(frozen=True)
class Suggestion:
    id: str
    title: str
    action: str
    trigger: str
    target: str
    size: str
    priority: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Hit:
    trigger: str
    target: str
    size: str


@dataclass(frozen=True)
class Ctx:
    result: ResultSet
    comparisons: tuple[Comparison, ...]
    playbook: Playbook
    lang: str

    def t(self, zh: str, en: str) -> str:
        return zh if self.lang == "zh" else en

    def key(self, row: Sequence[Any]) -> str:
        r = self.result
        return " · ".join(format_key(row[r.index(k.name)], k, self.lang) for k in r.keys)

    def names(self, rows: Sequence[Sequence[Any]]) -> str:
        named = join_names((self.key(row) for row in rows[:MAX_NAMED]), self.lang)
        more = len(rows) - MAX_NAMED
        return named + (self.t(f" 等 {len(rows)} 项", f" and {more} more") if more > 0 else "")

    def size(self, rows: Sequence[Sequence[Any]]) -> str:
        """Customers in ``rows`` from a customer-count metric; else how many rows (groups, customers)."""
        r = self.result
        for name in self.playbook.size_metrics:
            if name in {c.name for c in r.metrics}:
                i = r.index(name)
                return customers(int(sum(float(row[i]) for row in rows if row[i] is not None)), self.lang)
        if "customer_id" in {k.name for k in r.keys}:
            return customers(len(rows), self.lang)
        if r.dimensions:
            return count_of(len(rows), r.dimensions[0], self.lang)
        return ""

    def audience(self, rule: Rule) -> str:
        return rule.audience.get(self.lang) if rule.audience else self.t("查询范围内的客户", "customers in scope")


Matcher = Callable[[Rule, Ctx], "Hit | None"]


def suggest(result: ResultSet, playbook: Playbook, lang: str,
            comparisons: Sequence[Comparison] = ()) -> list[Suggestion]:
    """Every rule whose condition holds, by priority then file order."""
    ctx = Ctx(result, tuple(comparisons), playbook, lang)
    out = []
    for rule in sorted(playbook.rules, key=lambda rl: rl.priority):
        hit = MATCHERS[type(rule.when)](rule, ctx) if result.rows else None
        if hit is not None:
            out.append(Suggestion(rule.id, rule.title.get(lang), rule.action.get(lang), hit.trigger, hit.target,
                                  hit.size, rule.priority))
    return out


def _metric_summary(ctx: Ctx, row: Sequence[Any]) -> str:
    r = ctx.result
    return ctx.t("，", ", ").join(f"{m.label.get(ctx.lang)} {format_value(row[r.index(m.name)], m, ctx.lang)}"
                                 for m in r.metrics[:2])


def _segment(rule: Rule, ctx: Ctx) -> Hit | None:
    when = rule.when
    assert isinstance(when, SegmentWhen)
    r = ctx.result
    cols = {c.name: c for c in r.keys}
    if when.dimension in cols:
        col = cols[when.dimension]
        i = r.index(col.name)
        rows = [row for row in r.rows if row[i] == when.value]
        if not rows:
            return None
        label = col.display(when.value, ctx.lang)
        trigger = ctx.t(f"结果中「{col.label.zh} = {label}」：{_metric_summary(ctx, rows[0])}",
                        f"result row '{col.label.en} = {label}': {_metric_summary(ctx, rows[0])}")
        return Hit(trigger, _segment_name(ctx, col, label), ctx.size(rows))
    for f in r.query.filters:  # the segment is the whole result: "重要价值客户的…", churn-risk lists
        if f.field.rpartition(".")[2] == when.dimension and f.op in ("=", "in") and when.value in map(str, f.values):
            col = next((c for c in r.filter_columns if c.name == when.dimension), None)
            dim = col.label.get(ctx.lang) if col else when.dimension
            label = col.display(when.value, ctx.lang) if col else when.value
            trigger = ctx.t(f"查询条件「{dim} = {label}」，结果 {len(r.rows)} 行",
                            f"query filter '{dim} = {label}', {len(r.rows)} rows")
            return Hit(trigger, _segment_name(ctx, col, label) if col else label, ctx.size(r.rows))
    return None


def _segment_name(ctx: Ctx, col: OutputColumn, label: str) -> str:
    """「高风险（流失风险）」: the value with the dimension it belongs to."""
    return ctx.t(f"{label}（{col.label.zh}）", f"{label} ({col.label.en})")


def _crossing(ctx: Ctx, col: OutputColumn, above: float | None, below: float | None,
              value: Callable[[Sequence[Any]], float | None]) -> list[Sequence[Any]]:
    rows = []
    for row in ctx.result.rows:
        v = value(row)
        if v is not None and ((above is not None and v > above) or (below is not None and v < below)):
            rows.append(row)
    return sorted(rows, key=lambda row: -(value(row) or 0.0) if above is not None else (value(row) or 0.0))


def _threshold(rule: Rule, ctx: Ctx) -> Hit | None:
    when = rule.when
    assert isinstance(when, ThresholdWhen)
    r = ctx.result
    if when.metric not in {m.name for m in r.metrics}:
        return None
    col = r.column(when.metric)
    i = r.index(col.name)
    rows = _crossing(ctx, col, when.above, when.below, lambda row: None if row[i] is None else float(row[i]))
    if not rows:
        return None
    bound = when.above if when.above is not None else when.below
    side = ctx.t("高于" if when.above is not None else "低于", "above" if when.above is not None else "below")
    limit = format_value(bound, col, ctx.lang)
    if not r.keys:
        trigger = ctx.t(f"{col.label.zh} {format_value(rows[0][i], col, 'zh')}，{side}阈值 {limit}",
                        f"{col.label.en} {format_value(rows[0][i], col, 'en')} is {side} the threshold {limit}")
        return Hit(trigger, ctx.audience(rule), ctx.size(rows))
    listed = ctx.t("、", ", ").join(f"{ctx.key(row)} {format_value(row[i], col, ctx.lang)}" for row in rows[:MAX_NAMED])
    trigger = ctx.t(f"{col.label.zh}{side} {limit}：{listed}", f"{col.label.en} {side} {limit}: {listed}")
    return Hit(trigger, ctx.names(rows), ctx.size(rows))


def _ratio(rule: Rule, ctx: Ctx) -> Hit | None:
    when = rule.when
    assert isinstance(when, RatioWhen)
    r = ctx.result
    names = {m.name for m in r.metrics}
    if when.numerator not in names or when.denominator not in names:
        return None
    num, den = r.column(when.numerator), r.column(when.denominator)
    ni, di = r.index(num.name), r.index(den.name)

    def ratio(row: Sequence[Any]) -> float | None:
        if row[ni] is None or row[di] is None or float(row[di]) <= 0:
            return None
        return float(row[ni]) / float(row[di])

    rows = _crossing(ctx, num, when.above, when.below, ratio)
    if not rows:
        return None
    bound = when.above if when.above is not None else when.below
    side = ctx.t("低于" if when.below is not None else "高于", "below" if when.below is not None else "above")
    label = f"{num.label.get(ctx.lang)} : {den.label.get(ctx.lang)}"

    def shown(row: Sequence[Any]) -> str:
        parts = f"{format_value(row[ni], num, ctx.lang)} / {format_value(row[di], den, ctx.lang)}"
        head = f"{ctx.key(row) or label} {ratio(row):.1f}"
        return ctx.t(f"{head}（{parts}）", f"{head} ({parts})")

    listed = ctx.t("、", ", ").join(shown(row) for row in rows[:MAX_NAMED])
    trigger = ctx.t(f"{label} {side} {bound:g}：{listed}", f"{label} {side} {bound:g}: {listed}")
    return Hit(trigger, ctx.names(rows) if r.keys else ctx.audience(rule), ctx.size(rows))


def _change(rule: Rule, ctx: Ctx) -> Hit | None:
    """Rows whose metric moved in the rule's direction: by key against a comparison, or inside a series."""
    when = rule.when
    assert isinstance(when, ChangeWhen)
    r = ctx.result
    if when.metric not in {m.name for m in r.metrics}:
        return None
    col = r.column(when.metric)
    i = r.index(col.name)
    pairs = _pairs(ctx, when, i)
    sign = 1 if when.direction == "rise" else -1
    moved = []
    for row, prev, where in pairs:
        if row[i] is None or prev is None:
            continue
        cur, before = float(row[i]), float(prev)
        if col.format != "percent" and before == 0:
            continue
        delta = cur - before if col.format == "percent" else (cur - before) / abs(before)
        if sign * delta > when.at_least:
            moved.append((row, before, where))
    if not moved:
        return None
    verb = ctx.t("上升" if sign > 0 else "下降", "rose" if sign > 0 else "fell")
    listed = ctx.t("、", ", ").join(_moved(ctx, col, row[i], before, where, ctx.key(row) or col.label.get(ctx.lang))
                                    for row, before, where in moved[:MAX_NAMED])
    trigger = ctx.t(f"{col.label.zh}{verb}：{listed}", f"{col.label.en} {verb}: {listed}")
    groups = [row for row, _, _ in moved]
    target = ctx.names(groups) if r.dimensions else ctx.audience(rule)
    return Hit(trigger, target, ctx.size(groups))


def _moved(ctx: Ctx, col: OutputColumn, now: Any, before: float, where: str, name: str) -> str:
    """「搜索广告（¥380.00 → ¥407.34，增长 7.2%，环比对比 …）」."""
    was, now_text = format_value(before, col, ctx.lang), format_value(now, col, ctx.lang)
    change = format_change(float(now), before, col, ctx.lang)
    return ctx.t(f"{name}（{was} → {now_text}，{change}，{where}）", f"{name} ({was} → {now_text}, {change}, {where})")


def _pairs(ctx: Ctx, when: ChangeWhen, i: int) -> list[tuple[Sequence[Any], Any, str]]:
    """(row, comparison value, against what) for each row that can be compared."""
    r = ctx.result
    if r.time is not None and not r.dimensions and when.against == "previous":
        ti = r.index(r.time.name)
        rows = sorted(r.rows, key=lambda row: str(row[ti]))
        if len(rows) < 2:
            return []
        return [(rows[-1], rows[-2][i], ctx.t(f"较 {ctx.key(rows[-2])}", f"vs {ctx.key(rows[-2])}"))]
    comp = next((c for c in ctx.comparisons if c.kind == when.against and c.result.rows), None)
    if comp is None or r.time is not None:
        return []
    p = comp.result
    keys = [k.name for k in r.keys]
    before = {tuple(row[p.index(k)] for k in keys): row[p.index(when.metric)] for row in p.rows}
    where = ctx.t(f"{comp.label('zh')}对比 {comp.range.describe('zh')}",
                  f"{comp.label('en')}, {comp.range.describe('en')}")
    return [(row, before.get(tuple(row[r.index(k)] for k in keys)), where) for row in r.rows]


MATCHERS: dict[type, Matcher] = {
    SegmentWhen: _segment,
    ThresholdWhen: _threshold,
    RatioWhen: _ratio,
    ChangeWhen: _change,
}
