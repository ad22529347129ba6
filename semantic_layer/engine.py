"""The embedded DuckDB engine: a read-only warehouse plus a writable workspace.

Layout: one connection to ``:memory:`` (the workspace, catalog ``memory``) with
the warehouse file attached as catalog ``warehouse`` in READ_ONLY mode. Every
cursor sets ``search_path = 'warehouse.main,memory.main'``, so unqualified names
find warehouse tables first and then workspace tables (a workspace table can
never shadow a warehouse one: ``materialize`` refuses the name).

Lock-down (verified on DuckDB 2.0, see shared/NOTES.md): options fixed at connect
(no extension auto-install/auto-load, no community extensions, no pandas
replacement scans, memory, threads, temp size, ``max_execution_time``), then
``SET allowed_directories = []``, ``SET enable_external_access = false``,
``SET lock_configuration = true`` in that order. After that no SQL can read or
write files, attach databases, install or load extensions, or change a global
setting; writes to the warehouse fail because it is attached read-only. Our own
code still writes derived tables into the in-memory workspace.

User queries only arrive as ``GuardedSQL`` (``execute``, ``dataframe``, ``explain``);
the engine re-checks with DuckDB's own parser that the text is exactly one SELECT
(defence in depth). Note: ``max_execution_time`` does not stop ``sleep_ms()``
(verified); the guard refuses that function.

Error codes (all ``EngineError``, bilingual):

=====  ==============================================================
501    warehouse file missing (run ``chatbi demo --db PATH``)
502    query exceeded the time limit
503    query cancelled by ``interrupt()``
504    query exceeded the memory limit
505    refused by the engine sandbox (file access, write, non-SELECT)
506    query failed in DuckDB (any other error)
507    warehouse could not be opened, or the engine is closed
=====  ==============================================================
"""

from __future__ import annotations

import datetime
import hashlib
import re
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pandas

from semantic_layer.errors import EngineError, InternalError, first_line
from semantic_layer.guard import GuardedSQL

E_MISSING = 501
E_TIMEOUT = 502
E_CANCELLED = 503
E_MEMORY = 504
E_SANDBOX = 505
E_FAILED = 506
E_UNAVAILABLE = 507

WAREHOUSE = "warehouse"
WORKSPACE = "memory"  # the catalog name DuckDB gives a ':memory:' database
SEARCH_PATH = f"{WAREHOUSE}.main,{WORKSPACE}.main"

# Order matters: putting the first two into connect(config=...) fails, and once
# lock_configuration is on nothing global can be SET again.
_LOCKDOWN = (
    "SET allowed_directories = []",
    "SET enable_external_access = false",
    "SET lock_configuration = true",
)
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class QueryResult:
    """Rows of one guarded query; DECIMAL values come back as float."""

    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool  # the row cap cut off more rows
    elapsed_ms: float


class DuckDBEngine:
    """One locked-down DuckDB connection; a cursor per query, safe across threads."""

    dialect = "duckdb"  # the SQL dialect queries must be compiled and guarded in

    def __init__(
        self,
        db_path: str | Path,
        *,
        memory_limit: str = "2GB",
        threads: int = 2,
        max_execution_time_ms: int = 30_000,
        max_temp_directory_size: str = "1GB",
    ) -> None:
        path = Path(db_path).expanduser()
        if not path.is_file():
            raise EngineError(
                E_MISSING,
                f"找不到数据仓库文件 {path}。请先运行 `chatbi demo --db {path}` 生成演示数据。",
                f"Warehouse file not found: {path}. Run `chatbi demo --db {path}` to build the demo warehouse.",
                [f"chatbi demo --db {path}"],
            )
        self.path = path.resolve()
        self.max_execution_time_ms = max_execution_time_ms
        self._lock = threading.Lock()
        self._running: set[duckdb.DuckDBPyConnection] = set()
        self._closed = False
        self._version_cache: tuple[tuple[int, int], str] | None = None
        self._temp_dir = tempfile.mkdtemp(prefix="chatbi-duckdb-")
        config: dict[str, str | bool | int | float | list[str]] = {
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "allow_community_extensions": False,
            "python_enable_replacements": False,
            "memory_limit": memory_limit,
            "threads": threads,
            "max_temp_directory_size": max_temp_directory_size,
            "max_execution_time": max_execution_time_ms,
            "temp_directory": self._temp_dir,
        }
        try:
            self._con = duckdb.connect(":memory:", config=config)
        except duckdb.Error as err:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            raise self._unavailable(err) from None
        try:
            self._con.execute(f"ATTACH {_sql_string(str(self.path))} AS {WAREHOUSE} (READ_ONLY)")
            for statement in _LOCKDOWN:
                self._con.execute(statement)
            self._assert_locked()
        except BaseException as err:
            self._con.close()
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            if isinstance(err, duckdb.Error):
                raise self._unavailable(err) from None
            raise

    def _unavailable(self, err: duckdb.Error) -> EngineError:
        return EngineError(
            E_UNAVAILABLE,
            f"无法打开数据仓库 {self.path}:{first_line(err)}",
            f"The warehouse {self.path} could not be opened: {first_line(err)}",
        )

    def _assert_locked(self) -> None:
        row = self._con.execute(
            "SELECT current_setting('enable_external_access'), current_setting('lock_configuration')"
        ).fetchone()
        if row != (False, True):
            raise InternalError(f"DuckDB lock-down did not take effect: {row}")

    # --- cursors ---------------------------------------------------------------

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            self._require_open()
            cursor = self._con.cursor()
        # search_path is per connection: a cursor does not inherit the parent's,
        # and lock_configuration (global settings) still lets a cursor set it.
        cursor.execute(f"SET search_path = {_sql_string(SEARCH_PATH)}")
        return cursor

    def _require_open(self) -> None:
        if self._closed:
            raise EngineError(E_UNAVAILABLE, "查询引擎已关闭。", "The query engine is closed.")

    @contextmanager
    def _run(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A fresh cursor, registered so ``interrupt()`` can stop what it runs."""
        cursor = self._cursor()
        with self._lock:
            self._running.add(cursor)
        try:
            yield cursor
        except duckdb.Error as err:
            raise self._translate(err) from None
        finally:
            with self._lock:
                self._running.discard(cursor)
            try:
                cursor.close()
            except duckdb.Error:
                pass  # the engine was closed under a running query

    # --- guarded queries -------------------------------------------------------

    def execute(self, guarded: GuardedSQL) -> QueryResult:
        """Run a guarded query; fetch at most ``limit`` rows and say if more existed."""
        require_guarded(guarded)
        sql = self._checked(guarded.probe_sql or guarded.sql)
        start = time.perf_counter()
        with self._run() as cursor:
            cursor.execute(sql)
            columns = [d[0] for d in cursor.description or []]
            raw = cursor.fetchmany(guarded.limit + 1)
        elapsed = (time.perf_counter() - start) * 1000
        rows = [tuple(python_value(v) for v in row) for row in raw[: guarded.limit]]
        return QueryResult(columns, rows, len(raw) > guarded.limit, elapsed)

    def dataframe(self, guarded: GuardedSQL) -> pandas.DataFrame:
        """Run a guarded query into a DataFrame (at most ``limit`` rows)."""
        require_guarded(guarded)
        sql = self._checked(guarded.sql)
        with self._run() as cursor:
            frame: pandas.DataFrame = cursor.execute(sql).df()
        return frame

    def explain(self, guarded: GuardedSQL) -> str:
        """Plan a guarded query without running it (binder and type errors surface here)."""
        require_guarded(guarded)
        sql = self._checked(guarded.sql)
        with self._run() as cursor:
            rows = cursor.execute(f"EXPLAIN {sql}").fetchall()
        return "\n".join(str(row[-1]) for row in rows)

    def _checked(self, sql: str) -> str:
        # DuckDB's own parser must also see exactly one SELECT.
        try:
            with self._lock:
                self._require_open()
                statements = self._con.extract_statements(sql)
        except duckdb.Error as err:
            raise self._translate(err) from None
        if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
            raise EngineError(
                E_SANDBOX,
                "引擎只执行单条 SELECT 查询。",
                "The engine only runs a single SELECT query.",
            )
        return sql

    # --- trusted workspace writes ----------------------------------------------

    def materialize(self, name: str, sql: str) -> None:
        """TRUSTED: ``CREATE OR REPLACE TABLE memory.main.<name> AS <sql>``.

        For derived tables built by our own code (customer-level models), never
        for user text. Warehouse tables are visible unqualified.
        """
        target = self._workspace_name(name)
        with self._run() as cursor:
            cursor.execute(f"CREATE OR REPLACE TABLE {target} AS {sql}")

    def create_view(self, name: str, sql: str) -> None:
        """TRUSTED: ``CREATE OR REPLACE VIEW memory.main.<name> AS <sql>`` (masked views of PII tables).

        ``sql`` should name warehouse tables fully (``warehouse.main.customers``):
        a view binds its names when queried, not where it was created.
        """
        target = self._workspace_name(name)
        with self._run() as cursor:
            cursor.execute(f"CREATE OR REPLACE VIEW {target} AS {sql}")

    def register_frame(self, name: str, df: pandas.DataFrame) -> None:
        """TRUSTED: store a DataFrame as a real workspace table ``memory.main.<name>``."""
        target = self._workspace_name(name)
        view = f"_chatbi_frame_{uuid.uuid4().hex}"
        with self._run() as cursor:
            # Replacement scans are off, so the frame is registered explicitly.
            cursor.register(view, df)
            try:
                cursor.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM {_ident(view)}")
            finally:
                cursor.unregister(view)

    def _workspace_name(self, name: str) -> str:
        if not _NAME.match(name):
            raise ValueError(f"workspace table name must match {_NAME.pattern}: {name!r}")
        if name in self._catalog(WAREHOUSE):
            raise ValueError(f"{name!r} is a warehouse table; a workspace table may not shadow it")
        return f"{WORKSPACE}.main.{_ident(name)}"

    # --- catalog and metadata --------------------------------------------------

    def _catalog(self, database: str | None = None) -> dict[str, list[str]]:
        databases = (database,) if database else (WAREHOUSE, WORKSPACE)
        placeholders = ", ".join("?" for _ in databases)
        with self._run() as cursor:
            rows = cursor.execute(
                "SELECT database_name, table_name, column_name FROM duckdb_columns() "
                f"WHERE database_name IN ({placeholders}) AND schema_name = 'main' "
                "ORDER BY database_name <> ?, table_name, column_index",
                [*databases, WAREHOUSE],
            ).fetchall()
        tables: dict[str, list[str]] = {}
        for _db, table, column in rows:
            tables.setdefault(table, []).append(column)
        return tables

    def tables(self) -> dict[str, list[str]]:
        """Table → columns (in table order): warehouse tables first, then workspace."""
        return self._catalog()

    def table_counts(self) -> dict[str, int]:
        """Exact row count per table, warehouse and workspace."""
        return {**self._counts(WAREHOUSE), **self._counts(WORKSPACE)}

    def _counts(self, database: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        for table in self._catalog(database):
            with self._run() as cursor:
                row = cursor.execute(f"SELECT count(*) FROM {database}.main.{_ident(table)}").fetchone()
            counts[table] = int(row[0]) if row else 0
        return counts

    def as_of_date(self) -> datetime.date | None:
        """The data's own today: max(order_date) in orders, or None."""
        if "order_date" not in self._catalog(WAREHOUSE).get("orders", []):
            return None
        with self._run() as cursor:
            row = cursor.execute(f"SELECT max(order_date) FROM {WAREHOUSE}.main.orders").fetchone()
        value = row[0] if row else None
        if isinstance(value, datetime.datetime):
            return value.date()
        return value if isinstance(value, datetime.date) else None

    def data_version(self) -> str:
        """A short hash that changes when the warehouse file changes.

        Built from the file's path, size and mtime and the warehouse row counts
        (the counts are recomputed only when size or mtime move).
        """
        stat = self.path.stat()
        key = (stat.st_size, stat.st_mtime_ns)
        if self._version_cache is None or self._version_cache[0] != key:
            counts = self._counts(WAREHOUSE)
            text = f"{self.path}|{key}|{sorted(counts.items())}"
            self._version_cache = (key, hashlib.sha256(text.encode()).hexdigest()[:16])
        return self._version_cache[1]

    # --- lifecycle -------------------------------------------------------------

    def interrupt(self) -> None:
        """Stop every query running now (interrupting the parent connection would not)."""
        with self._lock:
            running = list(self._running)
        for cursor in running:
            cursor.interrupt()

    def close(self) -> None:
        self.interrupt()
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._con.close()
        shutil.rmtree(self._temp_dir, ignore_errors=True)

    def __enter__(self) -> DuckDBEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- errors ----------------------------------------------------------------

    def _translate(self, err: duckdb.Error) -> EngineError:
        detail = first_line(err)
        if isinstance(err, duckdb.InterruptException):
            if "execution time" in detail:
                seconds = f"{self.max_execution_time_ms / 1000:g}"
                return EngineError(
                    E_TIMEOUT,
                    f"查询超过 {seconds} 秒未完成,已停止。请缩小时间范围或减少维度。",
                    f"The query took longer than {seconds} s and was stopped. Narrow the time range or use fewer dimensions.",
                )
            return EngineError(E_CANCELLED, "查询已取消。", "The query was cancelled.")
        if isinstance(err, duckdb.OutOfMemoryException):
            return EngineError(
                E_MEMORY,
                "查询超出内存限制。请缩小时间范围或减少维度。",
                "The query ran out of memory. Narrow the time range or use fewer dimensions.",
            )
        if isinstance(err, duckdb.PermissionException) or "read-only mode" in detail:
            return EngineError(
                E_SANDBOX,
                f"查询被引擎的安全限制拒绝:{detail}",
                f"The engine's sandbox refused the query: {detail}",
            )
        return EngineError(E_FAILED, f"查询执行失败:{detail}", f"The query failed: {detail}")


def require_guarded(guarded: object, engine: str = "DuckDBEngine") -> GuardedSQL:
    """Every engine runs only what the guard admitted."""
    if not isinstance(guarded, GuardedSQL):
        raise TypeError(f"{engine} only runs GuardedSQL; call guard_sql() first")
    return guarded


def python_value(value: Any) -> Any:
    """DECIMAL → float (also inside lists, structs and maps); other values unchanged. Shared by every engine."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, list):
        return [python_value(v) for v in value]
    if isinstance(value, tuple):
        return tuple(python_value(v) for v in value)
    if isinstance(value, dict):
        return {k: python_value(v) for k, v in value.items()}
    return value


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
