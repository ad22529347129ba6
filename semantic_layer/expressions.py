"""Turn catalog SQL snippets into qualified sqlglot expressions.

Metric ``expr`` and ``filter`` speak in dimension names (``status = 'completed'``),
resolved from the metric's model through the join graph, so one filter serves
a metric at order grain and at order-line grain. A dimension's own ``expr``
speaks in raw columns of its model. ``$as_of`` becomes the as-of date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp

from .catalog import Catalog, JoinStep, ResolvedDimension
from .dialects import adapt
from .errors import UserError
from .policy import Access, Grant
from .schema import Dimension

READ_DIALECT = "duckdb"  # the dialect catalog snippets are written in


def parse_snippet(sql: str) -> exp.Expression:
    """Parse one catalog expression; a syntax error names the snippet.

    >>> parse_snippet("amount - cost_amount").sql()
    'amount - cost_amount'
    """
    try:
        tree = sqlglot.parse_one(sql, read=READ_DIALECT)
    except sqlglot.errors.ParseError as exc:
        raise UserError(106, f"无法解析 SQL 片段 '{sql}': {exc}", f"cannot parse SQL snippet '{sql}': {exc}") from exc
    if tree is None:
        raise UserError(106, f"SQL 片段为空: '{sql}'", f"empty SQL snippet: '{sql}'")
    return tree


def date_literal(day: dt.date) -> exp.Expression:
    return exp.cast(exp.Literal.string(day.isoformat()), exp.DataType.Type.DATE)


@dataclass
class Scope:
    """Resolution context for one sub-query: its base model and the joins it needs."""

    catalog: Catalog
    base: str
    as_of: dt.date
    joins: dict[str, JoinStep] = field(default_factory=dict)  # to_model -> step
    #: The viewer's rights: row grants and PII masking applied to every source; None: unrestricted.
    access: Access | None = None
    #: The dialect the tree is built for: snippets are adapted to it (``dialects.adapt``).
    dialect: str = "duckdb"

    def need(self, path: tuple[JoinStep, ...]) -> None:
        for step in path:
            self.joins.setdefault(step.to_model, step)

    def dimension(self, ref: str) -> tuple[ResolvedDimension, exp.Expression]:
        """A dimension reachable from the base model, as a qualified expression."""
        resolved = self.catalog.resolve_dimension(self.base, ref)
        self.need(resolved.path)
        return resolved, self.raw(resolved.dimension.sql(), resolved.model)

    def raw(self, sql: str, model: str) -> exp.Expression:
        """``sql`` over raw columns of ``model`` (a dimension's own expression)."""
        return adapt(parse_snippet(sql).transform(lambda node: self._raw_node(node, model)), self.dialect)

    def metric_expr(self, sql: str) -> exp.Expression:
        """``sql`` where bare names are dimensions first, then raw base columns."""
        return adapt(parse_snippet(sql).transform(self._metric_node), self.dialect)

    def _raw_node(self, node: exp.Expression, model: str) -> exp.Expression:
        if isinstance(node, exp.Placeholder) and node.name == "as_of":
            return date_literal(self.as_of)
        if isinstance(node, exp.Column) and not node.table:
            return exp.column(node.name, table=model)
        return node

    def _metric_node(self, node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Placeholder) and node.name == "as_of":
            return date_literal(self.as_of)
        if not isinstance(node, exp.Column):
            return node
        if node.table:
            paths = self.catalog.join_paths(self.base)
            if node.table not in paths:
                raise UserError(
                    303, f"模型 '{self.base}' 无法关联到 '{node.table}'",
                    f"model '{self.base}' cannot reach '{node.table}'",
                )
            self.need(paths[node.table])
            return exp.column(node.name, table=node.table)
        # A model's own key columns are physical columns, never a joined dimension.
        if node.name in {e.column for e in self.catalog.model(self.base).entities}:
            return exp.column(node.name, table=self.base)
        if self.catalog.can_reach(self.base, node.name):
            return self.dimension(node.name)[1]
        return exp.column(node.name, table=self.base)

    def from_clause(self) -> exp.Select:
        """``SELECT … FROM base LEFT JOIN …`` skeleton with the joins needed so far."""
        select = exp.select().from_(self.source(self.base))
        ordered = sorted(self.joins.values(), key=lambda s: self._depth(s.to_model))
        for step in ordered:
            on = exp.column(step.from_column, table=step.from_model).eq(
                exp.column(step.to_column, table=step.to_model)
            )
            select = select.join(self.source(step.to_model), on=on, join_type="left")
        return select

    def _depth(self, model: str) -> int:
        return len(self.catalog.join_paths(self.base)[model])

    def source(self, model: str) -> exp.Expression:
        """The model's relation, aliased by the model name, with the viewer's row grants applied.

        A protected model becomes ``(SELECT * FROM model WHERE <grants>) AS model``;
        no grant at all is ``WHERE FALSE`` (default deny).
        """
        relation = self.relation(model)
        grants = self.access.model_grants(model) if self.access else None
        if grants is None:
            return relation
        allowed = [self._grant_condition(model, g) for g in grants]
        where = exp.or_(*allowed) if allowed else exp.false()
        inner = exp.select(exp.Star()).from_(relation).where(where)
        return exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier(model)))

    def relation(self, model: str) -> exp.Expression:
        """The model's relation before row grants; PII columns masked when the viewer may not see them."""
        spec = self.catalog.model(model)
        src = spec.source
        if hasattr(src, "table"):
            table = src.table
            if self.access is not None and not self.access.see_pii and model in _models_with_pii(self.catalog):
                table = masked_table_name(table)
            return exp.table_(table, alias=model)
        if hasattr(src, "sql") and not src.materialize:
            inner = adapt(parse_snippet(src.sql).transform(
                lambda n: date_literal(self.as_of) if isinstance(n, exp.Placeholder) and n.name == "as_of" else n
            ), self.dialect)
            return exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier(model)))
        # Materialised and Python-built models live under their own name in the engine.
        return exp.table_(model, alias=model)

    def _grant_condition(self, model: str, grant: Grant) -> exp.Expression:
        """``model``'s rows whose grant dimension, reached through the join path, is in the grant's values."""
        assert grant.dimension is not None and grant.values is not None
        resolved = self.catalog.resolve_dimension(model, grant.dimension)
        values = [exp.Literal.string(v) for v in grant.values]
        condition: exp.Expression = self.raw(resolved.dimension.sql(), resolved.model).isin(*values)
        for step in reversed(resolved.path):  # innermost first: customers ← orders ← order_items
            keys = exp.select(exp.column(step.to_column, table=step.to_model)).from_(
                self.relation(step.to_model)).where(condition)
            condition = exp.column(step.from_column, table=step.from_model).isin(query=keys)
        return condition


MASKED_SUFFIX = "__masked"


def masked_table_name(table: str) -> str:
    """The workspace view that serves ``table`` with its PII columns masked."""
    return f"{table}{MASKED_SUFFIX}"


def _models_with_pii(catalog: Catalog) -> set[str]:
    return {m.model for m in catalog.models.values() if any("pii" in d.tags for d in m.dimensions)}


def dimension_label(dim: Dimension, value: object, lang: str) -> str:
    """The display label of a dimension value (华东 for East in Chinese)."""
    for v in dim.values:
        if v.value == value:
            return v.label.get(lang)
    return str(value)
