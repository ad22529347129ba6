"""One contract table's raw rows → standardised, checked cells (``s_<table>``), and what that changed.

``u_<table>`` is a view over every staged source mapped to the table, renaming
source columns to contract columns, with ``_src`` (source index), ``_row`` (row
number in the source) and ``_rid`` (a row id unique across sources). ``s_<table>``
holds per column the value (NULL when missing or invalid), its reason code
``c__i``, the standardisation flags ``c__<rule>``, the raw text of invalid cells
``c__bad`` and, for money, the parsed amount before checks ``c__raw`` (so sums
reconcile). ``_reason`` / ``_reason_col`` / ``_detail`` say why a row is
quarantined; later steps (duplicates, references, extremes) fill them too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from .cells import FORMAT_RULE, cell_sql, ident, sql_str
from .contract import TargetSpec
from .mapping import SourceMap
from .rules import Rules
from .sources import Staged

#: Standardisation rules in report order.
STANDARDISE = ("fullwidth", "trim_whitespace", "null_token", "date_format", "number_format", "phone_format",
               "email_format", "value_synonym")


@dataclass(frozen=True)
class Part:
    """One staged source feeding the table."""

    k: int  # source index: _rid = k << 40 | rowid
    staged: Staged
    source: SourceMap


@dataclass(frozen=True)
class TableJob:
    spec: TargetSpec
    parts: tuple[Part, ...]
    mapped: tuple[str, ...]  # contract columns some source maps, in contract order
    required: frozenset[str]
    fatal: frozenset[str]  # columns whose problems quarantine the row

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def s(self) -> str:
        return f"s_{self.name}"

    @property
    def u(self) -> str:
        return f"u_{self.name}"


def make_job(spec: TargetSpec, parts: list[Part], rules: Rules) -> TableJob:
    mapped_any = {t for p in parts for t in p.source.mapped()}
    mapped = tuple(c for c in spec.names if c in mapped_any)
    required = frozenset(rules.required_for(spec.name)) | (set(spec.primary_key) & set(mapped))
    fatal = frozenset(mapped) if rules.invalid_optional == "quarantine" else required & set(mapped)
    return TableJob(spec, tuple(parts), mapped, required, fatal)


def build_union(con: duckdb.DuckDBPyConnection, job: TableJob) -> None:
    """The ``u_<table>`` view: every source's rows under contract column names, as text."""
    selects = []
    for p in job.parts:
        m = p.source.mapped()
        cols = ", ".join(f"{ident(m[c])} AS {ident(c)}" if c in m else f"CAST(NULL AS VARCHAR) AS {ident(c)}"
                         for c in job.mapped)
        selects.append(f"SELECT {p.k} AS _src, {p.staged.row_sql} AS _row, (CAST({p.k} AS BIGINT) << 40) + rowid "
                       f"AS _rid{', ' if cols else ''}{cols} FROM {p.staged.table}")
    con.execute(f"CREATE OR REPLACE VIEW {job.u} AS " + " UNION ALL ".join(selects))


def build_cells(con: duckdb.DuckDBPyConnection, job: TableJob, rules: Rules, today: dt.date) -> None:
    """CREATE ``s_<table>``: normalise → parse → check every mapped column in one pass."""
    cells = [cell_sql(job.spec.column(c), c in job.required, rules, today) for c in job.mapped]
    layer0 = ", ".join(f"{ident(c)} AS {ident(c + '__r')}, hw({ident(c)}) AS {ident(c + '__h')}" for c in job.mapped)
    squashed = ", ".join(f"squash_h({ident(c + '__h')}) AS {ident(c + '__s')}" for c in job.mapped)
    tokens = ", ".join(f"drop_token({ident(c + '__s')}) AS {ident(c + '__t')}" for c in job.mapped)
    layer1 = (f"SELECT *{', ' if tokens else ''}{tokens} FROM (SELECT *{', ' if squashed else ''}{squashed} FROM "
              f"(SELECT _src, _row, _rid{', ' if layer0 else ''}{layer0} FROM {job.u}))")
    layer2 = ", ".join(f"{cell.parse} AS {ident(cell.column.name + '__v')}" for cell in cells)
    joins = " ".join(cell.join for cell in cells if cell.join)
    layer3 = ", ".join(f"{cell.issue} AS {ident(cell.column.name + '__i')}" for cell in cells)
    final = ["_src", "_row", "_rid"]
    for cell in cells:
        c = cell.column.name
        v, i, r = ident(c + "__v"), ident(c + "__i"), ident(c + "__r")
        final.append(f"CASE WHEN {i} IS NULL THEN {v} END AS {ident(c)}")
        final.append(i)
        final.append(f"CASE WHEN {i} IS NOT NULL THEN {r} END AS {ident(c + '__bad')}")
        if cell.column.kind == "money":
            final.append(f"{v} AS {ident(c + '__raw')}")
        final += [f"{expr} AS {ident(c + '__' + rule)}" for rule, expr in cell.flags.items()]
    fatal = [c for c in job.mapped if c in job.fatal]
    if fatal:
        final.append("CASE " + " ".join(f"WHEN {ident(c + '__i')} IS NOT NULL THEN {ident(c + '__i')}" for c in fatal)
                     + " END AS _reason")
        final.append("CASE " + " ".join(f"WHEN {ident(c + '__i')} IS NOT NULL THEN {sql_str(c)}" for c in fatal)
                     + " END AS _reason_col")
    else:
        final += ["CAST(NULL AS VARCHAR) AS _reason", "CAST(NULL AS VARCHAR) AS _reason_col"]
    final.append("CAST(NULL AS VARCHAR) AS _detail")
    sep = ", " if job.mapped else ""
    sql = (f"CREATE OR REPLACE TABLE {job.s} AS SELECT {', '.join(final)} FROM ("
           f"SELECT *{sep}{layer3} FROM ("
           f"SELECT l1.*{sep}{layer2} FROM ({layer1}) AS l1 {joins}))")
    con.execute(sql)


@dataclass(frozen=True)
class CellCount:
    code: str
    column: str
    count: int
    rids: tuple[int, ...]  # up to three example rows


def standardise_counts(con: duckdb.DuckDBPyConnection, job: TableJob) -> list[CellCount]:
    """How many cells each standardisation rule changed, per column, with example row ids (one scan)."""
    pairs = [(rule, c) for c in job.mapped for rule in STANDARDISE
             if rule in ("fullwidth", "trim_whitespace", "null_token") or FORMAT_RULE.get(job.spec.column(c).kind) == rule]
    if not pairs:
        return []
    aggs = []
    for rule, c in pairs:
        flag = ident(f"{c}__{rule}")
        aggs += [f"count(*) FILTER (WHERE {flag})", f"min_by(_rid, _rid, 3) FILTER (WHERE {flag})"]
    row = con.execute(f"SELECT {', '.join(aggs)} FROM {job.s}").fetchone()
    assert row is not None
    out = []
    for n, (rule, c) in enumerate(pairs):
        count, rids = int(row[2 * n] or 0), row[2 * n + 1] or []
        if count:
            out.append(CellCount(rule, c, count, tuple(sorted(rids))))
    return out


def missing_counts(con: duckdb.DuckDBPyConnection, job: TableJob) -> dict[str, int]:
    """Per mapped column, rows where it is missing (NULL or a placeholder) in the raw data."""
    if not job.mapped:
        return {}
    aggs = [f"count(*) FILTER (WHERE {ident(c)} IS NULL AND coalesce({ident(c + '__i')}, 'missing_required') "
            "= 'missing_required')" for c in job.mapped]
    row = con.execute(f"SELECT {', '.join(aggs)} FROM {job.s}").fetchone()
    assert row is not None
    return {c: int(n) for c, n in zip(job.mapped, row)}
