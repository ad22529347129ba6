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
from semantic_layer.engine import DuckDBEngine, QueryResult
from semantic_layer.errors import UserError
from semantic_layer.guard import GuardedSQL, guard_sql
from semantic_layer.lineage import OutputColumn
from semantic_layer.loader import load_catalog
from semantic_layer.materialize import Materializer
from semantic_layer.query import SemanticQuery, TimeSpec
from semantic_layer.timerange import DateRange, resolve

from .compose import compose
from .llm.analyst import run_ungoverned
from .llm.wiring import connect_llm
from .planner import Plan, Planner, detect_lang
from .playbook import PLAYBOOK_FILE, Playbook, load_playbook
from .result import Comparison, ResultSet, comparison_ranges
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
    governed: bool = True  # False: SQL written by the LLM in analyst mode (guarded, but not from the catalog)
    planner: str = "offline"  # which planner made the plan: offline | llm
    notices: list[str] = field(default_factory=list)  # e.g. "the LLM timed out; the offline planner answered"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class ChatBI:
    """A catalog, an engine and a planner, wired once per process."""

    def __init__(self, db_path: str | Path, *, catalog: Catalog | None = None,
                 catalog_dir: str | Path | None = None, as_of: dt.date | None = None,
                 llm: Any = None, llm_settings: Any = None) -> None:
        """``llm``: None reads the LLM settings (none → offline), False is offline, or settings or a chat model."""
        self.catalog = catalog or load_catalog(catalog_dir)
        self.engine = DuckDBEngine(db_path)
        self.as_of = as_of or self.engine.as_of_date() or dt.date.today()
        self.planner = Planner(self.catalog)
        self.materializer = Materializer(self.catalog, self.engine)
        self.schema = allowed_schema(self.catalog, self.engine.tables())
        self.llm = connect_llm(self.catalog, self.planner, llm, settings=llm_settings,
                               schema=lambda: allowed_schema(self.catalog, self.engine.tables()))

    def ask(self, question: str, *, session: Session | None = None, lang: str | None = None) -> Answer:
        """Answer one question; follow-ups refine the session's previous query."""
        started = time.perf_counter()
        lang = lang or detect_lang(question)
        previous = session.last_query if session else None
        decision = self.llm.hybrid.plan(question, as_of=self.as_of, previous=previous, lang=lang)
        plan: Plan = decision.plan
        if decision.sql is not None:
            answer = run_ungoverned(self.engine, decision.sql, question=question, lang=lang)
        elif plan.status != "ok" or plan.query is None:
            answer = Answer(plan.status, question, lang,
                            message=plan.message.get(lang) if plan.message else "",
                            candidates=list(plan.candidates))
        else:
            answer = self.run(plan.query, question=question, lang=lang)
            if answer.status == "error" and answer.error_code is not None and 200 <= answer.error_code < 310:
                answer.status = "clarify"  # a plan the catalog cannot answer as asked: ask, don't fail
            answer.clauses += [n.get(lang) for n in plan.notes]
            self.llm.narrate(answer)
        answer.planner = decision.source
        answer.notices += [n.get(lang) for n in (*self.llm.notices, *decision.notices)]
        if session is not None:
            session.record(question, answer.status, plan.query if answer.status == "ok" else None)
        answer.elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
        return answer

    def compile(self, query: SemanticQuery) -> CompiledQuery:
        return compile_query(query, self.catalog, as_of=self.as_of)

    def run(self, query: SemanticQuery, *, question: str = "", lang: str = "zh") -> Answer:
        """Compile, guard and execute a semantic query; user errors become an error answer."""
        try:
            compiled, guarded, result = self._execute(query)
        except UserError as exc:
            return Answer("error", question, lang, semantic_query=query.model_dump(mode="json", exclude_defaults=True),
                          message=exc.message(lang), candidates=list(exc.suggestions), error_code=exc.code)
        composed = compose(ResultSet.build(compiled, result.rows, self.catalog, truncated=result.truncated), lang,
                           comparisons=self.comparisons(compiled), playbook=self.playbook(), question=question)
        return Answer(
            "ok", question, lang,
            semantic_query=query.model_dump(mode="json", exclude_defaults=True),
            sql=guarded.sql,
            columns=result.columns,
            rows=[[_jsonable(v) for v in r] for r in result.rows],
            chart=composed.chart,
            narrative=composed.narrative,
            suggestions=composed.suggestions,
            definitions=[d.as_dict(lang) for d in compiled.lineage.definitions],
            clauses=compiled.lineage.clauses(lang),
            truncated=result.truncated,
        )

    def comparisons(self, compiled: CompiledQuery) -> list[Comparison]:
        """The same query over the previous period and the same range a year earlier (环比 / 同比).

        Only for a closed time range; each distinct range runs once. A comparison
        that cannot run (no data then, a guard limit) is left out, never an error.
        """
        query = compiled.query
        if query.analysis:
            return []
        results: dict[DateRange, ResultSet | None] = {}
        out = []
        for kind, shifted in comparison_ranges(resolve(query.time, self.as_of)):
            if shifted not in results:
                results[shifted] = self._run_shifted(query, shifted)
            found = results[shifted]
            if found is not None:
                out.append(Comparison(kind, shifted, found))
        return out

    def _run_shifted(self, query: SemanticQuery, shifted: DateRange) -> ResultSet | None:
        grain = query.time.grain if query.time else None
        moved = query.model_copy(update={"time": TimeSpec(grain=grain, start=shifted.start, end=shifted.end)})
        try:
            compiled, _, result = self._execute(moved)
        except UserError:
            return None
        return ResultSet.build(compiled, result.rows, self.catalog, truncated=result.truncated)

    def _execute(self, query: SemanticQuery) -> tuple[CompiledQuery, GuardedSQL, QueryResult]:
        """Compile, build the customer models it reads, guard, execute: the one governed path."""
        compiled = self.compile(query)
        if self.materializer.ensure(self.materializer.needed_by(compiled.tree), self.as_of):
            self.schema = allowed_schema(self.catalog, self.engine.tables())
        guarded = guard_sql(compiled.sql, self.schema, max_rows=self.catalog.project.max_rows)
        return compiled, guarded, self.engine.execute(guarded)

    def playbook(self) -> Playbook:
        """The strategy playbook beside the catalog (``playbook.yaml``), loaded and checked once."""
        cached: Playbook | None = getattr(self, "_playbook", None)
        if cached is None:
            cached = load_playbook(self.catalog.root / PLAYBOOK_FILE, catalog=self.catalog)
            self._playbook = cached
        return cached

    def output_columns(self, answer: Answer) -> tuple[OutputColumn, ...]:
        """Labels and formats of an ok answer's columns (for exports and reports)."""
        if not answer.semantic_query:
            return ()
        return self.compile(SemanticQuery.model_validate(answer.semantic_query)).columns


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 6)
    return value
