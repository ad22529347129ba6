"""Long-lived objects and cached results for the app (STYLE 26).

``st.cache_resource`` holds the ChatBI service (catalog + engine + planner) per
(warehouse, catalog folder, catalog version): an admin's save changes the
version, so the next run picks the new catalog up. ``st.cache_data`` holds
answers keyed by everything they depend on, including the previous query of
the conversation, so a follow-up is never served a stale answer.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import streamlit as st

from assistant.audit import AuditEntry
from assistant.feedback import FeedbackStore
from assistant.service import ChatBI
from assistant.session import Session
from semantic_layer.catalog import Catalog
from semantic_layer.errors import CatalogError, Issue, UserError
from semantic_layer.loader import load_catalog
from semantic_layer.policy import Principal
from semantic_layer.store import CatalogStore, Validator

from .settings import Settings


def _playbook_validators() -> dict[str, Validator]:
    """The playbook's own validator when the playbook module ships (it validates names against the catalog)."""
    try:
        from assistant.playbook import PLAYBOOK_FILE, load_playbook
    except ImportError:  # pragma: no cover - the playbook is optional
        return {}

    def check(catalog: Catalog, text: str, file: str) -> list[Issue]:
        try:
            load_playbook(file, catalog=catalog, text=text)
        except CatalogError as exc:
            return list(exc.issues)
        return []

    return {PLAYBOOK_FILE: check}


@st.cache_resource(show_spinner=False)
def get_store(catalog_dir: str) -> CatalogStore:
    return CatalogStore(catalog_dir, validators=_playbook_validators())


@st.cache_resource(max_entries=4, show_spinner=False)
def get_bi(db: str, catalog_dir: str, catalog_version: str) -> ChatBI:
    """One service per catalog version (``catalog_version`` is only the cache key)."""
    return ChatBI(db, catalog_dir=catalog_dir)


def catalog_version(settings: Settings) -> str:
    """The store's version of every editable file, ``access.yaml`` included (row rules change answers too)."""
    return get_store(str(settings.catalog)).catalog_version()


def current_bi(settings: Settings) -> ChatBI:
    return get_bi(str(settings.db), str(settings.catalog), catalog_version(settings))


@st.cache_resource(max_entries=2, show_spinner=False)
def candidate_bi(db: str, catalog_dir: str, rel: str, text: str) -> ChatBI:
    """A service over the catalog as it would be with an unsaved edit (admin preview and suite).

    No audit log: a suite run is an evaluation, not questions of a user, and
    would otherwise trip the admin's rate limit after a few dozen cases.
    """
    return ChatBI(db, catalog=load_catalog(catalog_dir, overrides={rel: text}), audit=False)


def user_key(user: Principal) -> str:
    """What an answer depends on about who asks: id, role and attributes (not the display name)."""
    attributes = {k: sorted(v) for k, v in sorted(user.attributes.items())}
    return json.dumps([user.id, user.role, attributes], ensure_ascii=False)


_run = threading.local()  # .answered: set when ``ask`` really ran, i.e. was not served from the cache
RATE_LIMITED = 331  # assistant.service: too many questions this minute


class _NotCached(Exception):  # control flow: st.cache_data keeps no result that was raised
    def __init__(self, answer: dict[str, Any]) -> None:
        super().__init__("not cached")
        self.answer = answer


@st.cache_data(max_entries=256, show_spinner=False)
def ask(db: str, catalog_dir: str, catalog_version: str, data_version: str, question: str,
        previous_query: str | None, user: str, _principal: Principal, _session_id: str) -> dict[str, Any]:
    """One answer as JSON for ``_principal`` (``user`` is its cache key, ``user_key``).

    ``previous_query`` (JSON) is what a follow-up refines. Underscored
    arguments are not part of the cache key. A rate-limit refusal or an error
    (a timeout, say) holds only for now, so it is raised past the cache, not kept.
    """
    _run.answered = True
    bi = get_bi(db, catalog_dir, catalog_version)
    session = Session(_session_id)
    if previous_query:
        session.turns.append({"question": "", "status": "ok", "semantic_query": json.loads(previous_query)})
    answer = bi.ask(question, session=session, user=_principal).to_json()
    if answer["status"] == "error" or answer.get("error_code") == RATE_LIMITED:
        raise _NotCached(answer)
    return answer


def ask_in_session(settings: Settings, question: str, session: Session, user: Principal) -> dict[str, Any]:
    """Answer ``question`` for ``user`` as a turn of ``session`` and record it there."""
    version = catalog_version(settings)
    bi = get_bi(str(settings.db), str(settings.catalog), version)
    previous = session.last_query
    previous_json = previous.model_dump_json(exclude_defaults=True) if previous else None
    _run.answered = False
    try:
        answer = ask(str(settings.db), str(settings.catalog), version, bi.engine.data_version(), question,
                     previous_json, user_key(user), user, session.id)
    except _NotCached as exc:
        answer = exc.answer
    if not _run.answered:
        answer = _served_from_cache(bi, answer, user, session, question)
    session.turns.append({"question": question, "status": answer["status"],
                          "semantic_query": answer["semantic_query"] if answer["status"] == "ok" else None})
    del session.turns[:-20]
    return answer


def _served_from_cache(bi: ChatBI, answer: dict[str, Any], user: Principal, session: Session,
                       question: str) -> dict[str, Any]:
    """A cached answer is still a question asked: audit it, and over the rate limit let the service refuse it.

    An audit log that cannot be written raises, as the service's own does: no
    answer is shown that the log does not hold.
    """
    if bi.audit is None:
        return answer
    per_minute = bi.catalog.policy.limits.questions_per_minute
    if per_minute and not user.is_local:
        try:
            over = bi.audit.count_since(user.id, 60) >= per_minute
        except UserError:
            over = True  # the log cannot be read: the service answers, and fails closed the same way
        if over:
            return bi.ask(question, session=Session(session.id), user=user).to_json()  # refused (331), audited
    bi.audit.record(AuditEntry(
        user_id=user.id, role=user.role, question=answer.get("question") or question, status=answer["status"],
        lang=answer.get("lang") or "zh", session_id=session.id, planner="cache",
        semantic_query=answer.get("semantic_query"), sql=answer.get("sql"), rows_returned=len(answer.get("rows") or []),
        duration_ms=0.0, error_code=answer.get("error_code"), message=answer.get("message") or "",
    ))
    return answer


def feedback_store() -> FeedbackStore:
    return FeedbackStore()
