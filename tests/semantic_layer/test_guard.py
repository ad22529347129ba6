"""The SQL guard against a corpus of attacks and legitimate queries.

Attacks must be refused with their expected code, and running them (guard +
engine, then raw on the locked-down engine) must leave the warehouse file and
the file system untouched. Legitimate queries must pass and return the same rows
as running them directly.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlglot
import yaml
from sqlglot import exp

from semantic_layer.engine import DuckDBEngine
from semantic_layer.errors import GuardError
from semantic_layer.guard import GuardedSQL, guard_sql

FIXTURES = Path(__file__).parent.parent / "fixtures" / "guard"
ATTACKS: list[dict[str, Any]] = yaml.safe_load((FIXTURES / "attacks.yaml").read_text(encoding="utf-8"))
LEGIT: list[dict[str, Any]] = yaml.safe_load((FIXTURES / "legit.yaml").read_text(encoding="utf-8"))

# customers.email is PII and internal_notes is internal: neither is in the schema.
SCHEMA: dict[str, list[str]] = {
    "customers": ["customer_id", "customer_name", "region", "city", "signup_date"],
    "orders": ["order_id", "customer_id", "order_date", "sales_channel", "status", "amount", "cost_amount"],
}


def build_warehouse(path: Path) -> Path:
    con = duckdb.connect(str(path))
    con.execute((FIXTURES / "warehouse.sql").read_text(encoding="utf-8"))
    con.close()
    return path


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_warehouse(tmp_path_factory.mktemp("guard_wh") / "warehouse.duckdb")


@pytest.fixture(scope="module")
def guard_engine(warehouse: Path) -> Iterator[DuckDBEngine]:
    eng = DuckDBEngine(warehouse)
    yield eng
    eng.close()


def _ids(cases: list[dict[str, Any]]) -> list[str]:
    return [str(c["id"]) for c in cases]


def test_corpus_is_large_and_ids_are_unique() -> None:
    assert len(ATTACKS) >= 60
    assert len(LEGIT) >= 25
    ids = _ids(ATTACKS) + _ids(LEGIT)
    assert len(ids) == len(set(ids))
    assert {c["code"] for c in ATTACKS} == set(range(310, 319))


# --- attacks -------------------------------------------------------------------


@pytest.mark.parametrize("case", ATTACKS, ids=_ids(ATTACKS))
def test_attack_is_refused_with_its_code(case: dict[str, Any], tmp_path: Path) -> None:
    sql = case["sql"].replace("{tmp}", str(tmp_path))
    with pytest.raises(GuardError) as info:
        guard_sql(sql, SCHEMA)
    err = info.value
    assert err.code == case["code"], f"{err.code}: {err.message_en}"
    assert err.message_zh and err.message_en and err.message_zh != err.message_en
    assert f"[{err.code}]" in str(err)


def _snapshot(*dirs: Path) -> dict[str, tuple[int, str]]:
    """Every file under dirs with its size and content hash."""
    files: dict[str, tuple[int, str]] = {}
    for d in dirs:
        for f in sorted(d.rglob("*")):
            if f.is_file():
                files[str(f)] = (f.stat().st_size, hashlib.sha256(f.read_bytes()).hexdigest())
    return files


def _state(warehouse: Path) -> tuple[dict[str, list[str]], dict[str, int]]:
    with DuckDBEngine(warehouse) as eng:
        return eng.tables(), eng.table_counts()


@pytest.mark.parametrize("case", ATTACKS, ids=_ids(ATTACKS))
def test_attack_writes_nothing(
    case: dict[str, Any], warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guard + engine executes nothing; the raw SQL on the engine writes nothing either."""
    monkeypatch.chdir(tmp_path)  # relative paths in an attack would land here
    (tmp_path / "secret.csv").write_text("column0\n42\n", encoding="utf-8")
    sql = case["sql"].replace("{tmp}", str(tmp_path))
    before_files = _snapshot(warehouse.parent, tmp_path)
    before_state = _state(warehouse)

    eng = DuckDBEngine(warehouse, max_execution_time_ms=3_000, memory_limit="512MB")
    try:
        with pytest.raises(GuardError):
            eng.execute(guard_sql(sql, SCHEMA))
        # Defence in depth: no guard in front, straight into a DuckDB cursor.
        cursor = eng._cursor()
        try:
            cursor.execute(sql)
            cursor.fetchmany(10)
            engine_refused = False
        except duckdb.Error:
            engine_refused = True
        finally:
            cursor.close()
    finally:
        eng.close()

    if case.get("engine_blocks"):
        assert engine_refused, "the locked-down engine ran it"
    assert _snapshot(warehouse.parent, tmp_path) == before_files
    assert _state(warehouse) == before_state


# --- legitimate queries ----------------------------------------------------------


def _normal(value: Any) -> Any:
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float):
        return round(value, 6) if math.isfinite(value) else repr(value)
    if isinstance(value, list):
        return tuple(_normal(v) for v in value)
    return value


def _sorted_rows(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    normal = [tuple(_normal(v) for v in row) for row in rows]
    return sorted(normal, key=lambda r: tuple((v is None, str(type(v)), repr(v)) for v in r))


@pytest.mark.parametrize("case", LEGIT, ids=_ids(LEGIT))
def test_legit_query_passes_and_matches_direct_run(case: dict[str, Any], guard_engine: DuckDBEngine) -> None:
    guarded = guard_sql(case["sql"], SCHEMA)
    assert isinstance(guarded, GuardedSQL)
    assert guarded.sql != case["sql"]  # regenerated, never the original text
    result = guard_engine.execute(guarded)
    cursor = guard_engine._cursor()
    try:
        direct = cursor.execute(case["sql"]).fetchall()
        width = len(cursor.description or [])
    finally:
        cursor.close()
    assert not result.truncated
    assert len(result.columns) == width
    assert _sorted_rows(result.rows) == _sorted_rows(direct)


def test_legit_queries_name_only_schema_tables() -> None:
    for case in LEGIT:
        assert guard_sql(case["sql"], SCHEMA).tables <= set(SCHEMA)


# --- limits --------------------------------------------------------------------

LIMIT_CASES = [
    ("no_limit", "SELECT order_id FROM orders", 10, 10, True),
    ("smaller_limit_kept", "SELECT order_id FROM orders LIMIT 5", 10, 5, False),
    ("equal_limit_kept", "SELECT order_id FROM orders LIMIT 10", 10, 10, False),
    ("huge_limit_capped", "SELECT order_id FROM orders LIMIT 1000000000", 10, 10, True),
    ("offset_kept", "SELECT order_id FROM orders ORDER BY order_id LIMIT 3 OFFSET 2", 10, 3, False),
    ("union_limit_capped",
     "SELECT order_id FROM orders UNION ALL SELECT customer_id FROM customers LIMIT 1000", 10, 10, True),
    ("union_no_limit", "SELECT order_id FROM orders UNION ALL SELECT customer_id FROM customers", 10, 10, True),
    ("union_small_limit", "SELECT order_id FROM orders UNION ALL SELECT customer_id FROM customers LIMIT 4", 10, 4, False),
    ("union_of_limited_parts",
     "(SELECT order_id FROM orders LIMIT 100) UNION ALL (SELECT order_id FROM orders LIMIT 100)", 10, 10, True),
    ("subquery_huge_limit", "SELECT t.order_id FROM (SELECT order_id FROM orders LIMIT 1000000) t", 10, 10, True),
    ("cte_huge_limit",
     "WITH t AS (SELECT order_id FROM orders LIMIT 1000000) SELECT order_id FROM t", 10, 10, True),
    ("intersect_capped", "SELECT customer_id FROM orders INTERSECT SELECT customer_id FROM customers", 3, 3, True),
]


@pytest.mark.parametrize(("sql", "max_rows", "expected", "capped"),
                         [c[1:] for c in LIMIT_CASES], ids=[c[0] for c in LIMIT_CASES])
def test_limit_never_widens(sql: str, max_rows: int, expected: int, capped: bool, guard_engine: DuckDBEngine) -> None:
    guarded = guard_sql(sql, SCHEMA, max_rows=max_rows)
    assert guarded.limit == expected
    assert guarded.capped is capped
    root = sqlglot.parse_one(guarded.sql, read="duckdb")
    limit = root.args["limit"]
    assert isinstance(limit, exp.Limit) and int(limit.expression.this) == expected
    result = guard_engine.execute(guarded)
    assert len(result.rows) <= expected
    assert result.truncated is capped  # every capped case here has more rows than the cap


def test_max_rows_must_be_positive() -> None:
    with pytest.raises(ValueError):
        guard_sql("SELECT order_id FROM orders", SCHEMA, max_rows=0)


# --- what the regenerated SQL looks like ------------------------------------------


def test_star_expands_to_schema_columns_only(guard_engine: DuckDBEngine) -> None:
    for sql in ("SELECT * FROM customers", "SELECT c.* FROM customers c", "FROM customers"):
        result = guard_engine.execute(guard_sql(sql, SCHEMA))
        assert result.columns == SCHEMA["customers"]
        assert not any("@" in str(v) for row in result.rows for v in row)


def test_output_names_keep_the_users_aliases(guard_engine: DuckDBEngine) -> None:
    guarded = guard_sql(
        "SELECT Region, SUM(amount) AS Revenue, COUNT(*) FROM orders JOIN customers USING (customer_id) "
        "GROUP BY Region ORDER BY revenue DESC",
        SCHEMA,
    )
    result = guard_engine.execute(guarded)
    assert result.columns == ["region", "Revenue", "COUNT(*)"]
    revenues = [row[1] for row in result.rows]
    assert revenues == sorted(revenues, reverse=True)


def test_comments_are_dropped_from_the_regenerated_sql() -> None:
    guarded = guard_sql("SELECT order_id /* note */ FROM orders -- trailing */ ; DROP\n", SCHEMA)
    assert "/*" not in guarded.sql and "--" not in guarded.sql and "DROP" not in guarded.sql


def test_tables_lists_schema_tables_not_ctes() -> None:
    guarded = guard_sql(
        "WITH t AS (SELECT customer_id FROM orders) SELECT c.region FROM t JOIN customers c USING (customer_id)",
        SCHEMA,
    )
    assert guarded.tables == frozenset({"orders", "customers"})


def test_schema_names_are_case_insensitive() -> None:
    guarded = guard_sql('SELECT "Order_ID" FROM ORDERS', {"Orders": ["ORDER_ID"]})
    assert guarded.tables == frozenset({"orders"})


def test_unknown_names_come_with_suggestions() -> None:
    with pytest.raises(GuardError) as table:
        guard_sql("SELECT order_id FROM ordres", SCHEMA)
    assert table.value.code == 314 and "orders" in table.value.suggestions
    with pytest.raises(GuardError) as column:
        guard_sql("SELECT amout FROM orders", SCHEMA)
    assert column.value.code == 315 and "amount" in column.value.suggestions


def test_date_literals_and_chinese_text_survive_regeneration(guard_engine: DuckDBEngine) -> None:
    guarded = guard_sql(
        "SELECT '华东 ''quoted''' AS label, DATE '2025-03-01' AS d, COUNT(*) AS n FROM orders", SCHEMA
    )
    result = guard_engine.execute(guarded)
    assert result.rows == [("华东 'quoted'", date(2025, 3, 1), 72)]
