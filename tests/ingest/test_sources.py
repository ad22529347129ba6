"""Every source kind, read for real: CSV (BOM, GBK, TSV, broken lines), Excel, Parquet, DuckDB, PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import openpyxl
import pytest

from ingest.mapping import MappingFile, SourceMap
from ingest.pipeline import import_sources
from ingest.sources import SourceRef, list_tables, preview, stage
from semantic_layer.errors import UserError

from .conftest import TODAY

HEADER = ["客户编号", "姓名", "地区"]
ROWS = [["C1", "张伟", "华东"], ["C2", "李娜", "华北"]]


def _stage(ref: SourceRef, tmp_path: Path):
    con = duckdb.connect()
    try:
        staged = stage(con, ref, "raw_0", tmp_path)
        rows = con.execute(f"SELECT {staged.row_sql}, * FROM {staged.table} ORDER BY rowid").fetchall()
        rejects = con.execute(f"SELECT line, csv_line FROM {staged.rejects}").fetchall() if staged.rejects else []
        return staged, rows, rejects
    finally:
        con.close()


def test_csv_with_bom_and_broken_lines(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes("\ufeff客户编号,姓名,地区\nC1,张伟,华东\nC2,李娜\nC3,王芳,华南\n".encode())
    staged, rows, rejects = _stage(SourceRef(str(path)), tmp_path)
    assert staged.columns == tuple(HEADER)  # the BOM is not part of the first name
    assert [r[1] for r in rows] == ["C1", "C3"]
    assert rejects == [(3, "C2,李娜")]  # line 3 kept for the quarantine, not dropped


def test_gbk_csv_is_read_as_chinese(tmp_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes(("客户编号,姓名,地区\n" + "\n".join(",".join(r) for r in ROWS) + "\n").encode("gbk"))
    header, rows = preview(SourceRef(str(path)))
    assert header == HEADER and rows[0] == ("C1", "张伟", "华东")
    _, staged_rows, _ = _stage(SourceRef(str(path)), tmp_path)
    assert staged_rows[1][1:] == ("C2", "李娜", "华北")


def test_tsv(tmp_path: Path) -> None:
    path = tmp_path / "t.tsv"
    path.write_text("id\tname\n1\ta, b\n", encoding="utf-8")
    staged, rows, _ = _stage(SourceRef(str(path)), tmp_path)
    assert staged.columns == ("id", "name") and rows[0][1:] == ("1", "a, b")


def test_excel_sheets_rows_and_cell_types(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "客户"
    ws.append(["客户编号", "注册日期", "年龄", "金额", None])
    ws.append(["C1", dt.datetime(2025, 3, 1), 35, 88.0, None])
    ws.append([None, None, None, None, None])  # an empty row: skipped, numbering kept
    ws.append(["C2", "2025/3/2", 40.5, 12.34, "x"])
    wb.create_sheet("空表")
    notes = wb.create_sheet("订单")
    notes.append(["订单号"])
    notes.append([1])
    wb.save(path)
    assert list_tables(str(path)) == ["客户", "订单"]
    staged, rows, _ = _stage(SourceRef(str(path), "客户"), tmp_path)
    assert staged.columns == ("客户编号", "注册日期", "年龄", "金额", "column5")
    assert rows == [(2, "2", "C1", "2025-03-01", "35", "88", None), (4, "4", "C2", "2025/3/2", "40.5", "12.34", "x")]
    with pytest.raises(UserError, match="no sheet"):
        preview(SourceRef(str(path), "Sheet9"))


def test_parquet_and_duckdb_sources(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "src.duckdb"))
    con.execute("CREATE TABLE crm AS SELECT * FROM (VALUES (1, DATE '2025-03-01', 12.5::DECIMAL(10,2))) "
                "t(customer_id, signup_date, amount)")
    con.execute("CREATE TABLE _internal AS SELECT 1 AS x")
    con.execute(f"COPY crm TO '{tmp_path / 'crm.parquet'}' (FORMAT parquet)")
    con.close()
    assert list_tables(str(tmp_path / "src.duckdb")) == ["crm"]
    for ref in (SourceRef(str(tmp_path / "crm.parquet")), SourceRef(str(tmp_path / "src.duckdb"), "crm")):
        staged, rows, _ = _stage(ref, tmp_path)
        assert staged.columns == ("customer_id", "signup_date", "amount")
        assert rows == [(1, "1", "2025-03-01", "12.50")], ref


@pytest.mark.parametrize(("location", "code"), [("data.xls", 614), ("data.json", 610), ("missing.csv", 611)])
def test_unreadable_sources_are_user_errors(tmp_path: Path, location: str, code: int) -> None:
    if location.endswith(".xls"):
        (tmp_path / location).write_bytes(b"\xd0\xcf\x11\xe0 not really excel")
    elif location.endswith(".json"):
        (tmp_path / location).write_text("{}")
    with pytest.raises(UserError) as err:
        preview(SourceRef(str(tmp_path / location)))
    assert err.value.code == code


def test_postgres_source(pg_url: str, tmp_path: Path) -> None:
    """A real server (see conftest.pg_url): tables listed, previewed, streamed out with COPY and cleaned."""
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS shop CASCADE")
        conn.execute("CREATE SCHEMA shop")
        conn.execute("CREATE TABLE shop.members (member_no text, name text, region text, joined date)")
        conn.execute("CREATE TABLE shop.sales (order_no integer, member_no text, paid_at timestamp, "
                     "amount numeric(12,2), channel text)")
        conn.execute("INSERT INTO shop.members VALUES ('M1', ' 张伟', '华东', '2024-01-05'), "
                     "('M2', '李娜', 'north', NULL), (NULL, '王芳', '华南', '2024-02-01')")
        conn.execute("INSERT INTO shop.sales VALUES (1, 'M1', '2025-03-01 10:00', 100.50, '线上'), "
                     "(2, 'M2', '2025-03-02 11:00', -3, 'APP'), (3, 'M9', '2025-03-03 12:00', 20, '门店')")
    tables = list_tables(pg_url)
    assert {"shop.members", "shop.sales"} <= set(tables)
    header, rows = preview(SourceRef(pg_url, "shop.members"))
    assert header == ["member_no", "name", "region", "joined"] and rows[0] == ("M1", " 张伟", "华东", "2024-01-05")
    mapping = MappingFile(sources=[
        SourceMap(source=pg_url, table="shop.members", target="customers",
                  columns={"member_no": "customer_id", "name": "customer_name", "region": "region",
                           "joined": "signup_date"}),
        SourceMap(source=pg_url, table="shop.sales", target="orders",
                  columns={"order_no": "order_id", "member_no": "customer_id", "paid_at": "order_date",
                           "amount": "amount", "channel": "sales_channel"})])
    result = import_sources(mapping, tmp_path / "pg.duckdb", today=TODAY)
    rep = result.report
    assert rep.reconciled
    assert (rep.table("customers").clean_rows, rep.table("orders").clean_rows) == (2, 1)
    assert rep.count("missing_required", "customers", "customer_id") == 1
    assert rep.count("negative_amount", "orders", "amount") == 1
    assert rep.count("unknown_reference", "orders", "customer_id") == 1
    assert all("@" not in s.label for s in rep.sources)  # never the URL's credentials
    con = duckdb.connect(str(result.db), read_only=True)
    try:
        assert con.execute("SELECT customer_name, region FROM customers ORDER BY 1").fetchall() == [
            ("张伟", "East"), ("李娜", "North")]
        assert con.execute("SELECT order_date, amount, sales_channel FROM orders").fetchall() == [
            (dt.date(2025, 3, 1), 100.5, "Online")]
    finally:
        con.close()
