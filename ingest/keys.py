"""Keys: duplicate keys, references to nothing, one customer from several channels, and integer ids.

All set-based SQL over the ``s_<table>`` tables (see ``tables``):

- ``mark_duplicate_keys``: rows repeating a primary key already seen (an export
  page read twice) are quarantined; the first row by source order is kept.
- ``mark_unknown_references``: ``orders.customer_id`` must be a customer of this
  import (when customers are imported at all).
- ``merge_customers``: customers sharing a phone, an email or name + city are
  one customer, transitively (A~B by phone, B~C by email → A, B, C). Components
  come from label propagation: each row starts with its priority (most complete
  record first, then earliest signup, then source order) and repeatedly takes the
  smallest label among rows sharing a key, until nothing changes. The row whose
  priority equals its component's label survives; the others are quarantined as
  ``duplicate_customer`` and their ids map to the survivor (``_id_map``).
- ``build_key_map``: source ids (text) → the contract's INTEGER ids; numeric ids
  are kept as they are, others (C0001, ON-17) get dense surrogate numbers.
"""

from __future__ import annotations

import duckdb

from .cells import ident, sql_str
from .contract import FAMILY_OWNER, TARGETS
from .tables import TableJob

#: Rows a parent table still offers as reference targets (kept, or merged into a kept row).
_REFERABLE = "(_reason IS NULL OR _reason IN ('duplicate_customer', 'duplicate_key'))"
_MAX_ROUNDS = 100


def mark_duplicate_keys(con: duckdb.DuckDBPyConnection, job: TableJob) -> None:
    pk = job.spec.primary_key
    if not all(c in job.mapped for c in pk):
        return  # a generated key (order_items.line_no) cannot repeat
    cols = ", ".join(ident(c) for c in pk)
    on = " AND ".join(f"s.{ident(c)} = d.{ident(c)}" for c in pk)
    con.execute(f"""
        UPDATE {job.s} SET _reason = 'duplicate_key', _reason_col = {sql_str('+'.join(pk))},
               _detail = x.detail
        FROM (SELECT s._rid, 'row ' || d.keep_row AS detail
              FROM {job.s} s JOIN (SELECT {cols}, min(_rid) AS keep, arg_min(_row, _rid) AS keep_row
                                   FROM {job.s} WHERE _reason IS NULL GROUP BY ALL HAVING count(*) > 1) d ON {on}
              WHERE s._reason IS NULL AND s._rid <> d.keep) x
        WHERE {job.s}._rid = x._rid""")


def mark_unknown_references(con: duckdb.DuckDBPyConnection, job: TableJob, imported: set[str]) -> None:
    for col in job.spec.columns:
        if col.kind != "ref" or col.name not in job.mapped or col.family is None:
            continue
        parent = FAMILY_OWNER[col.family]
        if parent not in imported:
            continue
        key = ident(TARGETS[parent].primary_key[0])
        c = ident(col.name)
        con.execute(f"""
            UPDATE {job.s} SET _reason = 'unknown_reference', _reason_col = {sql_str(col.name)}, _detail = {c}
            WHERE _reason IS NULL AND {c} IS NOT NULL
              AND {c} NOT IN (SELECT {key} FROM s_{parent} WHERE {_REFERABLE} AND {key} IS NOT NULL)""")


def merge_customers(con: duckdb.DuckDBPyConnection, job: TableJob, keys: list[str]) -> dict[str, object]:
    """Merge duplicate customers; fills ``merge_map(_rid, survivor_rid, matched_by)``; returns counts."""
    exprs = {
        "phone": "phone" if "phone" in job.mapped else None,
        "email": "email" if "email" in job.mapped else None,
        "name_city": ("CASE WHEN customer_name IS NOT NULL AND city IS NOT NULL THEN "
                      "lower(replace(customer_name, ' ', '')) || '|' || lower(city) END")
        if {"customer_name", "city"} <= set(job.mapped) else None,
    }
    used = [k for k in keys if exprs.get(k)]
    con.execute("CREATE OR REPLACE TABLE merge_map (_rid BIGINT, survivor_rid BIGINT, matched_by VARCHAR)")
    if not used:
        return {"merged": 0, "groups": 0, "by_key": {}}
    complete = " + ".join(f"CAST({ident(c)} IS NOT NULL AS INTEGER)" for c in job.mapped)
    signup = "signup_date" if "signup_date" in job.mapped else "NULL"
    con.execute(f"""
        CREATE OR REPLACE TABLE dd AS
        SELECT _rid, {', '.join(f'{exprs[k]} AS k_{k}' for k in used)},
               row_number() OVER (ORDER BY {complete} DESC, {signup} NULLS LAST, _rid) AS prio
        FROM {job.s} WHERE _reason IS NULL""")
    con.execute("ALTER TABLE dd ADD COLUMN label BIGINT")
    con.execute("UPDATE dd SET label = prio")
    for _ in range(_MAX_ROUNDS):
        joins = " ".join(f"LEFT JOIN (SELECT k_{k}, min(label) AS m FROM dd WHERE k_{k} IS NOT NULL GROUP BY 1) "
                         f"g_{k} ON g_{k}.k_{k} = dd.k_{k}" for k in used)
        least = ", ".join(f"coalesce(g_{k}.m, dd.label)" for k in used)
        changed = con.execute(f"""
            UPDATE dd SET label = x.label FROM (
                SELECT dd._rid, least(dd.label, {least}) AS label FROM dd {joins}) x
            WHERE dd._rid = x._rid AND x.label < dd.label""").fetchone()
        if not changed or not changed[0]:
            break
    shared = ", ".join(f"count(*) OVER (PARTITION BY label, k_{k}) > 1 AND k_{k} IS NOT NULL AS s_{k}" for k in used)
    matched = "CASE " + " ".join(f"WHEN s_{k} THEN '{k}'" for k in used) + " END"
    con.execute(f"""
        INSERT INTO merge_map
        SELECT m._rid, s._rid, {matched}
        FROM (SELECT *, {shared} FROM dd) m JOIN dd s ON s.prio = m.label
        WHERE m.prio <> m.label""")
    key = "customer_id"
    con.execute(f"""
        UPDATE {job.s} SET _reason = 'duplicate_customer', _reason_col = m.matched_by, _detail = sv.{key}
        FROM merge_map m JOIN {job.s} sv ON sv._rid = m.survivor_rid
        WHERE {job.s}._rid = m._rid""")
    rows = con.execute("SELECT matched_by, count(*) FROM merge_map GROUP BY 1 ORDER BY 1").fetchall()
    groups = con.execute("SELECT count(DISTINCT survivor_rid) FROM merge_map").fetchone()
    return {"merged": sum(n for _, n in rows), "groups": int(groups[0]) if groups else 0,
            "by_key": {k: int(n) for k, n in rows}}


def build_key_map(con: duckdb.DuckDBPyConnection, family: str, jobs: dict[str, TableJob]) -> bool:
    """CREATE ``keys_<family>(key, id, final_id)``; True when ids are surrogates (the source ids were not numbers).

    Keys come from the owner table's kept and merged rows, plus references in kept
    child rows (orphans kept by ``unknown_reference: keep``, or all references
    when the owner is not imported). ``final_id`` is the surviving customer's id.
    """
    owner = FAMILY_OWNER[family]
    sources = []
    if owner in jobs:
        pk = TARGETS[owner].primary_key[0]
        sources.append(f"SELECT {ident(pk)} AS key FROM s_{owner} WHERE {_REFERABLE}")
    for job in jobs.values():
        for col in job.spec.columns:
            if col.kind == "ref" and col.family == family and col.name in job.mapped:
                sources.append(f"SELECT {ident(col.name)} AS key FROM {job.s} WHERE _reason IS NULL")
    if not sources:
        return False
    con.execute(f"CREATE OR REPLACE TABLE keyset AS SELECT DISTINCT key FROM ({' UNION ALL '.join(sources)}) "
                "WHERE key IS NOT NULL")
    numeric = con.execute("SELECT bool_and(regexp_matches(key, '^\\d{1,10}$') AND coalesce(try_cast(key AS BIGINT) <= 2147483647, false)) "
                          "FROM keyset").fetchone()
    surrogate = not (numeric and numeric[0] in (True, None))
    id_sql = ("CAST(row_number() OVER (ORDER BY length(key), key) AS INTEGER)" if surrogate
              else "CAST(key AS INTEGER)")
    con.execute(f"CREATE OR REPLACE TABLE keys_{family} AS SELECT key, {id_sql} AS id, NULL::INTEGER AS final_id "
                "FROM keyset")
    con.execute(f"UPDATE keys_{family} SET final_id = id")
    if family == "customer" and "customers" in jobs:
        con.execute(f"""
            UPDATE keys_{family} SET final_id = sk.id
            FROM merge_map m JOIN s_customers d ON d._rid = m._rid JOIN s_customers sv ON sv._rid = m.survivor_rid
                 JOIN keys_{family} sk ON sk.key = sv.customer_id
            WHERE keys_{family}.key = d.customer_id""")
    return surrogate
