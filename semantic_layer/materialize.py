"""Build customer-level models once per (data version, as-of date), then reuse them.

SQL models with ``materialize: true`` run in the engine (RFM, ABC); Python
models (``module:function``) get a read-only reader over the tables they declare
and return one row per entity (CLV fits). Both land in the engine's workspace
under the model's name, where compiled queries find them.

On PostgreSQL and Spark the same holds in the engine's own SQL: the model's
SQL (and a Python model's reader SQL, both written in DuckDB syntax like every
catalog snippet) is parsed, adapted to the engine's dialect
(``dialects.adapt``) and rendered for it; only the per-customer rows a Python
model fits on leave the engine.
"""

from __future__ import annotations

import datetime as dt
import importlib
import threading
from typing import Any, Callable, Iterable

import pandas
from sqlglot import exp

from .catalog import Catalog
from .dialects import adapt
from .engine import DuckDBEngine
from .errors import InternalError, UserError
from .expressions import date_literal, parse_snippet
from .guard import guard_sql

Reader = Callable[[str], pandas.DataFrame]


class Materializer:
    def __init__(self, catalog: Catalog, engine: DuckDBEngine | Any) -> None:
        self.catalog = catalog
        self.engine = engine
        self._built: dict[str, tuple[str, dt.date]] = {}
        self._lock = threading.Lock()

    def materialized_models(self) -> set[str]:
        out = set()
        for m in self.catalog.models.values():
            src = m.source
            if getattr(src, "materialize", False) or hasattr(src, "python"):
                out.add(m.model)
        return out

    def needed_by(self, tree: exp.Expression) -> set[str]:
        """Materialised models a compiled query reads."""
        return {t.name for t in tree.find_all(exp.Table)} & self.materialized_models()

    def ensure(self, models: Iterable[str], as_of: dt.date, *, force: bool = False) -> list[str]:
        """Build what is missing or stale; return the names built now.

        A query that needs no model never waits on the lock (a CLV build takes seconds).
        """
        built: list[str] = []
        models = sorted(models)
        if not models:
            return built
        with self._lock:
            version = self.engine.data_version()
            for name in models:
                key = (version, as_of)
                if not force and self._built.get(name) == key:
                    continue
                self._build(name, as_of)
                self._built[name] = key
                built.append(name)
        return built

    def _build(self, name: str, as_of: dt.date) -> None:
        spec = self.catalog.model(name)
        src = spec.source
        if hasattr(src, "sql"):
            dialect = getattr(self.engine, "dialect", "duckdb")
            sql = adapt(parse_snippet(src.sql).transform(
                lambda n: date_literal(as_of) if isinstance(n, exp.Placeholder) and n.name == "as_of" else n
            ), dialect).sql(dialect=dialect)
            self.engine.materialize(name, sql)
            return
        if not hasattr(src, "python"):
            raise InternalError(f"model {name} is not materialised")
        module_name, _, func_name = src.python.partition(":")
        try:
            builder: Callable[..., pandas.DataFrame] = getattr(importlib.import_module(module_name), func_name)
        except (ImportError, AttributeError) as exc:
            raise UserError(150, f"模型 '{name}' 的构建函数 {src.python} 无法加载: {exc}",
                            f"model '{name}': builder {src.python} cannot be loaded: {exc}") from exc
        frame = builder(self._reader(src.reads), as_of, dict(src.params))
        self.engine.register_frame(name, frame)

    def _reader(self, tables: list[str]) -> Reader:
        """Read-only SQL over the declared tables only, through the same guard as users."""
        all_tables = self.engine.tables()
        schema = {t: all_tables[t] for t in tables if t in all_tables}

        dialect = getattr(self.engine, "dialect", "duckdb")

        def read(sql: str) -> pandas.DataFrame:
            if dialect != "duckdb":  # builders write DuckDB syntax, like catalog snippets
                sql = adapt(parse_snippet(sql), dialect).sql(dialect=dialect)
            return self.engine.dataframe(guard_sql(sql, schema, max_rows=50_000_000, dialect=dialect))

        return read


