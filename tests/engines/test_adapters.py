"""Engine adapters: the same guard, row rules and masking on every engine; their own walls behind it."""

from __future__ import annotations

import pytest

from semantic_layer.access import allowed_schema
from semantic_layer.compiler import compile_query
from semantic_layer.engine import E_SANDBOX, E_TIMEOUT
from semantic_layer.engines.workspace import create_masked_views
from semantic_layer.errors import EngineError, GuardError
from semantic_layer.guard import GuardedSQL, guard_sql
from semantic_layer.policy import Principal, resolve_access
from semantic_layer.query import SemanticQuery

from .conftest import AS_OF

WANG = Principal("wang", "manager", attributes={"regions": ("East",)})


def test_result_shape_and_row_cap(other_engine) -> None:
    guarded = guard_sql("SELECT customer_id, region FROM customers ORDER BY customer_id", other_engine.tables(),
                        max_rows=5, dialect=other_engine.dialect)
    result = other_engine.execute(guarded)
    assert result.columns == ["customer_id", "region"]
    assert len(result.rows) == 5 and result.truncated
    assert [r[0] for r in result.rows] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("sql", [
    "DELETE FROM orders",
    "SELECT 1; DROP TABLE orders",
    "SELECT * FROM orders.x",
    "SELECT pg_read_file('/etc/passwd') FROM orders",
    "SELECT reflect('java.lang.System', 'exit', 1) FROM orders",
    "SELECT java_method('java.lang.Runtime', 'getRuntime') FROM orders",
])
def test_guard_refuses_in_every_dialect(other_engine, sql: str) -> None:
    with pytest.raises(GuardError):
        guard_sql(sql, other_engine.tables(), dialect=other_engine.dialect)


def test_engine_runs_one_select_only(other_engine) -> None:
    """Defence in depth: even a GuardedSQL built by hand must be a single SELECT."""
    for sql in ("SELECT 1; DROP TABLE orders", "DROP TABLE orders"):
        with pytest.raises(EngineError) as err:
            other_engine.execute(GuardedSQL(sql=sql, tables=frozenset(), limit=10))
        assert err.value.code == E_SANDBOX


def test_row_rules_and_masking(other_engine, catalog, raw_con) -> None:
    """A manager of East sees East only, and customer names masked through the engine's masked view."""
    create_masked_views(other_engine, catalog)
    access = resolve_access(catalog.policy, WANG)
    schema = allowed_schema(catalog, other_engine.tables(), include_pii=False)
    revenue = compile_query(SemanticQuery(metrics=["revenue"], dimensions=["region"]), catalog, as_of=AS_OF,
                            dialect=other_engine.dialect, access=access)
    rows = other_engine.execute(guard_sql(revenue.sql, schema, dialect=other_engine.dialect)).rows
    east = raw_con.execute("SELECT SUM(o.amount) FROM orders o JOIN customers c USING (customer_id) "
                           "WHERE o.status = 'completed' AND c.region = 'East'").fetchone()[0]
    assert [r[0] for r in rows] == ["East"] and abs(rows[0][1] - float(east)) < 1e-6

    names = compile_query(SemanticQuery(metrics=["customer_count"], dimensions=["customer_id", "customer_name"],
                                        order_by=[{"field": "customer_id", "desc": False}], limit=5),
                          catalog, as_of=AS_OF, dialect=other_engine.dialect, access=access)
    assert "customers__masked" in names.sql
    got = other_engine.execute(guard_sql(names.sql, schema, dialect=other_engine.dialect)).rows
    plain = dict(raw_con.execute("SELECT customer_id, customer_name FROM customers WHERE region = 'East' "
                                 "ORDER BY customer_id LIMIT 5").fetchall())
    from semantic_layer.masking import mask_value

    assert {r[0]: r[1] for r in got} == {k: mask_value("name", v) for k, v in plain.items()}


def test_postgres_transactions_are_read_only(pg_engine) -> None:
    """A write the guard would never pass is still refused by the server's read-only transaction."""
    sql = "WITH gone AS (DELETE FROM orders RETURNING order_id) SELECT count(*) FROM gone"
    with pytest.raises(EngineError) as err:
        pg_engine.execute(GuardedSQL(sql=sql, tables=frozenset({"orders"}), limit=10))
    assert err.value.code in (E_SANDBOX, 506)
    assert pg_engine.table_counts()["orders"] > 0


def test_postgres_statement_timeout(pg_dsn, pg_schemas) -> None:
    from semantic_layer.engines.postgres import PostgresEngine

    schema, work = pg_schemas
    with PostgresEngine(pg_dsn, schema=schema, work_schema=work, max_execution_time_ms=300) as eng:
        slow = GuardedSQL(sql="SELECT count(*) FROM orders a CROSS JOIN orders b", tables=frozenset({"orders"}), limit=1)
        with pytest.raises(EngineError) as err:
            eng.execute(slow)
        assert err.value.code == E_TIMEOUT


def test_spark_query_timeout_cancels_the_job(spark_engine) -> None:
    previous = spark_engine.max_execution_time_ms
    spark_engine.max_execution_time_ms = 1500
    try:
        slow = GuardedSQL(sql="SELECT count(*) FROM order_items a CROSS JOIN orders b WHERE a.quantity + b.order_id < 0",
                          tables=frozenset({"orders", "order_items"}), limit=1)
        with pytest.raises(EngineError) as err:
            spark_engine.execute(slow)
        assert err.value.code == E_TIMEOUT
    finally:
        spark_engine.max_execution_time_ms = previous
    assert spark_engine.execute(guard_sql("SELECT count(*) AS n FROM products", spark_engine.tables(),
                                          dialect="spark")).rows == [(720,)]


def test_spark_cannot_read_files_by_path(spark_engine, demo_db) -> None:
    sql = f"SELECT * FROM parquet.`{demo_db.parent}`"
    with pytest.raises(EngineError):
        spark_engine.execute(GuardedSQL(sql=sql, tables=frozenset(), limit=1))
