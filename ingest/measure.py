"""Count what the import did and check that it adds up: the numbers behind the quality report.

Three independent places are compared for reconciliation: the standardised
staging rows (raw), the written contract tables (clean), and ``_quarantine`` /
``_import_log`` (what was rejected or changed). A join that duplicated or lost
rows would break ``clean + quarantined = raw``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import duckdb

from .cells import ident, sql_str
from .contract import TARGETS
from .output import rejected_lines
from .report import Example, Flag, MoneyTotals, QualityReport, RuleCount, SourceInfo, TableTotals
from .rules import RULE_BY_CODE, Rules
from .sources import Staged
from .tables import TableJob, missing_counts, standardise_counts

_MAX_EXAMPLES = 3


def measure(con: duckdb.DuckDBPyConnection, jobs: dict[str, TableJob], staged: list[Staged], rules: Rules,
            today: dt.date, merges: dict[str, Any], surrogate: dict[str, bool],
            family_owner: dict[str, str]) -> QualityReport:
    report = QualityReport(target="", started_at="", seconds=0.0)
    labels = {k: s.ref.label for k, s in enumerate(staged)}
    for job in jobs.values():
        for p in job.parts:
            rejects = rejected_lines(con, (p,))
            report.sources.append(SourceInfo(p.staged.ref.label, job.name, p.staged.rows + rejects,
                                             p.source.mapped()))
        report.tables.append(_totals(con, job))
        report.rules += _standardised(con, job, labels)
        rows = report.tables[-1].raw_rows
        for column, missing in missing_counts(con, job).items():
            rate = missing / rows if rows else 0.0
            if rate > rules.missing_threshold:
                report.flags.append(Flag("missing_rate", job.name, column, missing, rows, round(rate, 4),
                                         rules.missing_threshold))
                report.rules.append(_rule("missing_rate", job.name, column, "flag", missing, ()))
    report.rules += _quarantined(con)
    report.rules += _logged(con, labels)
    if merges.get("merged"):
        repointed = 0
        for job in jobs.values():
            for col in job.spec.columns:
                if col.kind == "ref" and col.family == "customer" and col.name in job.mapped:
                    row = con.execute(f"SELECT count(*) FROM {job.s} s JOIN keys_customer k ON k.key = s.{ident(col.name)} "
                                      "WHERE s._reason IS NULL AND k.final_id <> k.id").fetchone()
                    repointed += int(row[0]) if row else 0
        report.merges = {**merges, "orders_repointed": repointed}
    report.notes = _notes(jobs, surrogate, family_owner)
    report.settings = {**rules.model_dump(mode="json"), "latest_date_used": rules.latest(today).isoformat()}
    return report


def _rule(code: str, table: str, column: str | None, action: str, count: int,
          examples: tuple[Example, ...]) -> RuleCount:
    rule = RULE_BY_CODE[code]
    return RuleCount(code, rule.stage, table, column, action, count, rule.text("zh", column), rule.text("en", column),
                     examples)


def _totals(con: duckdb.DuckDBPyConnection, job: TableJob) -> TableTotals:
    raw_row = con.execute(f"SELECT count(*), count(*) FILTER (WHERE _reason IS NOT NULL) FROM {job.s}").fetchone()
    assert raw_row is not None
    rejects = rejected_lines(con, job.parts)
    raw = int(raw_row[0]) + rejects
    clean = _one(con, f"SELECT count(*) FROM out.{job.name}")
    quarantined = _one(con, f"SELECT count(*) FROM out._quarantine WHERE target_table = {sql_str(job.name)}")
    money = []
    for c in job.mapped:
        if job.spec.column(c).kind != "money":
            continue
        q = ident(c)
        sums = con.execute(f"SELECT coalesce(sum({ident(c + '__raw')}), 0), "
                           f"coalesce(sum({ident(c + '__raw')}) FILTER (WHERE _reason IS NOT NULL), 0) "
                           f"FROM {job.s}").fetchone()
        assert sums is not None
        clean_sum = con.execute(f"SELECT coalesce(sum({q}), 0) FROM out.{job.name}").fetchone()
        adjusted = con.execute(
            "SELECT coalesce(sum(coalesce(parse_money(norm(old_value)), 0) - coalesce(parse_money(new_value), 0)), 0) "
            f"FROM out._import_log WHERE target_table = {sql_str(job.name)} AND column_name = {sql_str(c)}"
        ).fetchone()
        raw_sum, q_sum = Decimal(sums[0]), Decimal(sums[1])
        c_sum = Decimal(clean_sum[0]) if clean_sum else Decimal(0)
        adj = Decimal(adjusted[0]) if adjusted else Decimal(0)
        money.append(MoneyTotals(c, float(raw_sum), float(c_sum), float(q_sum), float(adj),
                                 raw_sum == c_sum + q_sum + adj))
    return TableTotals(job.name, raw, clean, quarantined, raw == clean + quarantined, tuple(money))


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _standardised(con: duckdb.DuckDBPyConnection, job: TableJob, labels: dict[int, str]) -> list[RuleCount]:
    """Standardisation counts per rule and column, each with before → after examples."""
    counts = standardise_counts(con, job)
    rids = sorted({r for c in counts for r in c.rids})
    before: dict[int, dict[str, Any]] = {}
    for p in job.parts:
        base = p.k << 40
        mine = [r - base for r in rids if r >> 40 == p.k]
        if not mine:
            continue
        m = p.source.mapped()
        cols = [c for c in job.mapped if c in m]
        sel = ", ".join(f"{ident(m[c])}" for c in cols)
        found = con.execute(f"SELECT rowid, {p.staged.row_sql}{', ' if sel else ''}{sel} FROM {p.staged.table} "
                            f"WHERE rowid IN ({', '.join(map(str, mine))})").fetchall()
        for row in found:
            before[base + int(row[0])] = {"_row": row[1], "_src": p.k, **dict(zip(cols, row[2:]))}
    after: dict[int, dict[str, Any]] = {}
    if rids:
        selected = ", ".join(ident(c) for c in job.mapped)
        for row in con.execute(f"SELECT _rid, {selected} FROM {job.s} WHERE _rid IN ({', '.join(map(str, rids))})").fetchall():
            after[int(row[0])] = dict(zip(job.mapped, row[1:]))
    out = []
    for c in counts:
        examples = tuple(
            Example(labels[before[r]["_src"]], before[r]["_row"], c.column, before[r].get(c.column),
                    None if after.get(r, {}).get(c.column) is None else str(after[r][c.column]))
            for r in c.rids if r in before)
        out.append(_rule(c.code, job.name, c.column, "fix", c.count, examples))
    return out


def _quarantined(con: duckdb.DuckDBPyConnection) -> list[RuleCount]:
    rows = con.execute(f"""
        SELECT target_table, reason_code, column_name, count(*),
               list({{'source': source, 'row': row_number, 'value': value, 'detail': detail}}
                    ORDER BY source, row_number)[1:{_MAX_EXAMPLES}]
        FROM out._quarantine GROUP BY ALL ORDER BY 1, 2, 3""").fetchall()
    out = []
    for table, code, column, count, examples in rows:
        shown = tuple(Example(e["source"], e["row"], column, e["value"], e["detail"]) for e in examples)
        if code == "duplicate_customer":  # column_name says which key matched
            rule = RULE_BY_CODE[code]
            out.append(RuleCount(code, rule.stage, table, column, "merge", int(count), f"{rule.zh}(按 {column})",
                                 f"{rule.en} (by {column})", shown))
        else:
            out.append(_rule(code, table, column, "quarantine", int(count), shown))
    return out


def _logged(con: duckdb.DuckDBPyConnection, labels: dict[int, str]) -> list[RuleCount]:
    rows = con.execute(f"""
        SELECT target_table, rule, column_name, action, count(*),
               list({{'source': source, 'row': row_number, 'old': old_value, 'new': new_value}}
                    ORDER BY source, row_number)[1:{_MAX_EXAMPLES}]
        FROM out._import_log GROUP BY ALL ORDER BY 1, 2, 3""").fetchall()
    return [_rule(code, table, column, action, int(count),
                  tuple(Example(e["source"], e["row"], column, e["old"], e["new"]) for e in examples))
            for table, code, column, action, count, examples in rows]


def _notes(jobs: dict[str, TableJob], surrogate: dict[str, bool], family_owner: dict[str, str]) -> list[dict[str, str]]:
    notes = []
    for name, spec in TARGETS.items():
        if name not in jobs:
            notes.append({"zh": f"没有数据源映射到 {name}: 已建空表", "en": f"no source maps to {name}: created empty"})
            continue
        for col in spec.columns:
            if col.name not in jobs[name].mapped and col.default_sql:
                notes.append({"zh": f"{name}.{col.name} 未映射, 一律取 {col.default_sql}",
                              "en": f"{name}.{col.name} is not mapped: every row gets {col.default_sql}"})
    for family, is_surrogate in surrogate.items():
        if is_surrogate:
            owner = family_owner.get(family, family)
            notes.append({"zh": f"{owner} 的源编号不是整数, 已分配新的整数编号(对照见 _id_map)",
                          "en": f"{owner} ids in the source are not integers: new integer ids assigned "
                                "(old → new in _id_map)"})
    return notes
