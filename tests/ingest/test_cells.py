"""The per-value SQL: one row per spelling, with what it must become (run in an in-memory DuckDB)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import pytest

from ingest.cells import macros
from ingest.noise import is_missing, shallow_rules
from ingest.rules import Rules


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    for statement in macros(Rules()):
        c.execute(statement)
    yield c
    c.close()


def _one(con: duckdb.DuckDBPyConnection, sql: str, value: str | None):
    return con.execute(f"SELECT {sql}", [value]).fetchone()[0]


@pytest.mark.parametrize(("text", "expected"), [
    ("2025-03-01", dt.date(2025, 3, 1)),
    ("2025/3/1", dt.date(2025, 3, 1)),
    ("20250301", dt.date(2025, 3, 1)),
    ("3/1/2025", dt.date(2025, 3, 1)),
    ("2025年3月1日", dt.date(2025, 3, 1)),
    ("2025.3.1", dt.date(2025, 3, 1)),
    ("2025-03-01 14:23:05", dt.date(2025, 3, 1)),
    ("2025-03-01T14:23", dt.date(2025, 3, 1)),
    ("45717", dt.date(2025, 3, 1)),  # an Excel serial day
    ("2025-02-30", None),
    ("2025/13/01", None),
    ("yesterday", None),
], ids=lambda v: str(v))
def test_dates(con, text: str, expected: dt.date | None) -> None:
    assert _one(con, "parse_date(norm(?))", text) == expected


def test_day_first_dates_when_configured() -> None:
    c = duckdb.connect()
    for statement in macros(Rules(date_order="dmy")):
        c.execute(statement)
    assert c.execute("SELECT parse_date('3/1/2025')").fetchone()[0] == dt.date(2025, 1, 3)


def test_months(con) -> None:
    for text in ("2025-03", "2025年3月", "202503", "2025-03-17"):
        assert _one(con, "parse_month(norm(?))", text) == dt.date(2025, 3, 1), text


@pytest.mark.parametrize(("text", "expected"), [
    ("88", Decimal("88.00")), ("1234.5", Decimal("1234.50")), ("¥1,234.50", Decimal("1234.50")),
    ("1234.5元", Decimal("1234.50")), ("RMB 88", Decimal("88.00")), ("１２３．５０", Decimal("123.50")),
    ("￥99", Decimal("99.00")), ("-5", Decimal("-5.00")), ("12.3.4", None), ("abc", None), ("99999999999", None),
], ids=lambda v: str(v))
def test_money(con, text: str, expected: Decimal | None) -> None:
    assert _one(con, "parse_money(norm(?))", text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("13800138000", "13800138000"), ("138-0013-8000", "13800138000"), ("+86 138 0013 8000", "13800138000"),
    ("008613800138000", "13800138000"), ("１３８００１３８０００", "13800138000"), ("(021) 6234-5678", "02162345678"),
    ("13800", None), ("call me", None),
], ids=lambda v: str(v))
def test_phones(con, text: str, expected: str | None) -> None:
    assert _one(con, "parse_phone(norm(?))", text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("35", 35), ("35岁", 35), ("３５", 35), ("35.0", 35), ("-1", -1), ("thirty", None), ("3.5", None),
], ids=lambda v: str(v))
def test_integers(con, text: str, expected: int | None) -> None:
    assert _one(con, "parse_int(norm(?))", text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    (" 张伟 ", "张伟"), ("张伟\u3000", "张伟"), ("Li   Na", "Li Na"), ("N/A", None), ("无", None), ("-", None),
    ("", None), ("   ", None), ("ＡＢＣ", "ABC"),
], ids=lambda v: repr(v))
def test_normalised_text(con, text: str, expected: str | None) -> None:
    assert _one(con, "norm(?)", text) == expected
    assert is_missing(text) == (expected is None)  # the Python twin the dirty demo counts with


@pytest.mark.parametrize(("text", "rules"), [
    ("张伟\u3000", {"fullwidth", "trim_whitespace"}), (" 张伟 ", {"trim_whitespace"}), ("１２３", {"fullwidth"}),
    ("N/A", {"null_token"}), ("张伟", set()),
], ids=lambda v: repr(v))
def test_shallow_flags_match_sql(con, text: str, rules: set[str]) -> None:
    """noise.shallow_rules (used to count planted defects) agrees with the SQL flags of cells.cell_sql."""
    row = con.execute("SELECT coalesce(? <> hw(?), false), coalesce(coalesce(squash(?), '') <> hw(?), false), "
                      "(squash(?) IS NOT NULL AND norm(?) IS NULL)", [text] * 6).fetchone()
    sql = {name for name, fired in zip(("fullwidth", "trim_whitespace", "null_token"), row) if fired}
    assert sql == rules == shallow_rules(text)


def test_numeric_keys_compare_as_numbers(con) -> None:
    assert _one(con, "key_text(norm(?))", "00123") == "123"
    assert _one(con, "key_text(norm(?))", "C00123") == "C00123"
