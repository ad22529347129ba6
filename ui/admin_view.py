"""The Admin page: edit catalog files and the playbook, validate, preview, run the suite, save, restore; feedback.

The editor remembers the version (content hash) of the file it loaded; Save
and Restore pass it to ``CatalogStore`` so an edit made against a stale
version is refused, never written over someone else's save.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from semantic_layer.errors import CatalogError, UserError
from semantic_layer.store import CatalogStore, CheckResult, HistoryEntry, StaleVersionError

from . import components
from .admin_ops import STATUSES, dimension_names, metric_names, preview_metric, promote_feedback, run_golden_suite
from .i18n import t
from .resources import candidate_bi, feedback_store, get_store
from .shell import Context, context, require_admin, user_message

LOADED = "admin_loaded"  # {rel: (text, version)} as the editor loaded it
FLASH = "admin_flash"


@st.cache_resource(max_entries=8, show_spinner=False)
def _check(root: str, rel: str, text: str, version: str) -> CheckResult:
    """Validation of one edit (``version``: the catalog's, so other files' changes count)."""
    return get_store(root).check(rel, text)


def render() -> None:
    ctx = context(show_errors=False)
    lang = ctx.lang
    require_admin(ctx.settings, lang)
    st.title(t("page_admin", lang))
    store = get_store(str(ctx.settings.catalog))
    if flash := st.session_state.pop(FLASH, None):
        getattr(st, flash[0])(flash[1])
    editor, suite, feedback = st.tabs([t("admin_editor", lang), t("admin_suite", lang), t("admin_feedback", lang)])
    with editor:
        rel, text = _editor(store, ctx)
    check = _check(str(store.root), rel, text, store.catalog_version())
    with editor:
        _preview(check, ctx, rel, text)
        _history(store, rel, ctx)
    with suite:
        _suite(check, ctx, rel, text)
    with feedback:
        _feedback(ctx)


# --- editor -----------------------------------------------------------------------------


def _loaded(store: CatalogStore, rel: str) -> tuple[str, str]:
    loaded: dict[str, tuple[str, str]] = st.session_state.setdefault(LOADED, {})
    if rel not in loaded:
        loaded[rel] = store.read(rel)
    return loaded[rel]


def _editor(store: CatalogStore, ctx: Context) -> tuple[str, str]:
    lang = ctx.lang
    rel = st.selectbox(t("file", lang), store.files(), key="admin_file")
    base_text, version = _loaded(store, rel)
    st.caption(t("version", lang, version=version))
    text = st.text_area(t("content", lang), value=base_text, height=460, key=f"admin_text::{rel}::{version}")
    with st.container(horizontal=True):
        validate = st.button(t("validate", lang), key="admin_validate")
        save = st.button(t("save", lang), key="admin_save", type="primary")
        st.button(t("reload", lang), key="admin_reload", on_click=_forget, args=(rel,))
    if validate:
        result = store.check(rel, text)
        if result.ok:
            assert result.catalog is not None
            st.success(t("valid", lang, models=len(result.catalog.models), metrics=len(result.catalog.metrics)))
        if result.issues:
            st.warning(t("issues", lang, n=len(result.issues)))
            components.issues_table(list(result.issues), str(store.root), lang)
    if save:
        _write(store, rel, version, lang, lambda: store.save(rel, text, version, author=ctx.user.id), "saved")
    return rel, text


def _forget(rel: str) -> None:
    st.session_state.setdefault(LOADED, {}).pop(rel, None)


def _write(store: CatalogStore, rel: str, expected: str, lang: str, action: Any, done_key: str) -> None:
    """Run a save or restore; on success reload the editor, else show why nothing was written."""
    try:
        new_version = action()
    except StaleVersionError as exc:
        st.error(t("stale", lang))
        components.plain(user_message(exc, lang))
        return
    except CatalogError as exc:
        components.error(t("not_saved", lang) + " " + user_message(exc, lang))
        components.issues_table(exc.issues, str(store.root), lang)
        return
    except UserError as exc:
        components.error(user_message(exc, lang))
        return
    st.session_state.setdefault(LOADED, {})[rel] = store.read(rel)
    st.cache_data.clear()  # answers and catalog cards of the old catalog
    st.session_state[FLASH] = ("success", t(done_key, lang, rel=rel, version=new_version))
    st.rerun()


def _history(store: CatalogStore, rel: str, ctx: Context) -> None:
    lang = ctx.lang
    entries = store.history(rel)
    if not entries:
        return
    _, loaded_version = _loaded(store, rel)
    current = store.version(rel)
    st.subheader(t("history", lang))
    for entry in entries[:20]:
        with st.container(horizontal=True, vertical_alignment="center"):
            marker = f"  ({t('current', lang)})" if entry.version == current else ""
            st.text(f"{entry.saved_at:%Y-%m-%d %H:%M:%S} UTC   {entry.version}{marker}{_author(entry, lang)}")
            with st.popover(entry.version, width="content"):
                st.code(entry.read(), language="yaml")
            if st.button(t("restore", lang), key=f"restore_{entry.version}", disabled=entry.version == current):
                _write(store, rel, loaded_version, lang,
                       lambda e=entry: store.restore(rel, e.version, loaded_version, author=ctx.user.id), "restored")


def _author(entry: HistoryEntry, lang: str) -> str:
    """``  · saved by wang`` (or restored by, and when); nothing for versions saved before authors were kept."""
    if not entry.author:
        return ""
    if entry.action == "restore" and entry.changed_at is not None:
        return "  · " + t("history_restored_by", lang, author=entry.author, ts=f"{entry.changed_at:%Y-%m-%d %H:%M:%S}")
    return "  · " + t("history_saved_by", lang, author=entry.author)


# --- preview and suite --------------------------------------------------------------------


def _preview(check: CheckResult, ctx: Context, rel: str, text: str) -> None:
    lang, s = ctx.lang, ctx.settings
    st.subheader(t("preview", lang))
    if not check.ok or check.catalog is None:
        st.warning(t("issues", lang, n=len(check.errors)))
        components.issues_table(check.errors, str(s.catalog), lang)
        return
    st.caption(t("preview_help", lang))
    with st.container(horizontal=True, vertical_alignment="bottom"):
        metric = st.selectbox(t("preview_metric", lang), metric_names(check.catalog), key="admin_preview_metric")
        dims = ["", *dimension_names(check.catalog)]
        dim = st.selectbox(t("preview_dimension", lang), dims, key="admin_preview_dim",
                           format_func=lambda d: d or t("none", lang))
        go = st.button(t("preview", lang), key="admin_preview")
    if go and metric:
        answer = preview_metric(candidate_bi(str(s.db), str(s.catalog), rel, text), metric, dim or None, lang,
                                user=ctx.user)
        if answer.sql:
            st.code(answer.sql, language="sql")
        if answer.status == "ok":
            st.dataframe({c: [r[i] for r in answer.rows] for i, c in enumerate(answer.columns)}, hide_index=True,
                         key="admin_preview_rows")
        else:
            components.error(answer.message)


def _suite(check: CheckResult, ctx: Context, rel: str, text: str) -> None:
    lang, s = ctx.lang, ctx.settings
    st.caption(t("suite_file", lang, path=components.md_escape(str(s.suite))))
    with_edit = st.checkbox(t("suite_with_edit", lang), value=True, key="admin_suite_edit", disabled=not check.ok)
    if not st.button(t("run_suite", lang), key="admin_run_suite", type="primary"):
        return
    bar = st.progress(0.0)
    if with_edit and check.ok:
        bi = candidate_bi(str(s.db), str(s.catalog), rel, text)
    else:
        bi = candidate_bi(str(s.db), str(s.catalog), rel, get_store(str(s.catalog)).read(rel)[0])
    try:
        report = run_golden_suite(bi, s.suite, s.db, progress=lambda done, total: _progress(bar, done, total))
    except (OSError, ValueError) as exc:
        components.error(str(exc))
        return
    passed = sum(r.passed for r in report.results)
    st.metric(t("accuracy", lang), f"{report.accuracy:.1%}")
    st.caption(t("suite_summary", lang, passed=passed, failed=len(report.results) - passed))
    failures = [{"id": r.case.id, "question": r.case.conversation()[-1].question, "detail": r.detail}
                for r in report.results if not r.passed]
    if failures:
        st.dataframe(failures, hide_index=True, key="admin_suite_failures")


def _progress(bar: Any, done: int, total: int) -> None:
    bar.progress(done / total)


# --- feedback -----------------------------------------------------------------------------


def _feedback(ctx: Context) -> None:
    lang, s = ctx.lang, ctx.settings
    store = feedback_store()
    entries = store.entries()
    if not entries:
        st.caption(t("no_feedback", lang))
        return
    for fb in entries[:100]:
        with st.container(border=True):
            st.text(f"{'+1' if fb.rating == 'up' else '-1'}  {fb.ts}  [{fb.status}]  {fb.user}")
            components.plain(f"{t('question', lang)}: {fb.question}")
            if fb.context:
                components.plain(f"{t('context', lang)}: " + " → ".join(fb.context))
            if fb.correction:
                components.plain(f"{t('correction', lang)} {fb.correction}")
            if fb.promoted_as:
                st.caption(t("promoted", lang, case=fb.promoted_as))
                continue
            sql = st.text_area(t("check_sql", lang), value=fb.sql or "", key=f"fb_sql_{fb.id}", height=120)
            status = st.selectbox(t("expect_status", lang), STATUSES, key=f"fb_status_{fb.id}",
                                  format_func=lambda x: x or "—")
            with_context = bool(fb.context) and st.checkbox(t("with_context", lang), value=True,
                                                            key=f"fb_context_{fb.id}")
            if st.button(t("promote", lang), key=f"fb_promote_{fb.id}"):
                try:
                    case = promote_feedback(store, fb.id, s.suite, s.db, check_sql=sql, expect_status=status,
                                            with_context=with_context)
                except (ValueError, KeyError) as exc:
                    components.error(str(exc))
                else:
                    st.session_state[FLASH] = ("success", t("promoted", lang, case=case.id))
                    st.rerun()
