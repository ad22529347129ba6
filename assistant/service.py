"""The one pipeline every front end calls: plan → compile → guard → run → compose.

The CLI's JSON, the agent tools and the UI all receive the same ``Answer``
shape (DESIGN §5), so an error looks the same wherever it surfaces.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from semantic_layer.access import allowed_schema
from semantic_layer.catalog import Catalog
from semantic_layer.compiler import CompiledQuery, compile_query
from semantic_layer.engine import DuckDBEngine
from semantic_layer.errors import UserError
from semantic_layer.guard import guard_sql
from semantic_layer.loader import load_catalog
from semantic_layer.materialize import Materializer
from semantic_layer.query import SemanticQuery

from .compose import choose_chart, narrate
from .planner import Plan, Planner, detect_lang
from .session import Session

Status = Literal["ok", "clarify", "refused", "error"]


@dataclass
class Answer:
    status: Status
    question: str
    lang: str
    semantic_query: dict[str, Any] | None = None
    sql: str | None = None
    columns: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    chart: dict[str, Any] | None = None
    narrative: str = ""
    suggestions: list[Any] = field(default_factory=list)
    definitions: list[dict[str, str]] = field(default_factory=list)
    message: str = ""
    candidates: list[str] = field(default_factory=list)
    clauses: list[str] = field(default_factory=list)
    truncated: bool = False
    elapsed_ms: float = 0.0
    error_code: int | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class ChatBI:
    """A catalog, an engine and a planner, wired once per process."""

    def __init__(self, db_path: str | Path, *, catalog: Catalog | None = None,
                 catalog_dir: str | Path | None = None, as_of: dt.date | None = None) -> None:
        self.catalog = catalog or load_catalog(catalog_dir)
        self.engine = DuckDBEngine(db_path)
        self.as_of = as_of or self.engine.as_of_date() or dt.date.today()
        self.planner = Planner(self.catalog)
        self.materializer = Materializer(self.catalog, self.engine)
        self.schema = allowed_schema(self.catalog, self.engine.tables())

    def ask(self, question: str, *, session: Session | None = None, lang: str | None = None) -> Answer:
        """Answer one question; follow-ups refine the session's previous query."""
        started = time.perf_counter()
        lang = lang or detect_lang(question)
        previous = session.last_query if session else None
        plan: Plan = self.planner.plan(question, as_of=self.as_of, previous=previous, lang=lang)
        if plan.status != "ok" or plan.query is None:
            answer = Answer(plan.status, question, lang,
                            message=plan.message.get(lang) if plan.message else "",
                            candidates=list(plan.candidates))
        else:
            answer = self.run(plan.query, question=question, lang=lang)
            if answer.status == "error" and answer.error_code is not None and 200 <= answer.error_code < 310:
                answer.status = "clarify"  # a plan the catalog cannot answer as asked: ask, don't fail
            answer.clauses += [n.get(lang) for n in plan.notes]
        if session is not None:
            session.record(question, answer.status, plan.query if answer.status == "ok" else None)
        answer.elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
        return answer

    def compile(self, query: SemanticQuery) -> CompiledQuery:
        return compile_query(query, self.catalog, as_of=self.as_of)

    def run(self, query: SemanticQuery, *, question: str = "", lang: str = "zh") -> Answer:
        """Compile, guard and execute a semantic query; user errors become an error answer."""
        try:
            compiled = self.compile(query)
            if self.materializer.ensure(self.materializer.needed_by(compiled.tree), self.as_of):
                self.schema = allowed_schema(self.catalog, self.engine.tables())
            guarded = guard_sql(compiled.sql, self.schema, max_rows=self.catalog.project.max_rows)
            result = self.engine.execute(guarded)
        except UserError as exc:
            return Answer("error", question, lang, semantic_query=query.model_dump(mode="json", exclude_defaults=True),
                          message=exc.message(lang), candidates=list(exc.suggestions), error_code=exc.code)
        rows = [list(r) for r in result.rows]
        return Answer(
            "ok", question, lang,
            semantic_query=query.model_dump(mode="json", exclude_defaults=True),
            sql=guarded.sql,
            columns=result.columns,
            rows=[[_jsonable(v) for v in r] for r in rows],
            chart=choose_chart(compiled, result.rows, lang),
            narrative=narrate(compiled, result.rows, lang),
            definitions=[d.as_dict(lang) for d in compiled.lineage.definitions],
            clauses=compiled.lineage.clauses(lang),
            truncated=result.truncated,
        )


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 6)
    return value
