"""The data page: which warehouse, its tables and sizes, the as-of date, and a refresh of customer models."""

from __future__ import annotations

import time

import streamlit as st

from .auth import may_refresh
from .components import md_escape
from .i18n import t
from .shell import context


def render() -> None:
    ctx = context()
    lang, s = ctx.lang, ctx.settings
    st.title(t("data_title", lang))
    if ctx.bi is None:
        return
    bi = ctx.bi
    c1, c2, c3 = st.columns(3)
    c1.metric(t("as_of_label", lang), bi.as_of.isoformat())
    c2.metric(t("data_version", lang), bi.engine.data_version())
    c3.metric(t("tables", lang), len(bi.engine.tables()))
    st.caption(f"{t('db_path', lang)}: {md_escape(str(s.db))}")
    models = bi.materializer.materialized_models()
    counts = bi.engine.table_counts()
    rows = [{t("table", lang): name, t("rows", lang): n, t("columns", lang): len(bi.engine.tables().get(name, [])),
             t("kind", lang): t("kind_model" if name in models else "kind_warehouse", lang)}
            for name, n in counts.items()]
    st.dataframe(rows, hide_index=True, key="data_tables")
    allowed = may_refresh(ctx.access)
    if st.button(t("refresh", lang), disabled=not allowed, help=None if allowed else t("refresh_denied", lang),
                 key="refresh_models", type="primary"):
        started = time.perf_counter()
        with st.spinner(t("refresh", lang)):
            built = bi.materializer.ensure(models, bi.as_of, force=True)
        st.cache_data.clear()  # cached answers read the old models
        st.session_state["data_refreshed"] = t("refreshed", lang, models=", ".join(built),
                                               seconds=f"{time.perf_counter() - started:.1f}")
        st.rerun()
    if msg := st.session_state.pop("data_refreshed", None):
        st.success(msg)

