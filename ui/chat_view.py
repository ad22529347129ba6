"""The chat page: history, one question at a time, clarifications as buttons, feedback.

A question (typed, an example, a clarification's candidate, a catalog example)
becomes ``pending``; the run that sees it shows the chat input disabled and a
status while it works, appends the answer and reruns. So there is one path for
every way of asking, and no second question can start while one runs.
"""

from __future__ import annotations

import logging
import uuid
from functools import partial
from typing import Any

import streamlit as st

from assistant.feedback import Feedback
from assistant.session import Session
from semantic_layer.errors import ChatBIError, UserError

from . import components
from .answer_view import query_chips, refine_question
from .exports import downloads
from .i18n import EXAMPLES, t
from .resources import ask_in_session, feedback_store
from .shell import Context, context, user_message

log = logging.getLogger(__name__)
STATE = "chat"
CONTEXT_TURNS = 3  # earlier questions kept with a feedback (a follow-up means nothing alone)


def _new_state(user: str | None = None) -> dict[str, Any]:
    """An empty conversation; its session id groups its questions in the audit log."""
    return {"session": Session(f"ui-{uuid.uuid4().hex[:12]}"), "messages": [], "pending": None, "user": user}


def _state(user: str | None = None) -> dict[str, Any]:
    """This browser session's conversation; a different signed-in user starts a new one."""
    state = st.session_state.get(STATE)
    if state is None or (user is not None and state.get("user") not in (None, user)):
        state = st.session_state[STATE] = _new_state(user)
    if user is not None:
        state["user"] = user
    result: dict[str, Any] = state
    return result


def queue(question: str) -> None:
    """Ask ``question`` on the next run (from a button, a candidate or another page)."""
    question = (question or "").strip()
    if question and not _state()["pending"]:
        _state()["pending"] = question


def _on_chat_input() -> None:
    value = st.session_state.get("chat_input")
    queue(value if isinstance(value, str) else "")


def _clear() -> None:
    st.session_state[STATE] = _new_state(_state().get("user"))


def render() -> None:
    ctx = context()
    state = _state(ctx.user.id)
    pending = state["pending"]
    lang = ctx.lang
    head, clear = st.columns([4, 1], vertical_alignment="bottom")
    head.subheader(t("app_title", lang))
    clear.button(t("clear_chat", lang), on_click=_clear, disabled=bool(pending) or not state["messages"],
                 key="clear_chat")
    if ctx.bi is None:
        return
    head.caption(t("as_of", lang, date=ctx.bi.as_of.isoformat()))
    if not state["messages"] and not pending:
        _welcome(lang)
    for msg in state["messages"]:
        _message(msg, ctx, busy=bool(pending))
    cap = ctx.bi.catalog.policy.limits.max_question_chars  # the server refuses longer ones too (330)
    st.chat_input(t("chat_placeholder", lang), key="chat_input", max_chars=cap, submit_mode="disable",
                  disabled=bool(pending), on_submit=_on_chat_input)
    if pending:
        _run(pending, ctx, state)


def _welcome(lang: str) -> None:
    with st.chat_message("assistant"):
        components.plain(t("welcome", lang))
        with st.container(horizontal=True):
            for i, q in enumerate(EXAMPLES[lang]):
                st.button(components.md_escape(q), key=f"example_{i}", on_click=queue, args=(q,))


def _run(question: str, ctx: Context, state: dict[str, Any]) -> None:
    lang = ctx.lang
    earlier = [m["question"] for m in state["messages"][-CONTEXT_TURNS:]]
    with st.chat_message("user"):
        components.plain(question)
    label = t("working", lang, question=components.md_escape(question))  # the status label is Markdown
    with st.chat_message("assistant"), st.status(label, expanded=False) as status:
        components.plain(t("step_plan", lang))
        try:
            answer = ask_in_session(ctx.settings, question, state["session"], ctx.user)
        except ChatBIError as exc:
            answer = _error(question, lang, user_message(exc, lang) if isinstance(exc, UserError) else str(exc))
        except Exception as exc:  # a bug must not take the conversation down
            log.exception("answering %r failed", question)
            answer = _error(question, lang, f"{type(exc).__name__}")
        status.update(label=t("step_done", lang, ms=answer.get("elapsed_ms", 0)), state="complete")
    state["messages"].append({"id": uuid.uuid4().hex[:10], "question": question, "answer": answer,
                              "context": earlier})
    state["pending"] = None
    st.rerun()


def _error(question: str, lang: str, message: str) -> dict[str, Any]:
    return {"status": "error", "question": question, "lang": lang, "message": message, "candidates": []}


def _message(msg: dict[str, Any], ctx: Context, busy: bool) -> None:
    answer, key, lang = msg["answer"], msg["id"], ctx.lang
    alang = answer.get("lang") or lang
    assert ctx.bi is not None
    catalog, as_of = ctx.bi.catalog, ctx.bi.as_of
    with st.chat_message("user"):
        components.plain(msg["question"])
    with st.chat_message("assistant"):
        components.chips(query_chips(answer.get("semantic_query"), catalog, as_of, alang), alang)
        components.notices(answer, lang)
        if answer["status"] == "ok":
            components.plain(answer.get("narrative"))
            if not answer.get("rows"):
                st.caption(t("no_rows", lang))
            components.chart(answer.get("chart"), key)
            components.table(answer, catalog, alang, key, lang, downloads(answer, ctx.bi))
            components.suggestions(answer.get("suggestions") or [], lang)
            components.definitions(answer, lang)
            components.sql(answer.get("sql"), lang)
        else:
            st.caption(t(f"status_{answer['status']}", lang))
            components.plain(answer.get("message"))
            components.candidate_buttons(answer.get("candidates") or [], key, partial(_pick, msg),
                                         lang, disabled=busy)
        _feedback(msg, ctx)


def _pick(msg: dict[str, Any], candidate: str) -> None:
    queue(refine_question(msg["question"], msg["answer"].get("message", ""), candidate))


# --- feedback ---------------------------------------------------------------------------


def _feedback(msg: dict[str, Any], ctx: Context) -> None:
    key, lang = msg["id"], ctx.lang
    if msg.get("feedback"):
        st.caption(t("thanks", lang))
        return
    with st.container(horizontal=True):
        st.button("", icon=":material/thumb_up:", key=f"up_{key}", help=t("feedback_up", lang),
                  on_click=_send, args=(msg, "up", ctx))
        st.button("", icon=":material/thumb_down:", key=f"down_{key}", help=t("feedback_down", lang),
                  on_click=_open, args=(msg,))
    if msg.get("correcting"):
        st.text_area(t("correction", lang), key=f"correction_{key}", max_chars=2000)
        st.button(t("send", lang), key=f"send_{key}", on_click=_send, args=(msg, "down", ctx), type="primary")


def _open(msg: dict[str, Any]) -> None:
    msg["correcting"] = True


def _send(msg: dict[str, Any], rating: str, ctx: Context) -> None:
    answer = msg["answer"]
    feedback_store().record(Feedback(
        rating="up" if rating == "up" else "down", question=msg["question"], lang=answer.get("lang") or ctx.lang,
        status=answer["status"], semantic_query=answer.get("semantic_query"), sql=answer.get("sql"),
        correction=str(st.session_state.get(f"correction_{msg['id']}", "") or "") if rating == "down" else "",
        context=list(msg.get("context") or []), user=ctx.user.id,
    ))
    msg["feedback"] = rating
