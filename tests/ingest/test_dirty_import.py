"""The messy demo export through the default suggested mapping: every planted defect is found, exactly.

The manifest is the generator's own account of what it planted; the report is
the cleaner's account of what it found. They must agree rule by rule, table by
table, column by column; and the cleaned warehouse must answer ChatBI's
questions with the totals the generator expects.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import duckdb

from ingest.dirty import write_dirty


def _entries(manifest: dict, kind: str) -> list[tuple[str, str, str | None, int]]:
    """(table, rule code, column, count) from the manifest's ``planted`` or ``standardised`` section."""
    out = []
    for table, entries in manifest[kind].items():
        for key, n in entries.items():
            code, _, column = key.partition(":")
            out.append((table, code, column or None, n))
    return out


def test_every_planted_defect_is_found(report, manifest: dict) -> None:
    entries = _entries(manifest, "planted")
    assert len(entries) >= 20
    wrong = [(t, code, col, n, report.count(code, t, None if code == "duplicate_customer" else col))
             for t, code, col, n in entries
             if report.count(code, t, None if code == "duplicate_customer" else col) != n]
    assert wrong == []  # (table, rule, column, planted, found)


def test_every_standardisation_is_counted(report, manifest: dict) -> None:
    entries = _entries(manifest, "standardised")
    assert {code for _, code, _, _ in entries} == {"fullwidth", "trim_whitespace", "null_token", "date_format",
                                                   "number_format", "phone_format", "email_format", "value_synonym"}
    wrong = [(t, code, col, n, report.count(code, t, col)) for t, code, col, n in entries
             if report.count(code, t, col) != n]
    assert wrong == []


def test_nothing_fires_that_was_not_planted(report, manifest: dict) -> None:
    known = {(t, k.partition(":")[0], k.partition(":")[2] or None) for kind in ("planted", "standardised")
             for t, entries in manifest[kind].items() for k in entries}
    extra = [(r.table, r.code, r.column, r.count) for r in report.rules
             if (r.table, r.code, r.column) not in known and r.code not in ("duplicate_customer", "missing_rate")]
    assert extra == []


def test_rows_and_amounts_reconcile(report, manifest: dict) -> None:
    assert report.reconciled
    expected = manifest["expected"]
    for table in ("customers", "orders"):
        totals = report.table(table)
        assert totals.raw_rows == manifest["raw_rows"][table]
        assert totals.clean_rows == expected[table]
        assert totals.quarantined_rows == expected["quarantined"][table]
        assert totals.clean_rows + totals.quarantined_rows == totals.raw_rows
    amount = next(m for m in report.table("orders").money if m.column == "amount")
    assert Decimal(str(amount.raw)) == Decimal(expected["amount_raw"])
    assert Decimal(str(amount.clean)) == Decimal(expected["amount"])
    assert amount.ok and amount.adjusted == 0


def test_customers_merged_across_channels(report, manifest: dict, dirty_import) -> None:
    merges = manifest["merges"]
    assert report.merges["merged"] == merges["merged"]
    assert report.merges["groups"] == merges["groups"]
    assert report.merges["by_key"] == merges["by_key"]
    assert report.merges["orders_repointed"] == merges["orders_repointed"]
    con = duckdb.connect(str(dirty_import.db), read_only=True)
    try:
        merged = con.execute("SELECT count(*) FROM _id_map WHERE family = 'customer' AND id <> surviving_id").fetchone()
        assert merged[0] == merges["merged"]
        # every order of a merged-away id now points at a customer that exists
        orphans = con.execute("SELECT count(*) FROM orders o ANTI JOIN customers c USING (customer_id)").fetchone()
        assert orphans[0] == 0
        gone = con.execute("SELECT count(*) FROM orders WHERE customer_id IN "
                           "(SELECT id FROM _id_map WHERE id <> surviving_id)").fetchone()
        assert gone[0] == 0
    finally:
        con.close()


def test_missing_rate_flags_the_planted_column(report, manifest: dict) -> None:
    flagged = sorted(f"{f.table}.{f.column}" for f in report.flags)
    assert flagged == manifest["flagged_missing"]
    assert all(f.rate > f.threshold for f in report.flags)


def test_quarantine_keeps_every_rejected_row_with_its_reason(dirty_import, report) -> None:
    con = duckdb.connect(str(dirty_import.db), read_only=True)
    try:
        rows = con.execute("SELECT target_table, source, row_number, reason_code, reason_zh, reason_en, raw "
                           "FROM _quarantine").fetchall()
    finally:
        con.close()
    assert len(rows) == sum(t.quarantined_rows for t in report.tables)
    for table, source, row, code, zh, en, raw in rows:
        assert source and row >= 2 and code and zh and en and json.loads(raw)
    negative = [json.loads(r[6]) for r in rows if r[3] == "negative_amount"]
    assert negative and all(any(str(v).startswith("-") for v in raw.values()) for raw in negative)


def test_clean_values_are_catalog_values(dirty_import) -> None:
    con = duckdb.connect(str(dirty_import.db), read_only=True)
    try:
        regions = {r[0] for r in con.execute("SELECT DISTINCT region FROM customers").fetchall()}
        channels = {r[0] for r in con.execute("SELECT DISTINCT sales_channel FROM orders").fetchall()}
        statuses = {r[0] for r in con.execute("SELECT DISTINCT status FROM orders").fetchall()}
        phones = con.execute("SELECT count(*) FROM customers WHERE NOT regexp_matches(phone, '^1\\d{10}$')").fetchone()
        emails = con.execute("SELECT count(*) FROM customers WHERE email <> lower(email)").fetchone()
        dates = con.execute("SELECT min(order_date), max(order_date) FROM orders").fetchone()
    finally:
        con.close()
    assert regions == {"East", "North", "South", "Central", "Southwest", "Northwest", "Northeast"}
    assert channels == {"Online", "App", "Store", None}  # None: the planted unknown channels, nulled and logged
    assert statuses == {"completed", "returned", "cancelled"}
    assert phones[0] == 0 and emails[0] == 0
    assert str(dates[0]) >= "2023-01-01" and str(dates[1]) == "2025-12-31"


def test_schema_is_the_warehouse_contract(dirty_import, demo_db: Path) -> None:
    """Same tables, columns, types and keys as the demo warehouse (DESIGN §3)."""
    def schema(path: Path) -> list[tuple]:
        con = duckdb.connect(str(path), read_only=True)
        try:
            return con.execute("SELECT table_name, column_name, data_type, column_index FROM duckdb_columns() "
                               "WHERE table_name NOT LIKE '\\_%' ESCAPE '\\' ORDER BY 1, 4").fetchall()
        finally:
            con.close()

    assert schema(dirty_import.db) == schema(demo_db)


def test_chatbi_answers_over_the_imported_warehouse(dirty_import, manifest: dict) -> None:
    from assistant.service import ChatBI

    bi = ChatBI(dirty_import.db, llm=False, audit=False)
    answer = bi.ask("2025年各地区的销售额")
    assert answer.status == "ok", answer.message
    got = {row[0]: Decimal(str(row[1])).quantize(Decimal("0.01")) for row in answer.rows}
    assert got == {k: Decimal(v) for k, v in manifest["expected"]["revenue_2025_by_region"].items()}


def test_every_metric_compiles_and_plans_over_the_import(dirty_import, catalog) -> None:
    """The fast half of ``chatbi validate --db``: each metric alone is compiled, guarded and EXPLAINed."""
    from semantic_layer.access import allowed_schema
    from semantic_layer.compiler import compile_query
    from semantic_layer.engine import DuckDBEngine
    from semantic_layer.guard import guard_sql
    from semantic_layer.materialize import Materializer
    from semantic_layer.query import SemanticQuery

    engine = DuckDBEngine(dirty_import.db)
    try:
        as_of = engine.as_of_date()
        Materializer(catalog, engine).ensure(Materializer(catalog, engine).materialized_models(), as_of)
        tables = allowed_schema(catalog, engine.tables(), include_pii=True)
        for name in catalog.metrics:
            compiled = compile_query(SemanticQuery(metrics=[name]), catalog, as_of=as_of)
            engine.explain(guard_sql(compiled.sql, tables))
    finally:
        engine.close()


def test_report_is_written_as_html_and_json(report, tmp_path: Path) -> None:
    page, data = report.write(tmp_path / "quality.html")
    html = page.read_text(encoding="utf-8")
    assert "数据质量报告 / Data quality report" in html and "duplicate_customer" in html
    assert "<script" not in html
    again = json.loads(data.read_text(encoding="utf-8"))
    assert again["reconciled"] is True and again["counts"] == report.counts()


def test_stored_report_is_what_the_data_page_reads(dirty_import, report) -> None:
    from ingest.report import load_report

    stored = load_report(dirty_import.db)
    assert stored is not None and stored.counts() == report.counts() and stored.reconciled


def test_dirty_export_is_deterministic(tmp_path: Path, dirty_dir: Path, manifest: dict) -> None:
    again = write_dirty(tmp_path / "again", seed=7)
    assert json.dumps(again, sort_keys=True) == json.dumps(manifest, sort_keys=True)
    for name in ("orders.csv", "crm_online_customers.csv", "app_users.csv"):
        assert (tmp_path / "again" / name).read_bytes() == (dirty_dir / name).read_bytes()
    other = write_dirty(tmp_path / "other", seed=8, customers=300)
    assert other["planted"] != manifest["planted"] or other["raw_rows"] != manifest["raw_rows"]
