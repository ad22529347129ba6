"""LLM planner: one tool call fills a SemanticQuery, checked by pydantic and the compiler.

The happy path is one call. An invalid reply (not a ``plan_query`` call, bad
JSON, a schema error, an unknown metric the compiler rejects, SQL the guard
rejects) gets one repair round carrying the error; a second invalid reply, a
timeout or any endpoint error returns ``failed`` with a notice, and the caller
falls back to the offline planner. After a failed call the endpoint is skipped
for ``cooldown`` seconds so a dead server does not slow every question.

The model never gets authority: what it returns is only a proposal that the
same compiler and guard accept or reject.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from pydantic import ValidationError

from semantic_layer.catalog import Catalog
from semantic_layer.compiler import compile_query
from semantic_layer.errors import UserError
from semantic_layer.guard import GuardedSQL, guard_sql
from semantic_layer.query import SemanticQuery
from semantic_layer.schema import Text

from .config import LLMSettings
from .prompt import TOOL_NAME, AnalystPlanQuery, PlanQuery, catalog_card, plan_tool, planning_messages, prompt_tokens
from .sanitize import sanitize

log = logging.getLogger(__name__)

LLMStatus = Literal["ok", "clarify", "refused", "failed"]
MAX_ERROR_CHARS = 600


@dataclass(frozen=True)
class LLMPlan:
    status: LLMStatus
    query: SemanticQuery | None = None
    sql: GuardedSQL | None = None  # analyst mode only, already guarded
    message: str = ""  # clarify / refuse, sanitised
    notices: tuple[Text, ...] = ()
    calls: int = 0
    prompt_tokens: int = 0  # provider-reported when available, else the offline estimate
    error: str = ""  # the last validation error or exception, for logs and tests


class _Invalid(Exception):
    """A reply that does not validate; its text goes back to the model in the repair round."""


class LLMPlanner:
    def __init__(self, catalog: Catalog, model: Any, *, settings: LLMSettings | None = None,
                 schema: Callable[[], Mapping[str, Collection[str]]] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.catalog = catalog
        self.settings = settings or LLMSettings()
        self.analyst_mode = self.settings.analyst_mode and schema is not None
        self.schema = schema
        self.card = catalog_card(catalog)
        self.tool = plan_tool(self.analyst_mode)
        choice = TOOL_NAME if self.settings.tool_choice == "force" else "auto"
        self.model = model.bind_tools([self.tool], tool_choice=choice)
        self.clock = clock
        self._down_until = 0.0

    def plan(self, question: str, *, as_of: dt.date, previous: SemanticQuery | None = None, lang: str = "zh",
             hint: SemanticQuery | None = None, hint_notes: tuple[str, ...] = ()) -> LLMPlan:
        if self.clock() < self._down_until:
            return LLMPlan("failed", notices=(SKIPPED,), error="cooling down after a failed call")
        messages = planning_messages(question, self.card, as_of=as_of, previous=previous, lang=lang, hint=hint,
                                     unknown_words=hint_notes, analyst_mode=self.analyst_mode)
        calls = tokens = 0
        error = ""
        for _ in range(2):  # the call, then at most one repair round
            try:
                reply = self.model.invoke(messages)
            except Exception as exc:  # noqa: BLE001 — any endpoint failure degrades to the offline planner
                self._down_until = self.clock() + self.settings.cooldown
                log.warning("LLM planner call failed: %s: %s", type(exc).__name__, exc)
                return LLMPlan("failed", notices=(_unavailable(exc),), calls=calls + 1, prompt_tokens=tokens,
                               error=f"{type(exc).__name__}: {exc}")
            calls += 1
            tokens += _input_tokens(reply, messages, self.tool)
            try:
                return self._accept(reply, as_of, calls, tokens)
            except _Invalid as exc:
                error = str(exc)[:MAX_ERROR_CHARS]
                log.info("LLM plan invalid (call %d): %s", calls, error)
                messages = [*messages, *_repair(reply, error)]
        return LLMPlan("failed", notices=(INVALID,), calls=calls, prompt_tokens=tokens, error=error)

    # --- checking a reply -----------------------------------------------------------

    def _accept(self, reply: BaseMessage, as_of: dt.date, calls: int, tokens: int) -> LLMPlan:
        args = _arguments(reply)
        model = AnalystPlanQuery if self.analyst_mode else PlanQuery
        try:
            parsed = model.model_validate(args)
        except ValidationError as exc:
            raise _Invalid(_describe(exc)) from None
        if parsed.action in ("clarify", "refuse"):
            status: LLMStatus = "clarify" if parsed.action == "clarify" else "refused"
            return LLMPlan(status, message=sanitize(parsed.message or "", 300), calls=calls, prompt_tokens=tokens)
        if parsed.query is not None:
            private = _pii_refs(parsed.query, self.catalog)
            if private:
                raise _Invalid(f"{', '.join(private)} is personal data and not available; use only catalog names")
            try:
                compile_query(parsed.query, self.catalog, as_of=as_of)
            except UserError as exc:
                hint = f" Did you mean: {', '.join(exc.suggestions)}?" if exc.suggestions else ""
                raise _Invalid(f"the compiler rejected the query: {exc.message('en')}{hint}") from None
            except Exception as exc:  # noqa: BLE001 — a query the compiler cannot handle is invalid, not a crash
                raise _Invalid(f"the compiler rejected the query: {type(exc).__name__}: {exc}") from None
            return LLMPlan("ok", query=parsed.query, calls=calls, prompt_tokens=tokens)
        sql = getattr(parsed, "sql", None)
        if sql and self.schema is not None:
            try:
                guarded = guard_sql(sql, self.schema(), max_rows=self.catalog.project.max_rows)
            except UserError as exc:
                raise _Invalid(f"the SQL guard rejected the SQL: {exc.message('en')}") from None
            return LLMPlan("ok", sql=guarded, calls=calls, prompt_tokens=tokens)
        raise _Invalid("action=query needs a query")


def _pii_refs(query: SemanticQuery, catalog: Catalog) -> list[str]:
    """Dimensions tagged ``pii`` the query names; the guard withholds their columns anyway."""
    private = {d.name for _, d in catalog.dimensions() if "pii" in d.tags}
    refs = [*query.dimensions, *(f.field for f in query.filters), *(o.field for o in query.order_by)]
    return sorted({r.rpartition(".")[2] for r in refs} & private)


def _arguments(reply: BaseMessage) -> dict[str, Any]:
    """The plan_query arguments: from a tool call, else JSON in the text (servers without tool support)."""
    if not isinstance(reply, AIMessage):
        raise _Invalid(f"expected an assistant message, got {type(reply).__name__}")
    for call in reply.tool_calls:
        if call["name"] == TOOL_NAME:
            return dict(call["args"])
    if reply.invalid_tool_calls:
        bad = reply.invalid_tool_calls[0]
        raise _Invalid(f"the {bad.get('name') or 'tool'} arguments are not valid JSON: {bad.get('error') or ''}")
    if reply.tool_calls:
        raise _Invalid(f"unknown tool {reply.tool_calls[0]['name']!r}; call {TOOL_NAME}")
    text = reply.content if isinstance(reply.content, str) else ""
    found = re.search(r"\{.*\}", text, re.DOTALL)
    if found:
        try:
            data = json.loads(found.group())
        except json.JSONDecodeError:
            data = None
        if isinstance(data, dict):
            return data.get("arguments", data) if isinstance(data.get("arguments"), dict) else data
    raise _Invalid(f"no {TOOL_NAME} call in the reply")


def _describe(exc: ValidationError) -> str:
    parts = [f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}" for e in exc.errors()[:6]]
    return "invalid plan: " + "; ".join(parts)


def _repair(reply: BaseMessage, error: str) -> list[BaseMessage]:
    """Send the error back: as the tool's result when the model made a call, else as a user turn."""
    text = f"Error: {error}\nCall {TOOL_NAME} again with a corrected plan, using only catalog names."
    if isinstance(reply, AIMessage):
        ids = [c.get("id") for c in reply.tool_calls] + [c.get("id") for c in reply.invalid_tool_calls]
        if ids and all(ids):
            return [reply, *(ToolMessage(text, tool_call_id=i) for i in ids)]
        return [reply, HumanMessage(text)]
    return [HumanMessage(text)]


def _input_tokens(reply: BaseMessage, messages: list[BaseMessage], tool: dict[str, Any]) -> int:
    usage = getattr(reply, "usage_metadata", None) or {}
    if usage.get("input_tokens"):
        return int(usage["input_tokens"])
    return prompt_tokens(messages, [tool])["approx"]


def _unavailable(exc: Exception) -> Text:
    name = type(exc).__name__
    if "Timeout" in name:
        zh, en = "超时", "timed out"
    elif "Connection" in name or "Connect" in name:
        zh, en = "无法连接", "cannot connect"
    else:
        zh = en = name
    return Text(zh=f"大模型服务不可用({zh}), 本次由离线规划器回答。",
                en=f"The LLM endpoint is unavailable ({en}); the offline planner answered.")


INVALID = Text(zh="大模型两次给出无效的查询, 本次由离线规划器回答。",
               en="The LLM's plan was invalid twice; the offline planner answered.")
SKIPPED = Text(zh="大模型服务刚刚失败过, 暂时跳过, 本次由离线规划器回答。",
               en="The LLM endpoint failed recently and is skipped for now; the offline planner answered.")
