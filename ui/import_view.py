"""The Data page's "Import data" section (admins only): sources → mapping → cleaning rules → run → quality report.

Logic lives in ``ui/import_ops.py``; this module only draws. The mapping being
edited is one YAML text in the session (``Draft.text``): every form widget's
callback rewrites it, the YAML editor replaces it, and the form is rebuilt from
it (under new widget keys) whenever it changes from elsewhere. The import
runs in a worker thread while this script draws its progress; it builds a new
warehouse file and never touches the one being served.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import duckdb
import streamlit as st
from pydantic import ValidationError

from ingest.contract import TARGETS
from ingest.mapping import TARGET_NAMES, MappingFile, SourceMap
from ingest.report import QualityReport
from semantic_layer.catalog import Catalog
from semantic_layer.errors import UserError

from . import components
from . import import_ops as ops
from .components import md_escape
from .i18n import t
from .shell import Context, user_message

DRAFT = "imp_draft"  # ops.Draft of the import being prepared
RESULT = "imp_result"  # ops.Outcome of the last run
YAML = "imp_yaml"  # the YAML editor's text
TARGET = "imp_target_db"  # the new warehouse file's path
FORM = "imp_form"  # generation of the form's widgets: a new one rebuilds the form from the YAML
# Expanders opened because of an error stay open until the next draft: Streamlit folds an expander whose
# ``expanded`` argument turns False, which would hide a source while its error is being fixed.
OPEN = "imp_open"
RULE_FIELDS = ("business_start", "latest_date", "date_order", "missing_threshold", "extreme_factor", "extreme_action",
               "dedupe_keys", "invalid_optional", "unknown_reference")


def render(ctx: Context, catalog: Catalog) -> None:
    """Draw the import section; nothing for anyone but an admin (an import builds a whole warehouse)."""
    if not ctx.access.is_admin:
        return
    lang = ctx.lang
    st.divider()
    st.header(t("imp_title", lang), anchor="import")
    st.caption(t("imp_intro", lang))
    _sources(ctx, catalog)
    draft: ops.Draft | None = st.session_state.get(DRAFT)
    if draft is not None:
        mapping = _mapping(draft, lang, catalog)
        _run(draft, mapping, ctx, catalog)
    outcome: ops.Outcome | None = st.session_state.get(RESULT)
    if outcome is not None:
        _report(outcome, ctx)


# --- 1. sources ----------------------------------------------------------------------------


def _sources(ctx: Context, catalog: Catalog) -> None:
    lang = ctx.lang
    st.subheader(t("imp_step_sources", lang))
    files = st.file_uploader(t("imp_upload", lang), type=list(ops.UPLOAD_TYPES), accept_multiple_files=True,
                             key="imp_files")
    st.text_area(t("imp_paths", lang), key="imp_paths", height=90,
                 placeholder="/data/export/\n/data/shop.duckdb\npostgresql://user@host:5432/shop")
    st.caption(t("imp_pg_hint", lang))
    if not st.button(t("imp_suggest", lang), key="imp_suggest", type="primary", icon=":material/auto_fix_high:"):
        return
    try:
        with st.spinner(t("imp_suggesting", lang)):
            draft = ops.start([(f.name, f.getbuffer()) for f in files or []], st.session_state.get("imp_paths") or "",
                              catalog)
    except UserError as exc:
        components.error(user_message(exc, lang))
        return
    except duckdb.Error as exc:  # a file DuckDB cannot read at all (a damaged Parquet, say)
        components.error(t("imp_unreadable", lang, message=f"{type(exc).__name__}: {exc}"))
        return
    st.session_state[DRAFT] = draft
    st.session_state[YAML] = draft.text
    st.session_state[TARGET] = str(draft.default_target)
    st.session_state.pop(RESULT, None)
    st.session_state[OPEN] = set()
    _reset_form()


# --- 2. mapping and 3. rules ----------------------------------------------------------------


def _mapping(draft: ops.Draft, lang: str, catalog: Catalog) -> MappingFile | None:
    """The form over the draft, its validation, the YAML editor; returns the mapping when it is valid."""
    st.subheader(t("imp_step_mapping", lang))
    st.caption(t("imp_workspace", lang, path=md_escape(str(draft.workspace))))
    valid, issues = ops.validate(draft, catalog)
    if issues:
        st.error(t("imp_invalid", lang, n=len(issues)))
        components.issues_table(issues, str(draft.workspace), lang)
    else:
        assert valid is not None
        st.success(t("imp_valid", lang, sources=len(valid.sources)))
    opened: set[int | str] = st.session_state.setdefault(OPEN, set())
    for issue in issues:
        where = re.match(r"sources\[(\d+)\]", issue.path or "")  # "sources[2].columns.手机" → source 2
        opened |= {int(where[1]), "yaml"} if where else {"yaml"}
    model = ops.form_model(draft.text)
    if model is None:
        st.warning(t("imp_form_unavailable", lang))
    else:
        for i, src in enumerate(model.sources):
            _source_form(i, src, draft, lang, expanded=i in opened)
        st.subheader(t("imp_step_rules", lang))
        _rules_form(model, lang)
    _yaml_box(draft, lang, expanded="yaml" in opened)
    return valid


def _source_form(i: int, src: SourceMap, draft: ops.Draft, lang: str, *, expanded: bool) -> None:
    mapped = sum(v is not None for v in src.columns.values())
    label = t("imp_source_label", lang, source=md_escape(ops.label(src)), target=src.target, mapped=mapped,
              total=len(src.columns))
    with st.expander(label, expanded=expanded):
        st.selectbox(t("imp_target_table", lang), TARGET_NAMES, index=TARGET_NAMES.index(src.target),
                     key=_key(f"target_{i}"), on_change=_target_changed, args=(i,))
        names = TARGETS[src.target].names
        for j, (column, target) in enumerate(src.columns.items()):
            # A name the contract lacks stays selectable, so the error above points at what the YAML says.
            options: list[str | None] = [None, *names] + ([target] if target and target not in names else [])
            name, choice, why = st.columns([2, 3, 2], vertical_alignment="center")
            name.text(column)
            choice.selectbox(md_escape(column), options, index=options.index(target), key=_key(f"col_{i}_{j}"),
                             format_func=lambda v: t("imp_ignore", lang) if v is None else v,
                             on_change=_form_changed, label_visibility="collapsed")
            why.caption(_why(draft, src, column, target, lang))


def _why(draft: ops.Draft, src: SourceMap, column: str, target: str | None, lang: str) -> str:
    if target is None:
        return t("imp_reason_none", lang)
    found = ops.reason(draft.reasons, src, column, target)
    if found is None:
        return t("imp_reason_manual", lang)
    return t("imp_reason", lang, method=t(f"imp_method_{found.method}", lang), score=f"{found.score:.2f}")


def _rules_form(model: MappingFile, lang: str) -> None:
    r = model.rules
    c1, c2, c3 = st.columns(3)
    low, high = dt.date(1900, 1, 1), dt.date(2100, 12, 31)
    c1.date_input(t("imp_business_start", lang), value=r.business_start, min_value=min(low, r.business_start),
                  max_value=max(high, r.business_start), key=_key("business_start"), on_change=_form_changed)
    c2.date_input(t("imp_latest_date", lang), value=r.latest_date, min_value=low, max_value=high,
                  key=_key("latest_date"), on_change=_form_changed)
    _choice(c3, "date_order", r.date_order, ("mdy", "dmy"), lang)
    c1.number_input(t("imp_missing_threshold", lang), min_value=0.0, max_value=1.0, value=float(r.missing_threshold),
                    step=0.05, format="%.2f", key=_key("missing_threshold"), on_change=_form_changed)
    c2.number_input(t("imp_extreme_factor", lang), min_value=1.01, value=float(r.extreme.factor), step=1.0,
                    key=_key("extreme_factor"), on_change=_form_changed)
    _choice(c3, "extreme_action", r.extreme.action, ("flag", "cap", "quarantine"), lang)
    c1.multiselect(t("imp_dedupe_keys", lang), ["phone", "email", "name_city"],
                   default=list(r.dedupe.keys) if r.dedupe.enabled else [], key=_key("dedupe_keys"),
                   format_func=lambda k: t(f"imp_key_{k}", lang), on_change=_form_changed)
    _choice(c2, "invalid_optional", r.invalid_optional, ("nullify", "quarantine"), lang)
    _choice(c3, "unknown_reference", r.unknown_reference, ("quarantine", "keep"), lang)
    st.caption(t("imp_rules_more", lang))


def _choice(where: Any, name: str, value: str, options: tuple[str, ...], lang: str) -> None:
    where.selectbox(t(f"imp_{name}", lang), options, index=options.index(value), key=_key(name),
                    format_func=lambda v: t(f"imp_{name}_{v}", lang), on_change=_form_changed)


def _yaml_box(draft: ops.Draft, lang: str, *, expanded: bool) -> None:
    with st.expander(t("imp_yaml", lang), expanded=expanded, icon=":material/description:"):
        st.file_uploader(t("imp_yaml_upload", lang), type=["yaml", "yml"], key="imp_yaml_file",
                         on_change=_yaml_uploaded)
        if YAML not in st.session_state:  # dropped while the page was not shown
            st.session_state[YAML] = draft.text
        st.text_area(t("imp_yaml_edit", lang), key=YAML, height=360)
        with st.container(horizontal=True):
            st.button(t("imp_yaml_apply", lang), key="imp_yaml_apply", on_click=_yaml_applied,
                      icon=":material/check:")
            st.download_button(t("imp_yaml_download", lang), data=draft.text.encode("utf-8"), file_name="mapping.yaml",
                               mime="application/yaml", key="imp_yaml_download", on_click="ignore",
                               icon=":material/download:")


# --- callbacks: each rewrites the draft's YAML ---------------------------------------------


def _set_text(draft: ops.Draft, text: str) -> None:
    draft.text = text
    st.session_state[YAML] = text


def _key(name: str) -> str:
    """A form widget's key, in the form's current generation."""
    return f"imp_f{st.session_state.get(FORM, 0)}_{name}"


def _reset_form() -> None:
    """Rebuild the form from the draft: new keys, so no widget (nor the browser's copy of it) keeps an old value."""
    st.session_state[FORM] = st.session_state.get(FORM, 0) + 1


def _form_changed() -> None:
    """Any form widget: the draft becomes what the form shows."""
    draft: ops.Draft = st.session_state[DRAFT]
    model = ops.form_model(draft.text)
    if model is None:
        return
    state = st.session_state
    for i, src in enumerate(model.sources):
        columns = {c: state.get(_key(f"col_{i}_{j}"), v) for j, (c, v) in enumerate(src.columns.items())}
        model = ops.with_source(model, i, columns=columns)
    try:
        model = ops.with_rules(model, **{name: state[_key(name)] for name in RULE_FIELDS if _key(name) in state})
    except ValidationError:  # a setting cleared that cannot be empty (the business start): show the mapping's again
        _reset_form()
    _set_text(draft, ops.render_yaml(model, draft.reasons))


def _target_changed(i: int) -> None:
    """Another target table: its columns are assigned afresh, as the suggester would for that table."""
    draft: ops.Draft = st.session_state[DRAFT]
    model = ops.form_model(draft.text)
    if model is None:
        return
    target = st.session_state[_key(f"target_{i}")]
    columns = ops.reassign(model.sources[i], target, draft.reasons)
    _set_text(draft, ops.render_yaml(ops.with_source(model, i, target=target, columns=columns), draft.reasons))
    _reset_form()


def _yaml_applied() -> None:
    _set_text(st.session_state[DRAFT], st.session_state.get(YAML) or "")
    _reset_form()


def _yaml_uploaded() -> None:
    upload = st.session_state.get("imp_yaml_file")
    if upload is not None:
        _set_text(st.session_state[DRAFT], upload.getvalue().decode("utf-8-sig", errors="replace"))
        _reset_form()


# --- 4. run ----------------------------------------------------------------------------------


def _run(draft: ops.Draft, mapping: MappingFile | None, ctx: Context, catalog: Catalog) -> None:
    lang = ctx.lang
    st.subheader(t("imp_step_run", lang))
    if TARGET not in st.session_state:
        st.session_state[TARGET] = str(draft.default_target)
    text = st.text_input(t("imp_target_db", lang), key=TARGET, help=t("imp_target_help", lang))
    db = None
    try:
        db = ops.check_target(text, draft, ctx.settings.db)
    except UserError as exc:
        components.error(user_message(exc, lang))
    if mapping is None:
        st.caption(t("imp_fix_first", lang))
    clicked = st.button(t("imp_run", lang), key="imp_run", type="primary", disabled=mapping is None or db is None,
                        icon=":material/database_upload:")
    if not clicked or mapping is None or db is None:  # nothing runs while the mapping or the target is wrong
        return
    ops.save_mapping_text(draft)
    bar = st.progress(0.0, text=t("imp_started", lang))
    run = ops.ImportRun(mapping, db, draft, catalog).start()
    try:
        while not run.wait(0.25):
            fraction, label = run.progress
            bar.progress(fraction, text=md_escape(label) if label else t("imp_started", lang))
    finally:
        # A click elsewhere reruns the page only after the import ends: its result is kept, never half-shown.
        run.wait()
        st.session_state[RESULT] = ops.finish(run, db, draft)
    bar.progress(1.0, text=t("imp_finished", lang))


# --- 5. report -------------------------------------------------------------------------------


def _report(outcome: ops.Outcome, ctx: Context) -> None:
    lang = ctx.lang
    st.subheader(t("imp_step_report", lang))
    if outcome.error is not None:
        components.error(t("imp_failed", lang, message=outcome.error[0 if lang == "zh" else 1]))
        return
    assert outcome.report is not None
    report = QualityReport.from_dict(outcome.report)
    done = "imp_done" if report.reconciled else "imp_not_reconciled"
    (st.success if report.reconciled else st.error)(t(done, lang, db=md_escape(outcome.db),
                                                       seconds=f"{report.seconds:.1f}"))
    st.caption(t("imp_serve", lang))
    st.code(ops.serve_command(outcome.db, ctx.settings.catalog), language="bash")
    st.caption(t("imp_mapping_saved", lang, path=md_escape(outcome.mapping)))

    st.markdown(f"**{t('imp_totals', lang)}**")
    st.dataframe(_table_rows(report, lang), hide_index=True, key="imp_totals")
    money = _money_rows(report, lang)
    if money:
        st.dataframe(money, hide_index=True, key="imp_money")
    st.markdown(f"**{t('imp_rules', lang)}**")
    st.dataframe(_rule_rows(report, lang), hide_index=True, key="imp_rules")
    examples = _example_rows(report, lang)
    if examples:
        with st.expander(t("imp_examples", lang)):
            st.dataframe(examples, hide_index=True, key="imp_examples")
    if report.flags:
        st.markdown(f"**{t('imp_flags', lang)}**")
        st.dataframe(_flag_rows(report, lang), hide_index=True, key="imp_flags")
    if report.merges.get("merged"):
        m = report.merges
        by = ", ".join(f"{t('imp_key_' + k, lang)} {v}" for k, v in m.get("by_key", {}).items())
        st.text(t("imp_merges", lang, merged=m["merged"], groups=m.get("groups", 0),
                  orders=m.get("orders_repointed", 0), by=by))
    for note in report.notes:
        st.text(note.get(lang) or note.get("en") or "")
    st.markdown(f"**{t('imp_quarantine', lang, n=len(outcome.preview), total=outcome.quarantined)}**")
    reason = "reason_zh" if lang == "zh" else "reason_en"
    preview = [{k: v for k, v in row.items() if k not in ("reason_zh", "reason_en")} | {"reason": row[reason]}
               for row in outcome.preview]
    st.dataframe(preview, hide_index=True, key="imp_quarantine")
    stem = f"quality_{dt.datetime.now():%Y%m%d}"
    with st.container(horizontal=True):
        st.download_button(t("imp_download_html", lang), data=lambda: report.to_html().encode("utf-8"),
                           file_name=f"{stem}.html", mime="text/html", key="imp_dl_html", on_click="ignore",
                           icon=":material/download:")
        st.download_button(t("imp_download_json", lang), data=lambda: report.to_json().encode("utf-8"),
                           file_name=f"{stem}.json", mime="application/json", key="imp_dl_json", on_click="ignore",
                           icon=":material/download:")
        st.download_button(t("imp_download_quarantine", lang), data=lambda: ops.quarantine_csv(outcome.db),
                           file_name="quarantine.csv", mime="text/csv", key="imp_dl_quarantine", on_click="ignore",
                           icon=":material/download:")


def _mark(ok: bool) -> str:
    return "✓" if ok else "✗"


def _table_rows(report: QualityReport, lang: str) -> list[dict[str, Any]]:
    return [{t("imp_col_table", lang): x.table, t("imp_col_raw", lang): x.raw_rows,
             t("imp_col_clean", lang): x.clean_rows, t("imp_col_quarantined", lang): x.quarantined_rows,
             t("imp_col_ok", lang): _mark(x.ok)} for x in report.tables]


def _money_rows(report: QualityReport, lang: str) -> list[dict[str, Any]]:
    return [{t("imp_col_amount", lang): f"{x.table}.{m.column}", t("imp_col_raw", lang): m.raw,
             t("imp_col_clean", lang): m.clean, t("imp_col_quarantined", lang): m.quarantined,
             t("imp_col_adjusted", lang): m.adjusted, t("imp_col_ok", lang): _mark(m.ok)}
            for x in report.tables for m in x.money]


def _rule_rows(report: QualityReport, lang: str) -> list[dict[str, Any]]:
    other = "en" if lang == "zh" else "zh"
    return [{t("imp_col_code", lang): r.code, t("imp_col_table", lang): r.table,
             t("imp_col_column", lang): r.column or "",
             t("imp_col_action", lang): t(f"imp_act_{r.action}", lang), t("imp_col_count", lang): r.count,
             t("imp_col_title", lang): r.title_zh if lang == "zh" else r.title_en,
             t("imp_col_title_other", lang): r.title_zh if other == "zh" else r.title_en}
            for r in report.rules]


def _example_rows(report: QualityReport, lang: str) -> list[dict[str, Any]]:
    return [{t("imp_col_code", lang): r.code,
             t("imp_col_column", lang): f"{r.table}.{r.column}" if r.column else r.table,
             t("imp_col_where", lang): f"{x.source}:{x.row}" if x.row is not None else x.source,
             t("imp_col_before", lang): x.before, t("imp_col_after", lang): x.after}
            for r in report.rules for x in r.examples]


def _flag_rows(report: QualityReport, lang: str) -> list[dict[str, Any]]:
    return [{t("imp_col_column", lang): f"{f.table}.{f.column}", t("imp_col_missing", lang): f.missing,
             t("imp_col_rows", lang): f.rows, t("imp_col_rate", lang): f"{f.rate:.1%}",
             t("imp_col_threshold", lang): f"{f.threshold:.0%}"} for f in report.flags]
