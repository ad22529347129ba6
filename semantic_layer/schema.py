"""The YAML semantic layer as pydantic models: the contract admins edit.

Every model is frozen and rejects unknown fields, so a typo in a YAML key is
an error with its line, not a silently ignored setting. Names are
``^[a-z][a-z0-9_]*$``; Chinese and English live in labels and synonyms.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator

Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
#: A name optionally qualified by its model: ``region`` or ``customers.region``.
FieldRef = Annotated[str, Field(pattern=r"^([a-z][a-z0-9_]*\.)?[a-z][a-z0-9_]*$")]


class Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Text(Strict):
    """A bilingual string; both languages are required."""

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


class Synonyms(Strict):
    zh: list[str] = []
    en: list[str] = []

    def all(self) -> list[str]:
        return [*self.zh, *self.en]


class Grain(str, Enum):
    day = "day"
    week = "week"
    month = "month"
    quarter = "quarter"
    year = "year"


GRAIN_ORDER = [Grain.day, Grain.week, Grain.month, Grain.quarter, Grain.year]


class Described(Strict):
    """Fields shared by everything a user can name."""

    label: Text
    description: Text | None = None
    synonyms: Synonyms = Synonyms()
    tags: list[str] = []


# --- models ---------------------------------------------------------------------


class TableSource(Strict):
    table: Name


class SqlSource(Strict):
    """A SELECT over other tables; ``$as_of`` is replaced by the as-of date.

    ``materialize`` builds it once per (data version, as-of date) as a table named
    after the model, instead of inlining it into every query (RFM over a year).
    """

    sql: str
    materialize: bool = False


class PythonSource(Strict):
    """``module:function`` that builds the table for an engine and an as-of date."""

    python: str = Field(pattern=r"^[a-z_][a-z0-9_.]*:[a-z_][a-z0-9_]*$")
    #: Tables the builder reads; lets the guard and the docs know.
    reads: list[Name] = []
    #: Settings the builder takes (horizon, discount rate, thresholds), curated in YAML.
    params: dict[str, float | int | str] = {}


Source = Union[TableSource, SqlSource, PythonSource]


class Entity(Strict):
    """A join key. Joins go from any entity to a model where it is primary."""

    name: Name
    type: Literal["primary", "foreign"]
    column: Name


class DimensionValue(Strict):
    value: str
    label: Text
    synonyms: Synonyms = Synonyms()


class Dimension(Described):
    name: Name
    type: Literal["categorical", "numeric", "time"] = "categorical"
    #: SQL over the model's columns; defaults to the column named like the dimension.
    expr: str | None = None
    grains: list[Grain] = []
    values: list[DimensionValue] = []
    #: Order in which values are shown (segments, bands); defaults to the values' order.
    ordered: bool = False
    format: Literal["number", "currency", "percent", "date", "text"] | None = None
    #: How rows without a value read (customers outside the RFM base, say).
    null_label: Text | None = None
    #: How a ``pii`` dimension is shown to roles that may not see PII (张*, 138****5678, z***@x.com, ***).
    mask: Literal["name", "phone", "email", "full"] | None = None

    @model_validator(mode="after")
    def _time_has_grains(self) -> Dimension:
        if self.type == "time" and not self.grains:
            raise ValueError("a time dimension must declare its grains")
        if self.type != "time" and self.grains:
            raise ValueError("only time dimensions have grains")
        return self

    def sql(self) -> str:
        return self.expr or self.name


class ModelSpec(Described):
    model: Name
    source: Source
    entities: list[Entity] = []
    default_time: Name | None = None
    dimensions: list[Dimension] = []

    @model_validator(mode="after")
    def _one_primary(self) -> ModelSpec:
        primaries = [e for e in self.entities if e.type == "primary"]
        if len(primaries) > 1:
            raise ValueError("a model has at most one primary entity")
        return self

    @property
    def primary(self) -> Entity | None:
        return next((e for e in self.entities if e.type == "primary"), None)


# --- metrics --------------------------------------------------------------------


class Format(Strict):
    kind: Literal["number", "currency", "percent", "count"] = "number"
    unit: str | None = None
    decimals: int = 2


Agg = Literal["sum", "count", "count_distinct", "avg", "min", "max"]


class Variant(Strict):
    """The same measure at a finer grain, used when a dimension is only reachable there.

    Revenue is ``SUM(orders.amount)``; by category it must sum order lines
    instead, never order amounts joined to lines (fan-out).
    """

    model: Name
    agg: Agg | None = None
    expr: str


class MetricBase(Described):
    name: Name
    format: Format = Format()
    #: Example questions shown in the catalog and used by docs tests.
    examples: list[str] = []


class SimpleMetric(MetricBase):
    type: Literal["simple"]
    model: Name
    agg: Agg
    expr: str = "1"
    filter: str | None = None
    time: Name | None = None  # defaults to the model's default_time
    variants: list[Variant] = []


class RatioMetric(MetricBase):
    type: Literal["ratio"]
    numerator: Name
    denominator: Name


class DerivedMetric(MetricBase):
    """An expression over other metrics, e.g. ``1 - churn_rate``."""

    type: Literal["derived"]
    expr: str
    inputs: list[Name] = Field(min_length=1)


class EntityCountMetric(MetricBase):
    """Entities whose per-period aggregate meets a condition (repeat buyers)."""

    type: Literal["entity_count"]
    model: Name
    entity: Name
    agg: Agg
    expr: str = "1"
    filter: str | None = None
    having: str = Field(description="condition on the per-entity value, e.g. '>= 2'")
    time: Name | None = None


class PeriodChurnMetric(MetricBase):
    """Active in the previous period, not in this one, over active in the previous."""

    type: Literal["period_churn"]
    model: Name
    entity: Name
    filter: str | None = None
    grain: Grain = Grain.month
    time: Name | None = None
    #: Which side of the ratio this metric returns.
    measure: Literal["rate", "churned", "base"] = "rate"


Metric = Annotated[
    Union[SimpleMetric, RatioMetric, DerivedMetric, EntityCountMetric, PeriodChurnMetric],
    Field(discriminator="type"),
]


class MetricFile(Strict):
    area: Name
    label: Text
    metrics: list[Metric]


# --- project --------------------------------------------------------------------


class AsOfRule(Strict):
    """Relative time resolves against the data's own today (DESIGN §3)."""

    table: Name = "orders"
    column: Name = "order_date"


class AmbiguousTerm(Strict):
    """A term that maps to several things on purpose: the planner asks."""

    term: str
    candidates: list[str] = Field(min_length=2)


class Project(Strict):
    version: int = 1
    name: str = "chatbi"
    label: Text
    dialect: Literal["duckdb", "postgres", "spark"] = "duckdb"
    as_of: AsOfRule = AsOfRule()
    locales: list[Literal["zh", "en"]] = ["zh", "en"]
    max_rows: int = Field(default=10_000, gt=0)
    ambiguous: list[AmbiguousTerm] = []
