"""Long-lived objects and cached results for the app (STYLE 26).

``st.cache_resource`` holds the ChatBI service (catalog + engine + planner) per
(warehouse, catalog folder, catalog version): an admin's save changes the
version, so the next run picks the new catalog up. ``st.cache_data`` holds
answers keyed by everything they depend on, including the previous query of
the conversation, so a follow-up is never served a stale answer.
"""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from assistant.feedback import FeedbackStore
from assistant.service import ChatBI
from assistant.session import Session
from semantic_layer.catalog import Catalog
from semantic_layer.errors import CatalogError, Issue
from semantic_layer.loader import load_catalog
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


def current_bi(settings: Settings) -> ChatBI:
    store = get_store(str(settings.catalog))
    return get_bi(str(settings.db), str(settings.catalog), store.catalog_version())


@st.cache_resource(max_entries=2, show_spinner=False)
def candidate_bi(db: str, catalog_dir: str, rel: str, text: str) -> ChatBI:
    """A service over the catalog as it would be with an unsaved edit (admin preview and suite)."""
    return ChatBI(db, catalog=load_catalog(catalog_dir, overrides={rel: text}))


@st.cache_data(max_entries=256, show_spinner=False)
def ask(db: str, catalog_dir: str, catalog_version: str, data_version: str, question: str,
        previous_query: str | None) -> dict[str, Any]:
    """One answer as JSON; ``previous_query`` (JSON) is what a follow-up refines."""
    bi = get_bi(db, catalog_dir, catalog_version)
    session = Session("ui")
    if previous_query:
        session.turns.append({"question": "", "status": "ok", "semantic_query": json.loads(previous_query)})
    return bi.ask(question, session=session).to_json()


def ask_in_session(settings: Settings, question: str, session: Session) -> dict[str, Any]:
    """Answer ``question`` as a turn of ``session`` and record it there."""
    store = get_store(str(settings.catalog))
    version = store.catalog_version()
    bi = get_bi(str(settings.db), str(settings.catalog), version)
    previous = session.last_query
    answer = ask(str(settings.db), str(settings.catalog), version, bi.engine.data_version(), question,
                 previous.model_dump_json(exclude_defaults=True) if previous else None)
    session.turns.append({"question": question, "status": answer["status"],
                          "semantic_query": answer["semantic_query"] if answer["status"] == "ok" else None})
    del session.turns[:-20]
    return answer


def feedback_store() -> FeedbackStore:
    return FeedbackStore()
