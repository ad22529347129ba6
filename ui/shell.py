"""The app shell: settings, UI language, the service, who is signed in, the sidebar and the page list.

Pages call ``context()``; a catalog or warehouse problem is shown once, here,
in the user's language (an admin can still open the Admin page to fix it).
``context()`` stops at the sign-in screen when nobody is signed in (``ui/auth.py``),
so no page runs for an unknown visitor, even one reached directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st

from assistant.service import ChatBI
from semantic_layer.errors import CatalogError, UserError
from semantic_layer.policy import Access, Principal

from . import auth, components
from .i18n import t
from .resources import current_bi
from .settings import Settings, load_settings

LANGS = {"zh": "中文", "en": "English"}


@dataclass(frozen=True)
class Context:
    settings: Settings
    lang: str
    bi: ChatBI | None
    user: Principal
    access: Access


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
    sign = auth.require_signed_in(settings, lang)  # stops here for a visitor nobody signed in
    assert sign.user is not None and sign.access is not None
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
    return Context(settings, lang, bi, sign.user, sign.access)


def sidebar() -> auth.SignIn:
    """The language switch and, for a signed-in user, the data and who they are; returns who is signed in."""
    settings = load_settings()
    lang = ui_lang()
    sign = auth.signed_in(settings)
    with st.sidebar:
        # The choice lives in "lang" (not the widget's own key), so it outlives the widget's state.
        st.radio(t("language", lang), list(LANGS), index=list(LANGS).index(lang), format_func=LANGS.__getitem__,
                 horizontal=True, key="lang_radio", on_change=_language_changed)
        if sign.user is None:
            return sign
        try:
            st.caption(t("as_of", lang, date=current_bi(settings).as_of.isoformat()))
        except UserError:
            pass  # the page says why
        st.caption(t("warehouse", lang, name=components.md_escape(settings.db.name)))
        auth.sidebar(sign, lang)
    return sign


def pages() -> list[Any]:
    """Chat (default), Metric catalog, Admin and Audit log (admins only), Data."""
    settings, lang = load_settings(), ui_lang()
    access = auth.signed_in(settings).access
    out = [
        st.Page("app_pages/chat.py", title=t("page_chat", lang), icon=":material/chat:", default=True, url_path="chat"),
        st.Page("app_pages/catalog.py", title=t("page_catalog", lang), icon=":material/menu_book:", url_path="catalog"),
    ]
    if access is not None and access.is_admin:
        out.append(st.Page("app_pages/admin.py", title=t("page_admin", lang), icon=":material/admin_panel_settings:",
                           url_path="admin"))
        out.append(st.Page("app_pages/audit.py", title=t("page_audit", lang), icon=":material/policy:",
                           url_path="audit"))
    out.append(st.Page("app_pages/data.py", title=t("page_data", lang), icon=":material/database:", url_path="data"))
    return out


def require_admin(settings: Settings, lang: str) -> None:
    """Defence in depth: the Admin and Audit pages check the user's role (``admin`` in access.yaml) even if
    reached directly; a visitor nobody signed in gets the sign-in screen."""
    if not auth.require_signed_in(settings, lang).is_admin:
        st.error(t("admins_only", lang))
        st.stop()
