"""The app shell: settings, UI language, the service, the sidebar and the page list.

Pages call ``context()``; a catalog or warehouse problem is shown once, here,
in the user's language (an admin can still open the Admin page to fix it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st

from assistant.service import ChatBI
from semantic_layer.errors import CatalogError, UserError

from . import components
from .i18n import t
from .resources import current_bi
from .settings import Settings, load_settings

LANGS = {"zh": "中文", "en": "English"}


@dataclass(frozen=True)
class Context:
    settings: Settings
    lang: str
    bi: ChatBI | None


def user_message(exc: UserError, lang: str) -> str:
    return exc.message("zh" if lang == "zh" else "en")


def ui_lang() -> str:
    lang = st.session_state.get("lang")
    return lang if lang in LANGS else load_settings().lang


def _language_changed() -> None:
    st.session_state["lang"] = st.session_state["lang_radio"]


def context(*, show_errors: bool = True) -> Context:
    settings = load_settings()
    lang = ui_lang()
    try:
        bi: ChatBI | None = current_bi(settings)
    except CatalogError as exc:
        bi = None
        if show_errors:
            st.error(t("catalog_invalid", lang))
            components.issues_table(exc.issues, str(settings.catalog), lang)
    except UserError as exc:
        bi = None
        if show_errors:
            components.error(t("unavailable", lang, message=user_message(exc, lang)))
    return Context(settings, lang, bi)


def sidebar() -> None:
    settings = load_settings()
    lang = ui_lang()
    with st.sidebar:
        # The choice lives in "lang" (not the widget's own key), so it outlives the widget's state.
        st.radio(t("language", lang), list(LANGS), index=list(LANGS).index(lang), format_func=LANGS.__getitem__,
                 horizontal=True, key="lang_radio", on_change=_language_changed)
        ctx = context(show_errors=False)
        if ctx.bi is not None:
            st.caption(t("as_of", lang, date=ctx.bi.as_of.isoformat()))
        st.caption(t("warehouse", lang, name=components.md_escape(settings.db.name)))
        st.caption(t("role", lang, role=settings.role))


def pages() -> list[Any]:
    """Chat (default), Metric catalog, Admin (admins only), Data."""
    settings, lang = load_settings(), ui_lang()
    out = [
        st.Page("app_pages/chat.py", title=t("page_chat", lang), icon=":material/chat:", default=True, url_path="chat"),
        st.Page("app_pages/catalog.py", title=t("page_catalog", lang), icon=":material/menu_book:", url_path="catalog"),
    ]
    if settings.is_admin:
        out.append(st.Page("app_pages/admin.py", title=t("page_admin", lang), icon=":material/admin_panel_settings:",
                           url_path="admin"))
    out.append(st.Page("app_pages/data.py", title=t("page_data", lang), icon=":material/database:", url_path="data"))
    return out


def require_admin(settings: Settings, lang: str) -> None:
    """Defence in depth: the Admin page checks the role even if reached directly."""
    if not settings.is_admin:
        st.error(t("admins_only", lang))
        st.stop()
