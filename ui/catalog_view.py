"""The metric catalog page: search, then each metric's names, synonyms, formula, SQL and examples."""

from __future__ import annotations

import streamlit as st

from . import chat_view, components
from .catalog_cards import MetricCard, metric_cards, search
from .i18n import t
from .resources import get_store
from .shell import context


@st.cache_data(max_entries=8, show_spinner=False)
def _cards(db: str, catalog_dir: str, version: str, as_of: str) -> list[MetricCard]:
    from .resources import get_bi

    bi = get_bi(db, catalog_dir, version)
    return metric_cards(bi.catalog, bi.as_of)


def render() -> None:
    ctx = context()
    lang = ctx.lang
    st.title(t("page_catalog", lang))
    if ctx.bi is None:
        return
    s = ctx.settings
    cards = _cards(str(s.db), str(s.catalog), get_store(str(s.catalog)).catalog_version(), ctx.bi.as_of.isoformat())
    query = st.text_input(t("catalog_search", lang), key="catalog_search", max_chars=100)
    found = search(cards, query)
    st.caption(t("catalog_count", lang, n=len(found)))
    for card in found:
        _card(card, lang, expanded=bool(query) and len(found) <= 3)


def _card(card: MetricCard, lang: str, expanded: bool) -> None:
    title = f"{card.label_zh} / {card.label_en} · {card.name}"
    with st.expander(components.md_escape(title), expanded=expanded):
        components.plain(f"{t('names', lang)}: {card.label_zh} | {card.label_en}   ({card.area})")
        synonyms = f"{'、'.join(card.synonyms_zh) or '—'} | {', '.join(card.synonyms_en) or '—'}"
        components.plain(f"{t('synonyms', lang)}: {synonyms}")
        components.plain(f"{t('description', lang)}: {card.description_zh if lang == 'zh' else card.description_en}")
        if card.personal:
            st.caption(t("personal_metric", lang))
        st.caption(t("formula", lang))
        st.code(card.formula, language="sql")
        st.caption(t("compiled_sql", lang))
        st.code(card.sql, language="sql")
        if card.examples:
            st.caption(t("examples", lang))
            with st.container(horizontal=True):
                for i, q in enumerate(card.examples):
                    if st.button(components.md_escape(q), key=f"ex_{card.name}_{i}", help=t("ask_this", lang)):
                        chat_view.queue(q)
                        st.switch_page("app_pages/chat.py")
