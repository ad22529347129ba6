"""The semantic query: the planner's only output and the compiler's only input.

An LLM fills it through tool calling (its JSON Schema), the offline planner
builds it directly; both go through this same validation.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .schema import FieldRef, Grain

#: Relative ranges resolved against the as-of date (see ``timerange.py``).
Relative = Literal[
    "today", "this_week", "this_month", "last_month", "this_quarter", "last_quarter",
    "this_year", "last_year", "year_to_date", "quarter_to_date", "month_to_date",
    "last_n_days", "last_n_weeks", "last_n_months", "last_n_quarters", "last_n_years",
]

FilterOp = Literal["=", "!=", "in", "not_in", ">", ">=", "<", "<=", "between", "contains"]


class QueryModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TimeSpec(QueryModel):
    """Range and grain on each metric's own time dimension (the conformed time axis)."""

    grain: Grain | None = None
    start: dt.date | None = None
    end: dt.date | None = Field(default=None, description="inclusive")
    relative: Relative | None = None
    n: int | None = Field(default=None, ge=1, le=120, description="N for last_n_* ranges")

    @model_validator(mode="after")
    def _consistent(self) -> TimeSpec:
        if self.relative and (self.start or self.end):
            raise ValueError("give either relative or start/end, not both")
        if self.relative and self.relative.startswith("last_n_") and self.n is None:
            raise ValueError(f"{self.relative} needs n")
        if self.start and self.end and self.start > self.end:
            raise ValueError("start is after end")
        return self


class Filter(QueryModel):
    field: FieldRef = Field(description="a dimension (or a metric of the query: filters the result)")
    op: FilterOp = "="
    values: list[str | int | float | dt.date] = Field(min_length=1)

    @model_validator(mode="after")
    def _arity(self) -> Filter:
        if self.op == "between" and len(self.values) != 2:
            raise ValueError("between takes exactly two values")
        if self.op in {"=", "!=", ">", ">=", "<", "<=", "contains"} and len(self.values) != 1:
            raise ValueError(f"{self.op} takes exactly one value")
        return self


class OrderBy(QueryModel):
    field: str
    desc: bool = True


class SemanticQuery(QueryModel):
    metrics: list[str] = Field(default_factory=list, description="metric names from the catalog")
    dimensions: list[FieldRef] = Field(default_factory=list)
    time: TimeSpec | None = None
    filters: list[Filter] = Field(default_factory=list)
    order_by: list[OrderBy] = Field(default_factory=list)
    limit: int | None = Field(default=None, ge=1, le=100_000)
    shares: list[str] = Field(default_factory=list, description="metrics to also show as a share of the total (占比)")
    analysis: str | None = Field(default=None, description="a named analysis")
    #: An analysis's options (``analyses.PARAMS``): segment, level, unit, event, group_by, name, since.
    params: dict[str, str | int | float | dt.date] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _something_to_compute(self) -> SemanticQuery:
        if not self.metrics and not self.analysis:
            raise ValueError("a query needs at least one metric or an analysis")
        if self.params and not self.analysis:
            raise ValueError("params belong to an analysis")
        if set(self.shares) - set(self.metrics):
            raise ValueError("shares must name metrics of the query")
        return self
