"""Streamlit widgets for one answer: chips, chart, table, narrative, suggestions, definitions, SQL, downloads.

Safety: text that a planner or a model wrote (narrative, messages, suggestions)
is shown with ``st.text`` — never as Markdown or HTML, so it cannot load an
image or carry a link. Labels that Streamlit renders as Markdown (badges,
buttons) go through ``md_escape`` first.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import streamlit as st

from semantic_layer.catalog import Catalog

from .answer_view import Chip, display_frame
from .i18n import t

_CHIP_COLORS: dict[str, Any] = {"metric": "blue", "dimension": "green", "filter": "orange", "time": "violet",
                "grain": "violet", "analysis": "primary", "limit": "gray"}
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$&])")


def md_escape(text: str) -> str:
    r"""Backslash-escape every Markdown character, so a label renders as literal text.

    >>> md_escape("![x](http://h/?a=1)")
    '\\!\\[x\\]\\(http\\://h/?a=1\\)'
    """
    return _MD_SPECIAL.sub(r"\\\1", str(text)).replace("\n", " ")


def chips(items: list[Chip], lang: str) -> None:
    if not items:
        return
    with st.container(horizontal=True, gap="small"):
        for chip in items:
            prefix = "" if chip.kind == "limit" else f"{t('chip_' + chip.kind, lang)}: "
            st.badge(prefix + md_escape(chip.text), color=_CHIP_COLORS.get(chip.kind, "gray"))


def chart(spec: dict[str, Any] | None, key: str) -> None:
    if spec:
        st.vega_lite_chart(spec, width="stretch", key=f"chart_{key}")


def table(answer: dict[str, Any], catalog: Catalog, lang: str, key: str, ui_lang: str,
          exports: tuple[Callable[[], bytes], Callable[[], bytes]]) -> None:
    if not answer.get("columns"):
        return
    frame, formats = display_frame(answer["columns"], answer["rows"], catalog, lang)
    config = {h: st.column_config.NumberColumn(format=fmt) for h, fmt in formats.items()}
    st.dataframe(frame, hide_index=True, column_config=config, key=f"table_{key}")
    if answer.get("truncated"):
        st.caption(t("truncated", ui_lang, n=len(answer["rows"])))
    name = re.sub(r"[^\w]+", "_", answer.get("question") or "answer")[:40].strip("_") or "answer"
    csv, excel = exports
    with st.container(horizontal=True):
        st.download_button(t("download_csv", ui_lang), data=csv, file_name=f"{name}.csv",
                           mime="text/csv", key=f"csv_{key}", on_click="ignore", icon=":material/download:")
        st.download_button(t("download_excel", ui_lang), data=excel, file_name=f"{name}.xlsx",
                           mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                           key=f"xlsx_{key}", on_click="ignore", icon=":material/download:")


def plain(text: str | None) -> None:
    """Text from a planner or model: no Markdown, no HTML, no links, no images."""
    if text:
        st.text(text)


def suggestions(items: list[Any], lang: str) -> None:
    if not items:
        return
    st.caption(t("suggestions", lang))
    for item in items:
        if isinstance(item, dict):
            lines = [item.get("title", ""), item.get("action", "")]
            lines += [item.get(k, "") for k in ("trigger", "target", "size") if item.get(k)]
            plain("\n".join(line for line in lines if line))
        else:
            plain(str(item))


def definitions(answer: dict[str, Any], lang: str) -> None:
    defs, clauses = answer.get("definitions") or [], answer.get("clauses") or []
    if not defs and not clauses:
        return
    with st.expander(t("definitions", lang)):
        for d in defs:
            plain(f"{d.get('label', d.get('metric'))}: {d.get('description', '')}")
            st.code(d.get("formula", ""), language="sql")
        if clauses:
            plain("\n".join(clauses))


def sql(text: str | None, lang: str) -> None:
    if text:
        with st.expander(t("sql", lang)):
            st.code(text, language="sql")


def candidate_buttons(candidates: list[str], key: str, on_pick: Callable[[str], None], lang: str,
                      disabled: bool = False) -> None:
    if not candidates:
        return
    st.caption(t("pick_one", lang))
    with st.container(horizontal=True):
        for i, cand in enumerate(candidates):
            st.button(md_escape(cand), key=f"cand_{key}_{i}", on_click=on_pick, args=(cand,), disabled=disabled)


def error(text: str) -> None:
    """An error banner whose text may hold names from YAML or SQL: shown literally."""
    st.error(md_escape(text))


def notices(answer: dict[str, Any], lang: str) -> None:
    """System notices (LLM fell back, SQL not from the catalog) as plain text."""
    if answer.get("governed") is False:
        st.warning(t("ungoverned", lang))
    for note in answer.get("notices") or []:
        plain(note)


def issues_table(issues: list[Any], root: str, lang: str) -> None:
    """Catalog issues, one per row with file, line and field."""
    rows = []
    for i in issues:
        file = str(i.file or "")
        if file.startswith(root):
            file = file[len(root):].lstrip("/")
        rows.append({"level": i.level, "file": file, "line": i.line, "field": i.path or "",
                     "message": i.message_zh if lang == "zh" else i.message_en})
    st.dataframe(rows, hide_index=True, key=None)
