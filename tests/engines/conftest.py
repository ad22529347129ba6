"""Engines under test: PostgreSQL (a real server, ``CHATBI_TEST_PG_DSN``) and Spark local mode.

Under CI (``CI=true``) a missing server, driver or Java fails the tests: .ci/run
installs and starts them. Locally they skip and say why.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import shutil
import uuid
from pathlib import Path
from types import ModuleType

import pytest

AS_OF = dt.date(2025, 12, 31)
TESTS = Path(__file__).resolve().parent.parent


def unavailable(reason: str) -> None:
    """Fail under CI, skip locally."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: .ci/run must provide it)", pytrace=False)
    pytest.skip(reason)


def load_test_module(relative: str) -> ModuleType:
    """Another test file's tables (HAND, SHAPES, CASES), loaded by path (importlib import mode)."""
    path = TESTS / relative
    spec = importlib.util.spec_from_file_location(f"_chatbi_{path.stem}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def pg_dsn() -> str:
    dsn = os.environ.get("CHATBI_TEST_PG_DSN", "")
    if not dsn:
        unavailable("no PostgreSQL server: set CHATBI_TEST_PG_DSN (bash .ci/run starts one)")
    try:
        import psycopg

        with psycopg.connect(dsn, connect_timeout=5) as con:
            con.execute("SELECT 1")
    except Exception as err:  # noqa: BLE001
        unavailable(f"PostgreSQL at CHATBI_TEST_PG_DSN is not reachable: {err}")
    return dsn


@pytest.fixture(scope="session")
def pg_schemas(pg_dsn: str, demo_db: Path):
    """The demo warehouse copied into a per-run schema (runs in parallel never collide)."""
    import psycopg

    from semantic_layer.engines.load import copy_to_postgres

    suffix = uuid.uuid4().hex[:8]
    schema, work = f"chatbi_test_{suffix}", f"chatbi_work_{suffix}"
    copy_to_postgres(demo_db, pg_dsn, schema=schema)
    yield schema, work
    with psycopg.connect(pg_dsn, autocommit=True) as con:
        con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        con.execute(f'DROP SCHEMA IF EXISTS "{work}" CASCADE')


@pytest.fixture(scope="session")
def pg_engine(pg_dsn: str, pg_schemas: tuple[str, str]):
    from semantic_layer.engines.postgres import PostgresEngine

    schema, work = pg_schemas
    eng = PostgresEngine(pg_dsn, schema=schema, work_schema=work, max_execution_time_ms=60_000)
    yield eng
    eng.close()


@pytest.fixture(scope="session")
def spark_engine(demo_db: Path, tmp_path_factory: pytest.TempPathFactory):
    try:
        import pyspark  # noqa: F401
    except ImportError:
        unavailable("pyspark is not installed (pip install -e '.[test]')")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        unavailable("no Java runtime for Spark (apt-get install default-jre-headless)")
    from semantic_layer.engines.load import export_parquet
    from semantic_layer.engines.spark import SparkEngine

    directory = tmp_path_factory.mktemp("parquet")
    export_parquet(demo_db, directory)
    eng = SparkEngine(parquet_dir=directory, master=os.environ.get("CHATBI_TEST_SPARK_MASTER", "local[2]"),
                      max_execution_time_ms=120_000)
    yield eng
    eng.close()


@pytest.fixture(params=["pg", "spark"], ids=["postgres", "spark"])
def other_engine(request: pytest.FixtureRequest):
    """Each non-DuckDB engine in turn."""
    return request.getfixturevalue(f"{request.param}_engine")
