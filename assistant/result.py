"""A query result with what the answer needs to read it: columns, rows and catalog facts.

Chart choice, narrative and playbook all look at the same thing — the compiled
query's output columns, the rows, and two facts only the catalog knows: which
metrics add up across dimension values (so totals and shares mean something)
and which dimensions have a meaningful value order (RFM segments, tiers).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal, Sequence

from semantic_layer.catalog import Catalog
from semantic_layer.compiler import CompiledQuery, OutputColumn
from semantic_layer.errors import UserError
from semantic_layer.lineage import Lineage
from semantic_layer.query import SemanticQuery
from semantic_layer.schema import SimpleMetric
from semantic_layer.timerange import DateRange

#: Aggregations whose values add up across the values of a dimension (sum of parts = whole).
#: COUNT DISTINCT does not: a customer buying online and in store is one buyer, not two.
_ADDITIVE_AGGS = {"sum", "count"}


@dataclass(frozen=True)
class ResultSet:
    columns: tuple[OutputColumn, ...]
    rows: tuple[tuple[Any, ...], ...]
    query: SemanticQuery
    lineage: Lineage
    additive: frozenset[str] = frozenset()
    ordered: frozenset[str] = frozenset()
    truncated: bool = False
    #: Dimensions the query filters on, with their value labels (a segment named only in a filter).
    filter_columns: tuple[OutputColumn, ...] = ()

    @classmethod
    def build(cls, compiled: CompiledQuery, rows: Sequence[Sequence[Any]], catalog: Catalog | None = None,
              *, truncated: bool = False) -> ResultSet:
        """Wrap rows of ``compiled``; without a catalog nothing is additive or ordered."""
        additive: set[str] = set()
        ordered: set[str] = set()
        filtered: list[OutputColumn] = []
        if catalog is not None:
            for f in compiled.query.filters:
                if f.field in catalog.metrics:
                    continue
                try:
                    dim = catalog.find_dimension(f.field)
                except UserError:
                    continue
                filtered.append(OutputColumn(dim.name, "dimension", dim.label, "text",
                                             value_labels=tuple((v.value, v.label) for v in dim.values)))
            for col in compiled.columns:
                if col.kind == "metric" and col.name in catalog.metrics:
                    metric = catalog.metrics[col.name]
                    if isinstance(metric, SimpleMetric) and metric.agg in _ADDITIVE_AGGS:
                        additive.add(col.name)
                elif col.kind == "dimension":
                    try:
                        if catalog.find_dimension(col.name).ordered:
                            ordered.add(col.name)
                    except UserError:  # an analysis's own column (cohort, months_since)
                        pass
        if compiled.query.analysis == "cohort":
            additive |= {"cohort_size", "retained_customers"}
            ordered |= {"cohort", "months_since"}
        return cls(compiled.columns, tuple(tuple(r) for r in rows), compiled.query, compiled.lineage,
                   frozenset(additive), frozenset(ordered), truncated, tuple(filtered))

    # --- shape ----------------------------------------------------------------------

    @property
    def metrics(self) -> list[OutputColumn]:
        """The measures asked for (share-of-total companions excluded)."""
        shares = self.share_columns
        return [c for c in self.columns if c.kind == "metric" and c not in shares]

    @property
    def share_columns(self) -> list[OutputColumn]:
        """``<metric>_share`` columns: the metric's share of the total over all rows (占比)."""
        names = {f"{m}_share" for m in getattr(self.query, "shares", ())}
        return [c for c in self.columns if c.kind == "metric" and c.name in names]

    def share_of(self, metric: OutputColumn) -> OutputColumn | None:
        return next((c for c in self.share_columns if c.name == f"{metric.name}_share"), None)

    @property
    def dimensions(self) -> list[OutputColumn]:
        return [c for c in self.columns if c.kind == "dimension"]

    @property
    def time(self) -> OutputColumn | None:
        return next((c for c in self.columns if c.kind == "time"), None)

    @property
    def keys(self) -> list[OutputColumn]:
        return [c for c in self.columns if c.kind != "metric"]

    @property
    def is_cohort(self) -> bool:
        return {"cohort", "months_since", "retention_rate"} <= {c.name for c in self.columns}

    def index(self, name: str) -> int:
        return next(i for i, c in enumerate(self.columns) if c.name == name)

    def column(self, name: str) -> OutputColumn:
        return self.columns[self.index(name)]

    def values(self, name: str) -> list[Any]:
        i = self.index(name)
        return [r[i] for r in self.rows]

    def distinct(self, name: str) -> list[Any]:
        return list(dict.fromkeys(self.values(name)))

    def is_ordered(self, col: OutputColumn) -> bool:
        return col.name in self.ordered

    def is_additive(self, col: OutputColumn) -> bool:
        return col.name in self.additive

    @property
    def time_range(self) -> DateRange:
        return self.lineage.time_range


ComparisonKind = Literal["previous", "year_ago"]


@dataclass(frozen=True)
class Comparison:
    """The same semantic query over a shifted range: 环比 (previous) or 同比 (year_ago)."""

    kind: ComparisonKind
    range: DateRange
    result: ResultSet

    def label(self, lang: str) -> str:
        if self.kind == "previous":
            return "环比" if lang == "zh" else "vs previous period"
        return "同比" if lang == "zh" else "year over year"


def comparison_ranges(rng: DateRange) -> list[tuple[ComparisonKind, DateRange]]:
    """The previous period of equal length and the same range a year earlier.

    Whole calendar months shift by their number of months (Q3 → Q2); other
    ranges by their number of days; for a full year both are the same range
    (run once, told as 同比). Open ranges (all time) have no comparison.

    >>> [(kind, r.start.isoformat(), r.end.isoformat())
    ...  for kind, r in comparison_ranges(DateRange(dt.date(2025, 7, 1), dt.date(2025, 9, 30)))]
    [('previous', '2025-04-01', '2025-06-30'), ('year_ago', '2024-07-01', '2024-09-30')]
    """
    from dateutil.relativedelta import relativedelta

    if rng.start is None or rng.end is None:
        return []
    start, end = rng.start, rng.end
    next_day = end + dt.timedelta(days=1)
    if start.day == 1 and next_day.day == 1:
        months = (next_day.year - start.year) * 12 + next_day.month - start.month
        previous = DateRange(start - relativedelta(months=months), start - dt.timedelta(days=1))
    else:
        days = (end - start).days + 1
        previous = DateRange(start - dt.timedelta(days=days), start - dt.timedelta(days=1))
    year_end = next_day - relativedelta(years=1) - dt.timedelta(days=1) if next_day.day == 1 \
        else end - relativedelta(years=1)
    year_ago = DateRange(start - relativedelta(years=1), year_end)
    return [("previous", previous), ("year_ago", year_ago)]
