"""Write the cleaned warehouse: the six contract tables, and where every other row and change went.

Into the attached output database ``out``:

- the DESIGN §3 tables, typed and keyed as ``warehouse.store.TABLES`` says (tables
  no source maps to are created empty, so the default catalog still validates);
- ``_quarantine``: one row per rejected source row — table, source, row number,
  reason code with zh/en text, the offending column and value, and the whole raw
  row as JSON (it may hold PII: the catalog does not expose it to questions);
- ``_import_log``: values set to NULL, capped or flagged in rows that were kept;
- ``_id_map``: source id → contract id → surviving id for merged customers and
  for ids that were not numbers.
"""

from __future__ import annotations

import duckdb

from .cells import ident, sql_str
from .contract import TargetSpec
from .rules import RULES
from .tables import Part, TableJob

QUARANTINE_DDL = """CREATE TABLE out._quarantine (
    target_table VARCHAR, source VARCHAR, row_number BIGINT, reason_code VARCHAR, reason_zh VARCHAR,
    reason_en VARCHAR, column_name VARCHAR, value VARCHAR, detail VARCHAR, raw JSON)"""
LOG_DDL = """CREATE TABLE {name} (
    target_table VARCHAR, _src INTEGER, row_number BIGINT, column_name VARCHAR, rule VARCHAR, action VARCHAR,
    old_value VARCHAR, new_value VARCHAR)"""


def create_rule_text(con: duckdb.DuckDBPyConnection) -> None:
    """``rule_text(code, zh, en)``: the templates reasons are rendered from ({column} filled in SQL)."""
    con.execute("CREATE OR REPLACE TABLE rule_text (code VARCHAR, zh VARCHAR, en VARCHAR)")
    con.executemany("INSERT INTO rule_text VALUES (?, ?, ?)", [(r.code, r.zh, r.en) for r in RULES])


def write_table(con: duckdb.DuckDBPyConnection, spec: TargetSpec, job: TableJob | None, merged: bool) -> None:
    """CREATE out.<table> from the kept rows, ids through the key maps, then add its primary key."""
    name = f"out.{spec.name}"
    if job is None:
        cols = ", ".join(f"{ident(c.name)} {c.sql_type}" for c in spec.columns)
        con.execute(f"CREATE TABLE {name} ({cols}, PRIMARY KEY ({', '.join(spec.primary_key)}))")
    else:
        if spec.name == "customers" and merged:
            select = _merged_customers(job)
        else:
            select = _plain_select(spec, job)
        con.execute(f"CREATE TABLE {name} AS {select}")
        con.execute(f"ALTER TABLE {name} ADD PRIMARY KEY ({', '.join(spec.primary_key)})")
    con.execute(f"COMMENT ON TABLE {name} IS {sql_str(spec.comment)}")


def _column_sql(spec: TargetSpec, job: TableJob, col: str, joins: list[str]) -> str:
    c = spec.column(col)
    if c.kind in ("key", "ref") and col in job.mapped:
        alias = f"k_{col}"
        joins.append(f"LEFT JOIN keys_{c.family} {alias} ON {alias}.key = s.{ident(col)}")
        return f"{alias}.final_id"
    if col in job.mapped:
        return f"CAST(s.{ident(col)} AS {c.sql_type})"
    if c.default_sql:
        return f"CAST({c.default_sql} AS {c.sql_type})"
    if spec.name == "order_items" and col == "line_no":  # generated: 1, 2, … within each order, in source order
        return f"CAST(row_number() OVER (PARTITION BY s.order_id ORDER BY s._rid) AS {c.sql_type})"
    return f"CAST(NULL AS {c.sql_type})"


def _plain_select(spec: TargetSpec, job: TableJob) -> str:
    joins: list[str] = []
    cols = [f"{_column_sql(spec, job, c.name, joins)} AS {ident(c.name)}" for c in spec.columns]
    order = " ORDER BY 1" if spec.name in ("customers", "products", "surveys") else ""
    return f"SELECT {', '.join(cols)} FROM {job.s} s {' '.join(joins)} WHERE s._reason IS NULL{order}"


def _merged_customers(job: TableJob) -> str:
    """One row per surviving customer; a field the survivor lacks is taken from its merged duplicates."""
    spec = job.spec
    cols = ["k.final_id AS customer_id"]
    for c in spec.columns[1:]:
        if c.name in job.mapped:
            q = ident(c.name)
            cols.append(f"CAST(first(s.{q} ORDER BY coalesce(dd.prio, 0)) FILTER (WHERE s.{q} IS NOT NULL) "
                        f"AS {c.sql_type}) AS {q}")
        else:
            cols.append(f"CAST({c.default_sql or 'NULL'} AS {c.sql_type}) AS {ident(c.name)}")
    return (f"SELECT {', '.join(cols)} FROM {job.s} s JOIN keys_customer k ON k.key = s.customer_id "
            "LEFT JOIN dd ON dd._rid = s._rid "
            "WHERE s._reason IS NULL OR s._reason = 'duplicate_customer' GROUP BY k.final_id ORDER BY 1")


def write_quarantine(con: duckdb.DuckDBPyConnection, jobs: dict[str, TableJob]) -> None:
    """Every rejected row with its reason and raw data; CSV lines DuckDB could not parse included."""
    con.execute(QUARANTINE_DDL)
    for job in jobs.values():
        value = "CASE q._reason_col " + " ".join(
            f"WHEN {sql_str(c)} THEN coalesce(q.{ident(c + '__bad')}, CAST(q.{ident(c)} AS VARCHAR))"
            for c in job.mapped) + " END" if job.mapped else "NULL"
        for p in job.parts:
            raw = "{" + ", ".join(f"{sql_str(c)}: r.{ident(c)}" for c in p.staged.columns) + "}"
            con.execute(f"""
                INSERT INTO out._quarantine
                SELECT {sql_str(job.name)}, {sql_str(p.staged.ref.label)}, q._row, q._reason,
                       replace(t.zh, '{{column}}', coalesce(q._reason_col, '')),
                       replace(t.en, '{{column}}', coalesce(q._reason_col, '')),
                       q._reason_col, {value}, q._detail, to_json({raw})
                FROM {job.s} q JOIN {p.staged.table} r ON r.rowid = q._rid - (CAST({p.k} AS BIGINT) << 40)
                JOIN rule_text t ON t.code = q._reason
                WHERE q._reason IS NOT NULL AND q._src = {p.k}""")
            if p.staged.rejects and _exists(con, p.staged.rejects):
                con.execute(f"""
                    INSERT INTO out._quarantine
                    SELECT {sql_str(job.name)}, {sql_str(p.staged.ref.label)}, line, 'malformed_row', t.zh, t.en,
                           NULL, NULL, first(error_message ORDER BY column_idx), to_json({{'line': first(csv_line)}})
                    FROM {p.staged.rejects} JOIN rule_text t ON t.code = 'malformed_row'
                    GROUP BY line, t.zh, t.en""")


def rejected_lines(con: duckdb.DuckDBPyConnection, parts: tuple[Part, ...]) -> int:
    """CSV lines of these sources that DuckDB could not parse (each is one quarantined row)."""
    total = 0
    for p in parts:
        if p.staged.rejects and _exists(con, p.staged.rejects):
            row = con.execute(f"SELECT count(DISTINCT line) FROM {p.staged.rejects}").fetchone()
            total += int(row[0]) if row else 0
    return total


def write_log(con: duckdb.DuckDBPyConnection, jobs: dict[str, TableJob]) -> None:
    """Values changed in kept rows: nulled invalid optional values, plus the caps and flags in ``log_extra``."""
    con.execute(LOG_DDL.format(name="out._import_log"))
    for job in jobs.values():
        for c in job.mapped:
            if c in job.fatal:
                continue
            con.execute(f"""
                INSERT INTO out._import_log
                SELECT {sql_str(job.name)}, _src, _row, {sql_str(c)}, {ident(c + '__i')}, 'nullify',
                       {ident(c + '__bad')}, NULL
                FROM {job.s} WHERE _reason IS NULL AND {ident(c + '__i')} IS NOT NULL""")
    con.execute("INSERT INTO out._import_log SELECT * FROM log_extra")
    con.execute("ALTER TABLE out._import_log ALTER _src TYPE VARCHAR")
    con.execute("UPDATE out._import_log SET _src = l.label FROM src_labels l WHERE out._import_log._src = "
                "CAST(l.k AS VARCHAR)")
    con.execute("ALTER TABLE out._import_log RENAME _src TO source")


def write_id_map(con: duckdb.DuckDBPyConnection, surrogate: dict[str, bool]) -> None:
    """source id → contract id → surviving id, for merged customers and non-numeric ids."""
    con.execute("CREATE TABLE out._id_map (family VARCHAR, source_key VARCHAR, id INTEGER, surviving_id INTEGER, "
                "matched_by VARCHAR)")
    for family, is_surrogate in surrogate.items():
        matched = ("LEFT JOIN (SELECT d.customer_id AS key, m.matched_by FROM merge_map m "
                   "JOIN s_customers d ON d._rid = m._rid) mb ON mb.key = k.key" if family == "customer"
                   and _exists(con, "s_customers") else "LEFT JOIN (SELECT NULL AS key, NULL AS matched_by) mb ON false")
        where = "" if is_surrogate else "WHERE k.final_id <> k.id"
        con.execute(f"INSERT INTO out._id_map SELECT {sql_str(family)}, k.key, k.id, k.final_id, mb.matched_by "
                    f"FROM keys_{family} k {matched} {where} ORDER BY k.id")


def _exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    row = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND database_name <> 'out'",
                      [table]).fetchone()
    return bool(row and row[0])
