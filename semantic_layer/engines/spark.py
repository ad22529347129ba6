"""Spark SQL engine (pyspark): warehouse tables as temp views over Parquet, guarded SELECTs only.

``master`` is ``local[N]`` in tests and benchmarks, or a cluster URL
(``spark://host:7077``, ``yarn``, ``k8s://…``) from config. Each engine has its
own ``SparkSession`` (``newSession()``): its temp views, the warehouse tables
and the workspace (customer models cached in Spark memory, masked views), are
invisible to any other engine in the process.

Safety: Spark SQL over temp views cannot write, but it can read files by path
(``SELECT * FROM parquet.`/etc/…```) unless ``spark.sql.runSQLOnFiles`` is off,
which it is here; the guard already refuses qualified and path-like names and
every function off its allow-list (``reflect``, ``java_method`` …). Each query
runs in its own job group; past ``max_execution_time_ms`` the group is
cancelled (502), ``interrupt()`` cancels every running group (503).
"""

from __future__ import annotations

import datetime
import hashlib
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas

from semantic_layer.engine import E_CANCELLED, E_FAILED, E_TIMEOUT, E_UNAVAILABLE, QueryResult
from semantic_layer.errors import EngineError
from semantic_layer.guard import GuardedSQL

from .base import NAME, check_single_select, first_line, python_value, require_guarded

#: Settings for small local runs; a cluster's own defaults win for keys set in ``conf``.
DEFAULT_CONF = {
    "spark.sql.runSQLOnFiles": "false",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "8",
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.session.timeZone": "UTC",
    "spark.driver.memory": "2g",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}


def spark_session(master: str = "local[2]", conf: dict[str, str] | None = None) -> Any:
    """The process's SparkSession for ``master`` (Spark allows one SparkContext per process)."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master(master).appName("chatbi")
    for key, value in {**DEFAULT_CONF, **(conf or {})}.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


class SparkEngine:
    """Guarded queries on Spark SQL; workspace tables are cached temp views."""

    dialect = "spark"

    def __init__(self, *, parquet_dir: str | Path | None = None, tables: dict[str, str | Path] | None = None,
                 master: str = "local[2]", conf: dict[str, str] | None = None,
                 max_execution_time_ms: int = 30_000, **_ignored: Any) -> None:
        try:
            self._spark = spark_session(master, conf).newSession()
        except Exception as err:  # noqa: BLE001 — no Java, bad master URL: one bilingual error
            raise EngineError(E_UNAVAILABLE, f"无法启动 Spark:{first_line(err)}",
                              f"Spark could not be started: {first_line(err)}") from None
        self.master = master
        self.max_execution_time_ms = max_execution_time_ms
        self._lock = threading.Lock()
        self._groups: set[str] = set()
        self._cancelled: set[str] = set()
        self._closed = False
        self._warehouse: dict[str, list[str]] = {}
        self._workspace: dict[str, list[str]] = {}
        self._cached: dict[str, Any] = {}
        sources = dict(tables or {})
        if parquet_dir is not None:
            sources.update({p.stem: p for p in sorted(Path(parquet_dir).glob("*.parquet"))})
        self._sources = {name: str(Path(path).resolve()) for name, path in sources.items()}
        for name, path in sorted(self._sources.items()):
            frame = self._spark.read.parquet(path)
            frame.createOrReplaceTempView(name)
            self._warehouse[name] = [f.name for f in frame.schema.fields]

    # --- guarded queries -------------------------------------------------------

    def _run(self, sql: str, action: str) -> Any:
        """Run ``action`` ('collect' | 'pandas' | 'explain') on ``sql`` in its own job group, with a deadline."""
        with self._lock:
            if self._closed:
                raise EngineError(E_UNAVAILABLE, "查询引擎已关闭。", "The query engine is closed.")
        group = f"chatbi-{uuid.uuid4().hex}"
        box: dict[str, Any] = {}
        context = self._spark.sparkContext

        def work() -> None:
            context.setJobGroup(group, "chatbi query", interruptOnCancel=True)
            try:
                frame = self._spark.sql(sql)
                if action == "collect":
                    box["columns"] = list(frame.columns)
                    box["rows"] = frame.collect()
                elif action == "pandas":
                    box["frame"] = frame.toPandas()
                else:
                    box["plan"] = frame._jdf.queryExecution().toString()  # noqa: SLF001 — the textual plan
            except BaseException as err:  # noqa: BLE001 — re-raised in the caller's thread
                box["error"] = err
            finally:
                context.setLocalProperty("spark.jobGroup.id", None)

        with self._lock:
            self._groups.add(group)
        worker = threading.Thread(target=work, name=group, daemon=True)
        try:
            worker.start()
            worker.join(self.max_execution_time_ms / 1000)
            if worker.is_alive():
                context.cancelJobGroup(group)
                worker.join(30)
                seconds = f"{self.max_execution_time_ms / 1000:g}"
                raise EngineError(
                    E_TIMEOUT, f"查询超过 {seconds} 秒未完成,已停止。请缩小时间范围或减少维度。",
                    f"The query took longer than {seconds} s and was stopped. Narrow the time range or use fewer dimensions.")
        finally:
            with self._lock:
                self._groups.discard(group)
                cancelled = group in self._cancelled
                self._cancelled.discard(group)
        if cancelled:
            raise EngineError(E_CANCELLED, "查询已取消。", "The query was cancelled.")
        if "error" in box:
            err = box["error"]
            raise EngineError(E_FAILED, f"查询执行失败:{first_line(err)}", f"The query failed: {first_line(err)}")
        return box

    def execute(self, guarded: GuardedSQL) -> QueryResult:
        guarded = require_guarded(guarded, "SparkEngine")
        sql = check_single_select(guarded.probe_sql or guarded.sql, self.dialect)
        start = time.perf_counter()
        box = self._run(sql, "collect")
        elapsed = (time.perf_counter() - start) * 1000
        raw = box["rows"]
        rows = [tuple(python_value(v) for v in row) for row in raw[: guarded.limit]]
        return QueryResult(box["columns"], rows, len(raw) > guarded.limit, elapsed)

    def dataframe(self, guarded: GuardedSQL) -> pandas.DataFrame:
        guarded = require_guarded(guarded, "SparkEngine")
        frame: pandas.DataFrame = self._run(check_single_select(guarded.sql, self.dialect), "pandas")["frame"]
        for column in frame.columns:  # DECIMAL arrives as Python Decimal objects, as float from DuckDB
            values = frame[column].dropna()
            if frame[column].dtype == object and len(values) and isinstance(values.iloc[0], Decimal):
                frame[column] = frame[column].astype("float64")
        return frame

    def explain(self, guarded: GuardedSQL) -> str:
        guarded = require_guarded(guarded, "SparkEngine")
        plan: str = self._run(check_single_select(guarded.sql, self.dialect), "explain")["plan"]
        return plan

    # --- trusted workspace writes ----------------------------------------------

    def _workspace_name(self, name: str) -> str:
        if not NAME.match(name):
            raise ValueError(f"workspace table name must match {NAME.pattern}: {name!r}")
        if name in self._warehouse:
            raise ValueError(f"{name!r} is a warehouse table; a workspace table may not shadow it")
        return name

    def _publish(self, name: str, frame: Any, *, cache: bool) -> None:
        old = self._cached.pop(name, None)
        if cache:
            frame = frame.cache()
            frame.count()  # build it now, like CREATE TABLE AS
            self._cached[name] = frame
        frame.createOrReplaceTempView(name)
        self._workspace[name] = list(frame.columns)
        if old is not None:
            old.unpersist()

    def materialize(self, name: str, sql: str) -> None:
        """TRUSTED: the result of ``sql`` as cached temp view ``name``."""
        target = self._workspace_name(name)
        try:
            self._publish(target, self._spark.sql(sql), cache=True)
        except Exception as err:  # noqa: BLE001
            raise EngineError(E_FAILED, f"模型构建失败:{first_line(err)}", f"Building a model failed: {first_line(err)}") from None

    def create_view(self, name: str, sql: str) -> None:
        """TRUSTED: temp view ``name`` over ``sql`` (masked views of PII tables)."""
        target = self._workspace_name(name)
        self._publish(target, self._spark.sql(sql), cache=False)

    def register_frame(self, name: str, df: pandas.DataFrame) -> None:
        """TRUSTED: a DataFrame as cached temp view ``name``."""
        target = self._workspace_name(name)
        self._publish(target, self._spark.createDataFrame(df), cache=True)

    # --- catalog and metadata --------------------------------------------------

    def tables(self) -> dict[str, list[str]]:
        return {**self._warehouse, **{k: v for k, v in self._workspace.items() if k not in self._warehouse}}

    def table_counts(self) -> dict[str, int]:
        return {name: int(self._spark.table(name).count()) for name in self.tables()}

    def as_of_date(self) -> datetime.date | None:
        if "order_date" not in self._warehouse.get("orders", []):
            return None
        value = self._spark.sql("SELECT max(order_date) FROM orders").collect()[0][0]
        if isinstance(value, datetime.datetime):
            return value.date()
        return value if isinstance(value, datetime.date) else None

    def data_version(self) -> str:
        """A short hash of the Parquet files' paths, sizes and modification times."""
        parts = []
        for name, path in sorted(self._sources.items()):
            p = Path(path)
            files = sorted(p.rglob("*")) if p.is_dir() else [p]
            parts.append((name, [(f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in files if f.is_file()]))
        return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]

    # --- lifecycle -------------------------------------------------------------

    def interrupt(self) -> None:
        with self._lock:
            groups = list(self._groups)
            self._cancelled.update(groups)
        for group in groups:
            self._spark.sparkContext.cancelJobGroup(group)

    def close(self) -> None:
        self.interrupt()
        with self._lock:
            if self._closed:
                return
            self._closed = True
        for frame in self._cached.values():
            frame.unpersist()
        for name in [*self._workspace, *self._warehouse]:
            self._spark.catalog.dropTempView(name)

    def __enter__(self) -> SparkEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
