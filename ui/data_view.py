"""The data page: which warehouse, its tables and sizes, the as-of date, a refresh of customer models; for
admins, the import of their own data into a new warehouse (``ui/import_view.py``)."""

from __future__ import annotations

import time

import streamlit as st

from semantic_layer.catalog import Catalog
from semantic_layer.errors import CatalogError
from semantic_layer.loader import load_catalog

from . import import_view
from .auth import may_refresh
from .components import md_escape
from .i18n import t
from .shell import Context, context


def render() -> None:
    ctx = context()
    st.title(t("data_title", ctx.lang))
    if ctx.bi is not None:
        _warehouse(ctx)
    if ctx.access.is_admin:  # an import builds a whole warehouse: admins only
        catalog = ctx.bi.catalog if ctx.bi is not None else _catalog(ctx)
        if catalog is not None:
            import_view.render(ctx, catalog)


def _catalog(ctx: Context) -> Catalog | None:
    """The catalog when the warehouse is what failed (a missing file): an admin can still import one."""
    try:
        return load_catalog(ctx.settings.catalog)
    except CatalogError:
        return None  # context() has shown why


def _warehouse(ctx: Context) -> None:
    lang, s = ctx.lang, ctx.settings
    bi = ctx.bi
    assert bi is not None
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

