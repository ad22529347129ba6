"""The locked-down DuckDB engine: sandbox, limits, workspace, metadata."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from semantic_layer.engine import DuckDBEngine, QueryResult
from semantic_layer.errors import EngineError
from semantic_layer.guard import GuardedSQL, guard_sql

FIXTURES = Path(__file__).parent.parent / "fixtures" / "guard"
SCHEMA: dict[str, list[str]] = {
    "customers": ["customer_id", "customer_name", "region", "city", "signup_date"],
    "orders": ["order_id", "customer_id", "order_date", "sales_channel", "status", "amount", "cost_amount"],
}
HEAVY = "SELECT count(*) AS n FROM big a, big b WHERE (a.x * b.x) % 7 = 3"


def build_warehouse(path: Path, extra_sql: str = "") -> Path:
    con = duckdb.connect(str(path))
    con.execute((FIXTURES / "warehouse.sql").read_text(encoding="utf-8"))
    if extra_sql:
        con.execute(extra_sql)
    con.close()
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_warehouse(
        tmp_path_factory.mktemp("engine_wh") / "warehouse.duckdb",
        "CREATE TABLE big AS SELECT range AS x FROM range(200000)",
    )


@pytest.fixture(scope="module")
def eng(warehouse: Path) -> Iterator[DuckDBEngine]:
    engine = DuckDBEngine(warehouse)
    yield engine
    engine.close()


@pytest.fixture()
def fresh(tmp_path: Path) -> Iterator[DuckDBEngine]:
    """An engine over its own warehouse copy, for tests that change the workspace."""
    engine = DuckDBEngine(build_warehouse(tmp_path / "fresh.duckdb"))
    yield engine
    engine.close()


def guarded(sql: str, max_rows: int = 10_000, schema: dict[str, list[str]] | None = None) -> GuardedSQL:
    return guard_sql(sql, schema or SCHEMA, max_rows=max_rows)


# --- opening -------------------------------------------------------------------


def test_missing_file_says_how_to_build_the_demo(tmp_path: Path) -> None:
    missing = tmp_path / "nope.duckdb"
    with pytest.raises(EngineError) as info:
        DuckDBEngine(missing)
    assert info.value.code == 501
    assert f"chatbi demo --db {missing}" in info.value.message_en
    assert f"chatbi demo --db {missing}" in info.value.message_zh
    assert not missing.exists()


def test_a_file_that_is_not_duckdb_is_a_clean_error(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.duckdb"
    bogus.write_text("not a database", encoding="utf-8")
    with pytest.raises(EngineError) as info:
        DuckDBEngine(bogus)
    assert info.value.code == 507


def test_settings_in_force(eng: DuckDBEngine) -> None:
    cursor = eng._cursor()
    names = [
        "enable_external_access", "lock_configuration", "autoinstall_known_extensions",
        "autoload_known_extensions", "allow_community_extensions", "python_enable_replacements",
        "max_execution_time", "threads", "search_path",
    ]
    row = cursor.execute("SELECT " + ", ".join(f"current_setting('{n}')" for n in names)).fetchone()
    assert dict(zip(names, row or ())) == {
        "enable_external_access": False,
        "lock_configuration": True,
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "allow_community_extensions": False,
        "python_enable_replacements": False,
        "max_execution_time": 30_000,
        "threads": 2,
        "search_path": "warehouse.main,memory.main",
    }


# --- the sandbox holds without the guard ---------------------------------------------

LOCKDOWN = [
    ("copy_table_to_file", "COPY orders TO '{tmp}/out.csv'"),
    ("copy_query_to_parquet", "COPY (SELECT * FROM customers) TO '{tmp}/out.parquet' (FORMAT parquet)"),
    ("copy_file_into_workspace", "COPY memory.main.scratch FROM '{tmp}/in.csv'"),
    ("read_csv", "SELECT * FROM read_csv('{tmp}/in.csv')"),
    ("read_text", "SELECT * FROM read_text('/etc/passwd')"),
    ("string_path", "SELECT * FROM '{tmp}/in.csv'"),
    ("glob", "SELECT * FROM glob('{tmp}/*')"),
    ("remote_url", "SELECT * FROM 'https://example.com/x.csv'"),
    ("attach_file", "ATTACH '{tmp}/new.duckdb' AS other"),
    ("export_database", "EXPORT DATABASE '{tmp}/dump'"),
    ("install_extension", "INSTALL httpfs"),
    ("load_extension", "LOAD httpfs"),
    ("set_external_access", "SET enable_external_access = true"),
    ("set_global_external_access", "SET GLOBAL enable_external_access = true"),
    ("reset_external_access", "RESET enable_external_access"),
    ("unlock_configuration", "SET lock_configuration = false"),
    ("widen_allowed_directories", "SET allowed_directories = ['/']"),
    ("drop_time_limit", "SET max_execution_time = 0"),
    ("raise_memory_limit", "SET memory_limit = '64GB'"),
    ("enable_replacement_scans", "SET python_enable_replacements = true"),
    ("replacement_scan_of_local_frame", "SELECT * FROM secret_frame"),
]


@pytest.mark.parametrize("sql", [c[1] for c in LOCKDOWN], ids=[c[0] for c in LOCKDOWN])
def test_engine_refuses_external_access_and_config_changes(fresh: DuckDBEngine, tmp_path: Path, sql: str) -> None:
    (tmp_path / "in.csv").write_text("a\n1\n", encoding="utf-8")
    fresh.materialize("scratch", "SELECT 1 AS a")
    secret_frame = pd.DataFrame({"secret": ["should not be readable"]})  # noqa: F841 (replacement-scan bait)
    before = sorted(p.name for p in tmp_path.iterdir())
    cursor = fresh._cursor()
    with pytest.raises(duckdb.Error):
        cursor.execute(sql.replace("{tmp}", str(tmp_path)))
        cursor.fetchall()
    assert sorted(p.name for p in tmp_path.iterdir()) == before


WRITES = [
    ("insert", "INSERT INTO orders SELECT * FROM orders"),
    ("update", "UPDATE orders SET amount = 0"),
    ("delete", "DELETE FROM customers"),
    ("drop", "DROP TABLE orders"),
    ("alter", "ALTER TABLE orders ADD COLUMN x INTEGER"),
    ("create_unqualified", "CREATE TABLE leak AS SELECT * FROM customers"),
    ("create_in_warehouse", "CREATE TABLE warehouse.main.leak (a INTEGER)"),
    ("create_view_in_warehouse", "CREATE VIEW warehouse.main.v AS SELECT 1"),
    ("delete_in_cte", "WITH d AS (DELETE FROM orders RETURNING *) SELECT count(*) FROM d"),
]


@pytest.mark.parametrize("sql", [c[1] for c in WRITES], ids=[c[0] for c in WRITES])
def test_warehouse_is_read_only(tmp_path: Path, sql: str) -> None:
    path = build_warehouse(tmp_path / "ro.duckdb")
    digest = sha256(path)
    with DuckDBEngine(path) as engine:
        counts = engine.table_counts()
        cursor = engine._cursor()
        with pytest.raises(duckdb.Error, match="read-only"):
            cursor.execute(sql)
        assert engine.table_counts() == counts
    assert sha256(path) == digest


def test_execute_only_takes_guarded_sql(eng: DuckDBEngine) -> None:
    with pytest.raises(TypeError):
        eng.execute("SELECT 1")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "sql",
    ["SELECT 1; DROP TABLE orders", "DELETE FROM orders", "PRAGMA database_list", "SET threads = 1",
     "CALL pragma_version()"],
)
def test_forged_guarded_sql_is_refused_by_duckdbs_own_parser(eng: DuckDBEngine, sql: str) -> None:
    forged = GuardedSQL(sql=sql, tables=frozenset(), limit=10)
    with pytest.raises(EngineError) as info:
        eng.execute(forged)
    assert info.value.code == 505
    with pytest.raises(EngineError):
        eng.dataframe(forged)
    with pytest.raises(EngineError):
        eng.explain(forged)


# --- limits --------------------------------------------------------------------


def test_time_limit_stops_a_runaway_query(warehouse: Path) -> None:
    with DuckDBEngine(warehouse, max_execution_time_ms=1_000) as engine:
        with pytest.raises(EngineError) as info:
            engine.execute(guarded(HEAVY, schema={"big": ["x"]}))
        assert info.value.code == 502
        assert "longer than 1 s" in info.value.message_en
        assert "1 秒" in info.value.message_zh
        # The engine is still usable afterwards.
        assert engine.execute(guarded("SELECT count(*) AS n FROM orders")).rows == [(72,)]


def test_interrupt_cancels_the_running_query(warehouse: Path) -> None:
    with DuckDBEngine(warehouse, max_execution_time_ms=120_000) as engine:
        outcome: list[BaseException | QueryResult] = []

        def run() -> None:
            try:
                outcome.append(engine.execute(guarded(HEAVY, schema={"big": ["x"]})))
            except BaseException as err:  # noqa: BLE001 - handed to the main thread
                outcome.append(err)

        worker = threading.Thread(target=run)
        worker.start()
        deadline = time.monotonic() + 10
        while not engine._running and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)  # let the query get going inside DuckDB
        engine.interrupt()
        worker.join(timeout=30)
        assert not worker.is_alive()
        assert len(outcome) == 1 and isinstance(outcome[0], EngineError)
        assert outcome[0].code == 503


def test_memory_limit_is_a_clean_error(warehouse: Path) -> None:
    with DuckDBEngine(warehouse, memory_limit="16MB") as engine:
        with pytest.raises(EngineError) as info:
            engine.execute(guarded(
                "SELECT list(md5(CAST(a.x * 100 + b.x AS VARCHAR)) ORDER BY a.x DESC)[1] AS top "
                "FROM big a, (SELECT x FROM big LIMIT 20) b",
                schema={"big": ["x"]},
            ))
        assert info.value.code == 504


@pytest.mark.parametrize(
    ("sql", "max_rows", "rows", "truncated"),
    [
        ("SELECT order_id FROM orders", 5, 5, True),
        ("SELECT order_id FROM orders", 71, 71, True),
        ("SELECT order_id FROM orders", 72, 72, False),
        ("SELECT order_id FROM orders", 1_000, 72, False),
        ("SELECT order_id FROM orders LIMIT 3", 5, 3, False),
        ("SELECT order_id FROM orders LIMIT 10", 5, 5, True),
        ("SELECT order_id FROM orders UNION ALL SELECT customer_id FROM customers", 80, 80, True),
    ],
)
def test_truncated_flag(eng: DuckDBEngine, sql: str, max_rows: int, rows: int, truncated: bool) -> None:
    result = eng.execute(guarded(sql, max_rows=max_rows))
    assert len(result.rows) == rows
    assert result.truncated is truncated
    assert result.elapsed_ms >= 0


def test_rows_are_python_values_with_decimal_as_float(eng: DuckDBEngine) -> None:
    result = eng.execute(guarded("SELECT order_id, order_date, amount FROM orders ORDER BY order_id LIMIT 1"))
    assert result.columns == ["order_id", "order_date", "amount"]
    assert result.rows == [(1, date(2025, 1, 8), 47.25)]
    assert isinstance(result.rows[0][2], float)


def test_dataframe(eng: DuckDBEngine) -> None:
    frame = eng.dataframe(guarded("SELECT order_id, amount FROM orders ORDER BY order_id", max_rows=10))
    assert list(frame.columns) == ["order_id", "amount"]
    assert len(frame) == 10
    assert frame["amount"].dtype == "float64"


def test_explain_plans_without_running(eng: DuckDBEngine) -> None:
    plan = eng.explain(guarded("SELECT region, count(*) AS n FROM customers GROUP BY region"))
    assert "customers" in plan.lower()
    with pytest.raises(EngineError) as info:  # the guard cannot know types; the binder does
        eng.explain(guarded("SELECT region + 1 AS bad FROM customers"))
    assert info.value.code == 506


def test_threads_each_take_a_cursor(eng: DuckDBEngine) -> None:
    queries = [guarded(f"SELECT count(*) AS n FROM orders WHERE customer_id = {i % 11 + 1}") for i in range(40)]
    expected = [eng.execute(q).rows for q in queries[:11]]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(eng.execute, queries))
    assert [r.rows for r in results] == [expected[i % 11] for i in range(40)]


# --- workspace -------------------------------------------------------------------


def test_materialize_is_visible_to_fresh_cursors_and_the_guard(fresh: DuckDBEngine) -> None:
    fresh.materialize(
        "customer_totals",
        "SELECT customer_id, SUM(amount) AS total FROM orders WHERE status = 'completed' GROUP BY customer_id",
    )
    tables = fresh.tables()
    assert tables["customer_totals"] == ["customer_id", "total"]
    assert list(tables)[-1] == "customer_totals"  # warehouse tables first
    assert fresh.table_counts()["customer_totals"] == 11
    cursor = fresh._cursor()
    assert cursor.execute("SELECT count(*) FROM customer_totals").fetchone() == (11,)
    schema = {**SCHEMA, "customer_totals": tables["customer_totals"]}
    result = fresh.execute(guarded(
        "SELECT c.region, SUM(t.total) AS total FROM customer_totals t JOIN customers c USING (customer_id) "
        "GROUP BY c.region", schema=schema))
    assert len(result.rows) == 4
    # CREATE OR REPLACE: materialising again replaces the table.
    fresh.materialize("customer_totals", "SELECT 1 AS customer_id, 2.0 AS total")
    assert fresh.table_counts()["customer_totals"] == 1


def test_register_frame_stores_a_real_table(fresh: DuckDBEngine) -> None:
    frame = pd.DataFrame({"customer_id": [1, 2, 3], "clv": [10.5, 20.25, 0.0]})
    fresh.register_frame("clv", frame)
    del frame  # the table must not depend on the Python object
    assert fresh.tables()["clv"] == ["customer_id", "clv"]
    result = fresh.execute(guarded("SELECT customer_id, clv FROM clv ORDER BY customer_id",
                                   schema={"clv": ["customer_id", "clv"]}))
    assert result.rows == [(1, 10.5), (2, 20.25), (3, 0.0)]
    assert not any(name.startswith("_chatbi_frame") for name in fresh.tables())


def test_workspace_names_are_checked(fresh: DuckDBEngine) -> None:
    with pytest.raises(ValueError):
        fresh.materialize("orders", "SELECT 1 AS a")  # would shadow the warehouse
    with pytest.raises(ValueError):
        fresh.materialize("Bad-Name", "SELECT 1 AS a")
    with pytest.raises(ValueError):
        fresh.register_frame("x; DROP TABLE orders", pd.DataFrame({"a": [1]}))


def test_materialize_cannot_reach_files(fresh: DuckDBEngine, tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_text("a\n1\n", encoding="utf-8")
    with pytest.raises(EngineError) as info:
        fresh.materialize("leak", f"SELECT * FROM read_csv('{tmp_path}/in.csv')")
    assert info.value.code == 505


def test_workspace_is_per_engine(warehouse: Path) -> None:
    with DuckDBEngine(warehouse) as first, DuckDBEngine(warehouse) as second:
        first.materialize("only_here", "SELECT 1 AS a")
        assert "only_here" in first.tables()
        assert "only_here" not in second.tables()


# --- metadata ----------------------------------------------------------------------


def test_tables_and_counts(eng: DuckDBEngine) -> None:
    tables = eng.tables()
    assert tables["customers"] == ["customer_id", "customer_name", "region", "city", "signup_date", "email"]
    assert tables["orders"] == SCHEMA["orders"]
    counts = eng.table_counts()
    assert (counts["customers"], counts["orders"], counts["internal_notes"]) == (12, 72, 1)


def test_as_of_date(eng: DuckDBEngine, tmp_path: Path) -> None:
    assert eng.as_of_date() == date(2025, 12, 29)
    path = tmp_path / "no_orders.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE customers (customer_id INTEGER)")
    con.close()
    with DuckDBEngine(path) as engine:
        assert engine.as_of_date() is None


def test_data_version_changes_with_the_file(tmp_path: Path) -> None:
    path = build_warehouse(tmp_path / "v.duckdb")
    with DuckDBEngine(path) as engine:
        first = engine.data_version()
        assert engine.data_version() == first
    with DuckDBEngine(path) as engine:
        assert engine.data_version() == first
    con = duckdb.connect(str(path))
    con.execute("INSERT INTO internal_notes VALUES ('changed')")
    con.close()
    with DuckDBEngine(path) as engine:
        assert engine.data_version() != first


def test_closed_engine_refuses_queries(warehouse: Path) -> None:
    engine = DuckDBEngine(warehouse)
    temp_dir = Path(engine._temp_dir)
    assert temp_dir.is_dir()
    engine.close()
    engine.close()  # idempotent
    assert not temp_dir.exists()
    with pytest.raises(EngineError) as info:
        engine.execute(guarded("SELECT 1 AS one"))
    assert info.value.code == 507
