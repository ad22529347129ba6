"""A fake chat model that supports tool calling, for tests and offline measurement.

LangChain's fake chat models do not implement ``bind_tools``; this subclass of
``GenericFakeChatModel`` does (it only records the tools, as a real server would
receive them), keeps every request it was sent, and answers either from a
canned list or from a function of the request — e.g. a model that "obeys" an
injected instruction, or one that echoes the offline parser's reading.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field

from .prompt import TOOL_NAME

_ids = itertools.count(1)


class ScriptedChatModel(GenericFakeChatModel):
    """Replies in order from ``messages`` (AIMessage, text, or an exception to raise), or from ``respond``."""

    messages: Iterator[Any] = Field(default_factory=lambda: iter(()))
    respond: Callable[[list[BaseMessage]], AIMessage | str] | None = None
    requests: list[list[BaseMessage]] = Field(default_factory=list)
    request_kwargs: list[dict[str, Any]] = Field(default_factory=list)

    def bind_tools(self, tools: Any, *, tool_choice: Any = None, **kwargs: Any) -> Any:
        specs = [t if isinstance(t, dict) else convert_to_openai_tool(t) for t in tools]
        return self.bind(tools=specs, tool_choice=tool_choice, **kwargs)

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        self.requests.append(list(messages))
        self.request_kwargs.append(kwargs)
        reply = self.respond(messages) if self.respond is not None else next(self.messages)
        if isinstance(reply, BaseException):
            raise reply
        message = AIMessage(content=reply) if isinstance(reply, str) else reply
        return ChatResult(generations=[ChatGeneration(message=message)])

    @property
    def calls(self) -> int:
        return len(self.requests)


def plan_call(action: str = "query", query: dict[str, Any] | None = None, **extra: Any) -> AIMessage:
    """An assistant message calling ``plan_query`` with these arguments."""
    args: dict[str, Any] = {"action": action, **extra}
    if query is not None:
        args["query"] = query
    return AIMessage(content="", tool_calls=[{"name": TOOL_NAME, "args": args, "id": f"call_{next(_ids)}"}])
