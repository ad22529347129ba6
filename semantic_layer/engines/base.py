"""The surface every engine adapter offers (DuckDB, PostgreSQL, Spark)."""

from __future__ import annotations

import datetime
import re
from typing import Protocol

import pandas
import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from semantic_layer.engine import E_SANDBOX, QueryResult, python_value, require_guarded
from semantic_layer.errors import EngineError, first_line
from semantic_layer.guard import GuardedSQL

#: Workspace (customer models, masked views) table names: catalog names only.
NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class Engine(Protocol):
    dialect: str

    def execute(self, guarded: GuardedSQL) -> QueryResult: ...
    def dataframe(self, guarded: GuardedSQL) -> pandas.DataFrame: ...
    def explain(self, guarded: GuardedSQL) -> str: ...
    def tables(self) -> dict[str, list[str]]: ...
    def table_counts(self) -> dict[str, int]: ...
    def as_of_date(self) -> datetime.date | None: ...
    def data_version(self) -> str: ...
    def materialize(self, name: str, sql: str) -> None: ...
    def create_view(self, name: str, sql: str) -> None: ...
    def register_frame(self, name: str, df: pandas.DataFrame) -> None: ...
    def interrupt(self) -> None: ...
    def close(self) -> None: ...


def check_single_select(sql: str, dialect: str) -> str:
    """Defence in depth: the text must parse, in the engine's dialect, as exactly one query."""
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except SqlglotError:
        statements = []
    if len(statements) != 1 or not isinstance(statements[0], (exp.Select, exp.SetOperation)):
        raise EngineError(E_SANDBOX, "引擎只执行单条 SELECT 查询。", "The engine only runs a single SELECT query.")
    return sql

__all__ = ["NAME", "Engine", "check_single_select", "first_line", "python_value", "require_guarded"]
