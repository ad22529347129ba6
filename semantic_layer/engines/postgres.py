"""PostgreSQL engine: guarded SELECTs in read-only transactions, customer models in their own schema.

Layout: warehouse tables in ``schema`` (default ``public``); customer-level
models and masked views, written by trusted code only, in ``work_schema``
(default ``chatbi_work``). Every session's ``search_path`` is
``<schema>, <work_schema>``: unqualified names find warehouse tables first, and
``materialize`` refuses a warehouse name, so a workspace table never shadows one.

User queries (``execute``, ``dataframe``, ``explain``) run on read-only
connections (``default_transaction_read_only = on``) inside a transaction that
also says ``SET TRANSACTION READ ONLY``, with ``statement_timeout`` per
statement, and fetch at most ``limit + 1`` rows. Grant the DSN's role SELECT
only on the warehouse schema in production, and pass ``work_dsn`` for a role
that may write ``work_schema`` (docs/engines.md).

Errors are the DuckDB engine's codes (502 timeout, 503 cancelled, 505 refused,
506 failed, 507 unavailable).
"""

from __future__ import annotations

import datetime
import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pandas

from semantic_layer.engine import (
    E_CANCELLED, E_FAILED, E_SANDBOX, E_TIMEOUT, E_UNAVAILABLE, QueryResult,
)
from semantic_layer.errors import EngineError
from semantic_layer.guard import GuardedSQL

from .base import NAME, check_single_select, first_line, python_value, require_guarded
from .load import pg_options

_FRAME_TYPES = {"i": "bigint", "u": "bigint", "f": "double precision", "b": "boolean", "M": "timestamp"}


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class PostgresEngine:
    """Guarded queries on a PostgreSQL server through psycopg 3; safe across threads."""

    dialect = "postgres"

    def __init__(self, dsn: str, *, schema: str = "public", work_schema: str = "chatbi_work",
                 work_dsn: str | None = None, max_execution_time_ms: int = 30_000, pool_size: int = 4,
                 **_ignored: Any) -> None:
        import psycopg

        self._psycopg = psycopg
        self.dsn = dsn
        self.schema = schema
        self.work_schema = work_schema
        self.max_execution_time_ms = max_execution_time_ms
        self._pool_size = pool_size
        self._idle: list[Any] = []
        self._running: set[Any] = set()
        self._lock = threading.Lock()
        self._closed = False
        search_path = f"{_ident(schema)},{_ident(work_schema)}"
        self._read_options = pg_options(default_transaction_read_only="on", search_path=search_path,
                                        statement_timeout=max_execution_time_ms)
        try:
            self._work = psycopg.connect(work_dsn or dsn, autocommit=True,
                                         options=pg_options(search_path=search_path))
            self._work.execute(f"CREATE SCHEMA IF NOT EXISTS {_ident(work_schema)}")
        except psycopg.Error as err:
            raise self._unavailable(err) from None
        self._work_lock = threading.Lock()

    def _unavailable(self, err: BaseException) -> EngineError:
        return EngineError(E_UNAVAILABLE, f"无法连接 PostgreSQL:{first_line(err)}",
                           f"PostgreSQL could not be reached: {first_line(err)}")

    # --- connections -----------------------------------------------------------

    def _acquire(self) -> Any:
        with self._lock:
            if self._closed:
                raise EngineError(E_UNAVAILABLE, "查询引擎已关闭。", "The query engine is closed.")
            if self._idle:
                return self._idle.pop()
        try:
            return self._psycopg.connect(self.dsn, options=self._read_options)
        except self._psycopg.Error as err:
            raise self._unavailable(err) from None

    def _release(self, conn: Any, healthy: bool) -> None:
        with self._lock:
            if healthy and not self._closed and len(self._idle) < self._pool_size and not conn.closed:
                self._idle.append(conn)
                return
        conn.close()

    @contextmanager
    def _read(self) -> Iterator[Any]:
        """A cursor in a fresh READ ONLY transaction, rolled back afterwards; cancellable."""
        conn = self._acquire()
        with self._lock:
            self._running.add(conn)
        healthy = True
        try:
            with conn.cursor() as cur:
                cur.execute("SET TRANSACTION READ ONLY")
                yield cur
        except self._psycopg.Error as err:
            healthy = not conn.broken
            raise self._translate(err) from None
        finally:
            with self._lock:
                self._running.discard(conn)
            try:
                conn.rollback()
            except self._psycopg.Error:
                healthy = False
            self._release(conn, healthy)

    # --- guarded queries -------------------------------------------------------

    def execute(self, guarded: GuardedSQL) -> QueryResult:
        guarded = require_guarded(guarded, "PostgresEngine")
        sql = check_single_select(guarded.probe_sql or guarded.sql, self.dialect)
        start = time.perf_counter()
        with self._read() as cur:
            cur.execute(sql)
            columns = [d.name for d in cur.description or []]
            raw = cur.fetchmany(guarded.limit + 1)
        elapsed = (time.perf_counter() - start) * 1000
        rows = [tuple(python_value(v) for v in row) for row in raw[: guarded.limit]]
        return QueryResult(columns, rows, len(raw) > guarded.limit, elapsed)

    def dataframe(self, guarded: GuardedSQL) -> pandas.DataFrame:
        guarded = require_guarded(guarded, "PostgresEngine")
        sql = check_single_select(guarded.sql, self.dialect)
        with self._read() as cur:
            cur.execute(sql)
            columns = [d.name for d in cur.description or []]
            rows = cur.fetchall()
        frame = pandas.DataFrame([tuple(python_value(v) for v in r) for r in rows], columns=columns)
        return frame

    def explain(self, guarded: GuardedSQL) -> str:
        guarded = require_guarded(guarded, "PostgresEngine")
        sql = check_single_select(guarded.sql, self.dialect)
        with self._read() as cur:
            cur.execute(f"EXPLAIN {sql}")
            return "\n".join(str(r[0]) for r in cur.fetchall())

    # --- trusted workspace writes ----------------------------------------------

    def _workspace_name(self, name: str) -> str:
        if not NAME.match(name):
            raise ValueError(f"workspace table name must match {NAME.pattern}: {name!r}")
        if name in self._catalog(self.schema):
            raise ValueError(f"{name!r} is a warehouse table; a workspace table may not shadow it")
        return f"{_ident(self.work_schema)}.{_ident(name)}"

    def _drop(self, cur: Any, target: str, name: str) -> None:
        cur.execute("SELECT table_type FROM information_schema.tables WHERE table_schema = %s AND table_name = %s",
                    (self.work_schema, name))
        row = cur.fetchone()
        if row:
            cur.execute(f"DROP {'VIEW' if row[0] == 'VIEW' else 'TABLE'} {target} CASCADE")

    def _write(self, statements: list[tuple[str, Any]], name: str) -> None:
        target = self._workspace_name(name)
        with self._work_lock, self._work.transaction(), self._work.cursor() as cur:
            self._drop(cur, target, name)
            for sql, params in statements:
                cur.execute(sql.replace("{target}", target), params)

    def materialize(self, name: str, sql: str) -> None:
        """TRUSTED: ``CREATE TABLE <work_schema>.<name> AS <sql>`` (replacing any old one)."""
        try:
            self._write([(f"CREATE TABLE {{target}} AS {sql}", None), ("ANALYZE {target}", None)], name)
        except self._psycopg.Error as err:
            raise self._translate(err) from None

    def create_view(self, name: str, sql: str) -> None:
        """TRUSTED: ``CREATE VIEW <work_schema>.<name> AS <sql>`` (masked views of PII tables)."""
        try:
            self._write([(f"CREATE VIEW {{target}} AS {sql}", None)], name)
        except self._psycopg.Error as err:
            raise self._translate(err) from None

    def register_frame(self, name: str, df: pandas.DataFrame) -> None:
        """TRUSTED: store a DataFrame as ``<work_schema>.<name>`` (COPY, column types from dtypes)."""
        target = self._workspace_name(name)
        cols = ", ".join(f"{_ident(str(c))} {self._frame_type(df[c])}" for c in df.columns)
        try:
            with self._work_lock, self._work.transaction(), self._work.cursor() as cur:
                self._drop(cur, target, name)
                cur.execute(f"CREATE TABLE {target} ({cols})")
                names = ", ".join(_ident(str(c)) for c in df.columns)
                with cur.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
                    for row in df.itertuples(index=False, name=None):
                        copy.write_row([None if _missing(v) else v for v in row])
                cur.execute(f"ANALYZE {target}")
        except self._psycopg.Error as err:
            raise self._translate(err) from None

    @staticmethod
    def _frame_type(series: pandas.Series) -> str:
        kind = series.dtype.kind
        if kind in _FRAME_TYPES:
            return _FRAME_TYPES[kind]
        sample = series.dropna()
        if len(sample) and isinstance(sample.iloc[0], datetime.date):
            return "date"
        return "text"

    # --- catalog and metadata --------------------------------------------------

    def _catalog(self, schema: str | None = None) -> dict[str, list[str]]:
        schemas = [schema] if schema else [self.schema, self.work_schema]
        with self._read() as cur:
            cur.execute(
                "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = ANY(%s) "
                "ORDER BY table_schema <> %s, table_name, ordinal_position", (schemas, self.schema))
            rows = cur.fetchall()
        tables: dict[str, list[str]] = {}
        for table, column in rows:
            tables.setdefault(table, []).append(column)
        return tables

    def tables(self) -> dict[str, list[str]]:
        return self._catalog()

    def table_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for table in self._catalog():
            with self._read() as cur:
                cur.execute(f"SELECT count(*) FROM {_ident(table)}")
                row = cur.fetchone()
            counts[table] = int(row[0]) if row else 0
        return counts

    def as_of_date(self) -> datetime.date | None:
        if "order_date" not in self._catalog(self.schema).get("orders", []):
            return None
        with self._read() as cur:
            cur.execute(f"SELECT max(order_date) FROM {_ident(self.schema)}.orders")
            row = cur.fetchone()
        value = row[0] if row else None
        if isinstance(value, datetime.datetime):
            return value.date()
        return value if isinstance(value, datetime.date) else None

    def data_version(self) -> str:
        """A short hash of the warehouse schema's write counters (changes when its data does)."""
        with self._read() as cur:
            cur.execute("SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_all_tables "
                        "WHERE schemaname = %s ORDER BY relname", (self.schema,))
            rows = cur.fetchall()
        return hashlib.sha256(f"{self.dsn}|{self.schema}|{rows}".encode()).hexdigest()[:16]

    # --- lifecycle -------------------------------------------------------------

    def interrupt(self) -> None:
        with self._lock:
            running = list(self._running)
        for conn in running:
            try:
                conn.cancel_safe()
            except (self._psycopg.Error, AttributeError):
                conn.cancel()

    def close(self) -> None:
        self.interrupt()
        with self._lock:
            if self._closed:
                return
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
        self._work.close()

    def __enter__(self) -> PostgresEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _translate(self, err: BaseException) -> EngineError:
        errors = self._psycopg.errors
        detail = first_line(err)
        if isinstance(err, errors.QueryCanceled):
            if "timeout" in detail:
                seconds = f"{self.max_execution_time_ms / 1000:g}"
                return EngineError(
                    E_TIMEOUT, f"查询超过 {seconds} 秒未完成,已停止。请缩小时间范围或减少维度。",
                    f"The query took longer than {seconds} s and was stopped. Narrow the time range or use fewer dimensions.")
            return EngineError(E_CANCELLED, "查询已取消。", "The query was cancelled.")
        if isinstance(err, (errors.ReadOnlySqlTransaction, errors.InsufficientPrivilege)):
            return EngineError(E_SANDBOX, f"查询被引擎的安全限制拒绝:{detail}",
                               f"The engine's sandbox refused the query: {detail}")
        if isinstance(err, self._psycopg.OperationalError):
            return self._unavailable(err)
        return EngineError(E_FAILED, f"查询执行失败:{detail}", f"The query failed: {detail}")


def _missing(value: Any) -> bool:
    try:
        return bool(pandas.isna(value))
    except (TypeError, ValueError):
        return False
