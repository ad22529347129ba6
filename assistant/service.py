"""The one pipeline every front end calls: plan → compile → guard → run → compose.

The CLI's JSON, the agent tools and the UI all receive the same ``Answer``
shape (DESIGN §5), so an error looks the same wherever it surfaces.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from semantic_layer.access import allowed_schema
from semantic_layer.catalog import Catalog
from semantic_layer.compiler import CompiledQuery, compile_query
from semantic_layer.engine import QueryResult
from semantic_layer.engines import Engine, connect_engine, is_spark_master
from semantic_layer.engines.workspace import create_masked_views
from semantic_layer.errors import UserError
from semantic_layer.guard import GuardedSQL, guard_sql
from semantic_layer.lineage import OutputColumn
from semantic_layer.loader import load_catalog
from semantic_layer.masking import mask_text
from semantic_layer.materialize import Materializer
from semantic_layer.policy import Access, Principal, resolve_access
from semantic_layer.query import SemanticQuery, TimeSpec
from semantic_layer.timerange import DateRange, resolve

from .audit import AuditEntry, AuditLog
from .compose import compose
from .deep import RUNNERS as _RUNNERS
from .deep import run_module
from .identity import operator
from .llm.analyst import run_ungoverned
from .llm.wiring import connect_llm
from .planner import Plan, Planner, detect_lang
from .playbook import PLAYBOOK_FILE, Playbook, load_playbook
from .result import Comparison, ResultSet, comparison_ranges
from .session import Session

Status = Literal["ok", "clarify", "refused", "error"]
#: Named analyses run by a metrics/ module rather than compiled (assistant/deep.py).
MODULE_ANALYSES = frozenset(_RUNNERS)


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
    user: str = ""  # who asked (the server-side identity), as recorded in the audit log

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class ChatBI:
    """A catalog, an engine and a planner, wired once per process."""

    def __init__(self, db_path: str | Path | None = None, *, catalog: Catalog | None = None,
                 catalog_dir: str | Path | None = None, as_of: dt.date | None = None,
                 llm: Any = None, llm_settings: Any = None, audit: AuditLog | bool | None = None,
                 user: Principal | None = None, engine: Engine | None = None) -> None:
        """``db_path``: a DuckDB file, ``postgresql://…``, or a Spark master (``spark://host:7077``, ``local[2]``)
        reading the Parquet warehouse in ``$CHATBI_SPARK_PARQUET`` (docs/engines.md); or pass ``engine``.

        ``llm``: None reads the LLM settings (none → offline), False is offline, or settings or a chat model.

        ``audit``: None opens the default audit log (``$CHATBI_AUDIT``), False keeps none.
        ``user``: who asks when ``ask`` is not told (default: the local operator, an admin).
        """
        self.catalog = catalog or load_catalog(catalog_dir)
        limits = self.catalog.policy.limits
        if engine is None and db_path is None:
            raise ValueError("ChatBI needs a warehouse: db_path or engine")
        url = _engine_url(db_path)
        self.engine: Engine = engine or connect_engine(
            url, memory_limit=limits.memory, max_execution_time_ms=int(limits.query_seconds * 1000),
            **_spark_options(url))
        self.as_of = as_of or self.engine.as_of_date() or dt.date.today()
        self.planner = Planner(self.catalog)
        self.materializer = Materializer(self.catalog, self.engine)
        create_masked_views(self.engine, self.catalog)
        self._refresh_schemas()
        self.default_user = user or operator()
        self.audit: AuditLog | None = (AuditLog(retention_days=self.catalog.policy.audit.retention_days)
                                       if audit is None or audit is True else audit or None)
        self.llm = connect_llm(self.catalog, self.planner, llm, settings=llm_settings,
                               schema=lambda: self._schemas[False])

    @property
    def schema(self) -> dict[str, list[str]]:
        """The guard's schema without PII columns (masked views instead): what free-form SQL may read."""
        return self._schemas[False]

    def _refresh_schemas(self) -> None:
        tables = self.engine.tables()
        self._schemas = {pii: allowed_schema(self.catalog, tables, include_pii=pii) for pii in (True, False)}

    def access_for(self, user: Principal | None = None) -> Access:
        return resolve_access(self.catalog.policy, user or self.default_user)

    def ask(self, question: str, *, session: Session | None = None, lang: str | None = None,
            user: Principal | None = None) -> Answer:
        """Answer one question for ``user``; follow-ups refine the session's previous query.

        Limits come first (question length, the user's rate), then the plan; the
        viewer's row grants and PII masking apply in the compiler. Every question
        is written to the audit log, refused ones included.
        """
        started = time.perf_counter()
        principal = user or self.default_user
        access = self.access_for(principal)
        lang = lang or detect_lang(question)
        if not access.see_pii:
            question = mask_text(question)  # what the LLM, the narrative and the audit see
        answer = self._limited(question, lang, principal)
        if answer is None:
            answer = self._answer(question, lang, session, access)
        answer.user = principal.id
        answer.elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
        try:
            self._audit(answer, principal, session)
        except UserError as exc:  # fail closed: an answer nobody can trace is not given
            return Answer("error", question, lang, message=exc.message(lang), error_code=exc.code, user=principal.id)
        return answer

    def _limited(self, question: str, lang: str, principal: Principal) -> Answer | None:
        """A refusal when the question is too long or the user asks too often; None to go on."""
        limits = self.catalog.policy.limits
        if len(question) > limits.max_question_chars:
            err = UserError(330, f"问题过长({len(question)} 字), 上限 {limits.max_question_chars} 字; 请缩短后再问",
                            f"The question is too long ({len(question)} characters; the limit is "
                            f"{limits.max_question_chars}). Please shorten it.")
            return Answer("refused", question[:limits.max_question_chars], lang, message=err.message(lang),
                          error_code=err.code)
        if limits.questions_per_minute and self.audit is not None and not principal.is_local:
            try:
                recent = self.audit.count_since(principal.id, 60)
            except UserError as exc:  # the audit log is unusable: fail closed
                return Answer("error", question, lang, message=exc.message(lang), error_code=exc.code)
            if recent >= limits.questions_per_minute:
                err = UserError(331, f"提问过于频繁: 每分钟最多 {limits.questions_per_minute} 个问题, 请稍后再试",
                                f"Too many questions: at most {limits.questions_per_minute} per minute. "
                                "Please try again shortly.")
                return Answer("refused", question, lang, message=err.message(lang), error_code=err.code)
        return None

    def _answer(self, question: str, lang: str, session: Session | None, access: Access) -> Answer:
        previous = session.last_query if session else None
        decision = self.llm.hybrid.plan(question, as_of=self.as_of, previous=previous, lang=lang)
        plan: Plan = decision.plan
        if decision.sql is not None and (access.restricted or not access.is_admin):
            answer = Answer("refused", question, lang, error_code=332, message=UserError(
                332, "这个问题需要自由 SQL(分析师模式), 仅对不受行级权限限制的管理员开放",
                "This question needs free-form SQL (analyst mode), which only unrestricted admins may use.",
            ).message(lang))
        elif decision.sql is not None:
            answer = run_ungoverned(self.engine, decision.sql, question=question, lang=lang)
        elif plan.status != "ok" or plan.query is None:
            answer = Answer(plan.status, question, lang,
                            message=plan.message.get(lang) if plan.message else "",
                            candidates=list(plan.candidates))
        else:
            answer = self.run(plan.query, question=question, lang=lang, access=access, previous=previous)
            if answer.status == "error" and answer.error_code is not None and 200 <= answer.error_code < 310:
                answer.status = "clarify"  # a plan the catalog cannot answer as asked: ask, don't fail
            if answer.status == "error" and answer.error_code is not None and 320 <= answer.error_code < 330:
                answer.status = "refused"  # outside the viewer's rights: a refusal, not a fault
            answer.clauses += [n.get(lang) for n in plan.notes]
            self.llm.narrate(answer)
        answer.planner = decision.source
        answer.notices += [n.get(lang) for n in (*self.llm.notices, *decision.notices)]
        if session is not None:
            session.record(question, answer.status, plan.query if answer.status == "ok" else None)
        return answer

    def _audit(self, answer: Answer, principal: Principal, session: Session | None) -> None:
        if self.audit is None:
            return
        self.audit.record(AuditEntry(
            user_id=principal.id, role=principal.role, question=answer.question, status=answer.status,
            lang=answer.lang, session_id=getattr(session, "id", None), planner=answer.planner,
            semantic_query=answer.semantic_query, sql=answer.sql, rows_returned=len(answer.rows),
            duration_ms=answer.elapsed_ms, error_code=answer.error_code, message=answer.message,
        ))

    def compile(self, query: SemanticQuery, access: Access | None = None) -> CompiledQuery:
        return compile_query(query, self.catalog, as_of=self.as_of, access=access, dialect=self.engine.dialect)

    def run(self, query: SemanticQuery, *, question: str = "", lang: str = "zh", access: Access | None = None,
            previous: SemanticQuery | None = None) -> Answer:
        """Compile, guard and execute a semantic query; user errors become an error answer.

        The deeper analyses (profile, clusters, basket, survival, saved segments) run their
        ``metrics/`` module through the governed reader instead (``assistant/deep.py``);
        ``previous`` is the session's last query (what ``save_segment`` saves).
        """
        access = access or self.access_for()
        if query.analysis and query.analysis in MODULE_ANALYSES:
            return run_module(self, query, question=question, lang=lang, access=access, previous=previous)
        try:
            compiled, guarded, result = self._execute(query, access)
        except UserError as exc:
            return Answer("error", question, lang, semantic_query=query.model_dump(mode="json", exclude_defaults=True),
                          message=exc.message(lang), candidates=list(exc.suggestions), error_code=exc.code)
        composed = compose(ResultSet.build(compiled, result.rows, self.catalog, truncated=result.truncated), lang,
                           comparisons=self.comparisons(compiled, access), playbook=self.playbook(), question=question)
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

    def comparisons(self, compiled: CompiledQuery, access: Access | None = None) -> list[Comparison]:
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
                results[shifted] = self._run_shifted(query, shifted, access or self.access_for())
            found = results[shifted]
            if found is not None:
                out.append(Comparison(kind, shifted, found))
        return out

    def _run_shifted(self, query: SemanticQuery, shifted: DateRange, access: Access) -> ResultSet | None:
        grain = query.time.grain if query.time else None
        moved = query.model_copy(update={"time": TimeSpec(grain=grain, start=shifted.start, end=shifted.end)})
        try:
            compiled, _, result = self._execute(moved, access)
        except UserError:
            return None
        return ResultSet.build(compiled, result.rows, self.catalog, truncated=result.truncated)

    def _execute(self, query: SemanticQuery, access: Access) -> tuple[CompiledQuery, GuardedSQL, QueryResult]:
        """Compile for the viewer, build the customer models it reads, guard, execute: the one governed path."""
        compiled = self.compile(query, access)
        needed = self.materializer.needed_by(compiled.tree)
        self.materializer.ensure(needed, self.as_of)
        if not needed <= set(self._schemas[True]):  # built now, or by another session a moment ago
            self._refresh_schemas()
        guarded = guard_sql(compiled.sql, self._schemas[access.see_pii], max_rows=self.catalog.project.max_rows,
                            dialect=self.engine.dialect)
        return compiled, guarded, self.engine.execute(guarded)

    def ensure_models(self, models: list[str]) -> None:
        """Build customer models a module analysis reads (RFM for profiles, CLV for churn filters)."""
        self.materializer.ensure(models, self.as_of)
        if not set(models) <= set(self._schemas[True]):
            self._refresh_schemas()

    def playbook(self) -> Playbook:
        """The strategy playbook beside the catalog (``playbook.yaml``), loaded and checked once."""
        cached: Playbook | None = getattr(self, "_playbook", None)
        if cached is None:
            cached = load_playbook(self.catalog.root / PLAYBOOK_FILE, catalog=self.catalog)
            self._playbook = cached
        return cached

    def output_columns(self, answer: Answer) -> tuple[OutputColumn, ...]:
        """Labels and formats of an ok answer's columns (for exports and reports)."""
        if not answer.semantic_query or answer.semantic_query.get("analysis") in MODULE_ANALYSES:
            return ()
        return self.compile(SemanticQuery.model_validate(answer.semantic_query)).columns


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 6)
    return value


def _spark_options(url: str) -> dict[str, Any]:
    """A Spark master reads the warehouse exported as Parquet (``engines.load.export_parquet``)."""
    if is_spark_master(url) and os.environ.get("CHATBI_SPARK_PARQUET"):
        return {"parquet_dir": os.environ["CHATBI_SPARK_PARQUET"]}
    return {}


def _engine_url(db_path: str | Path | None) -> str:
    """The engine URL as written: a ``Path`` (the CLI's ``--db``) folds ``postgresql://`` into ``postgresql:/``."""
    text = str(db_path)
    scheme, sep, rest = text.partition(":/")
    if sep and scheme in ("postgresql", "postgres", "spark", "k8s") and not rest.startswith("/"):
        return f"{scheme}://{rest}"
    return text
