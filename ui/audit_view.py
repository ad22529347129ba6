"""The Audit log page (admins only): who asked what and how it went, filtered, downloadable as CSV.

It reads the log the service writes (``ChatBI.audit``: ``$CHATBI_AUDIT`` or
``$CHATBI_HOME/audit.sqlite``, kept as long as the catalog's access policy
says); the text there is already masked. Without a service (the catalog is
broken) it opens the same file with purging off: a page that does not know
the retention period must not delete anything. Times are UTC, as stored,
and the date range is of UTC days. The CSV goes through
``assistant.export.to_csv``, so a question that starts with ``=`` cannot run
as a spreadsheet formula.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pandas as pd
import streamlit as st

from assistant.audit import STATUSES, AuditLog
from assistant.export import to_csv
from semantic_layer.errors import UserError

from . import components
from .i18n import t
from .shell import Context, context, require_admin, user_message

LIMIT = 1000
DEFAULT_DAYS = 30  # the date range a visit starts with: the last 30 UTC days


def render() -> None:
    ctx = context(show_errors=False)
    lang = ctx.lang
    require_admin(ctx.settings, lang)
    st.title(t("page_audit", lang))
    try:
        log, known = _open_log(ctx)
        _header(log, known, lang)
        filters = _filters(log, lang)
        frame = log.search(**filters, limit=LIMIT)
    except UserError as exc:
        components.error(user_message(exc, lang))
        return
    if frame.empty:
        st.caption(t("audit_empty", lang))
        return
    table = display_frame(frame)
    st.caption(t("audit_count", lang, n=len(table)))
    if len(table) >= LIMIT:
        st.warning(t("audit_limited", lang, n=LIMIT))
    st.dataframe(table, hide_index=True, key="audit_table")
    st.download_button(t("download_csv", lang), data=lambda: csv_bytes(table),
                       file_name="chatbi_audit.csv", mime="text/csv", key="audit_csv", on_click="ignore",
                       icon=":material/download:")


def _open_log(ctx: Context) -> tuple[AuditLog, bool]:
    """The service's log and True, else the default file, never purged from here, and False."""
    log = getattr(ctx.bi, "audit", None)
    if isinstance(log, AuditLog):
        return log, True
    return AuditLog(retention_days=0), False


def _header(log: AuditLog, known: bool, lang: str) -> None:
    days = log.retention_days
    if not known:
        retention = t("audit_retention_unknown", lang)
    else:
        retention = t("audit_retention", lang, days=days) if days > 0 else t("audit_forever", lang)
    st.caption(t("audit_file", lang, path=components.md_escape(str(log.path))) + "  \n" + retention)


def _filters(log: AuditLog, lang: str) -> dict[str, Any]:
    """The search arguments the filter widgets ask for."""
    today = dt.datetime.now(dt.UTC).date()
    with st.container(horizontal=True, vertical_alignment="bottom"):
        user = st.selectbox(t("audit_user", lang), ["", *log.users()], key="audit_user",
                            format_func=lambda u: u or t("audit_all", lang))
        status = st.selectbox(t("audit_status", lang), ["", *STATUSES], key="audit_status",
                              format_func=lambda s: s or t("audit_all", lang))
        dates = st.date_input(t("audit_dates", lang), value=(today - dt.timedelta(days=DEFAULT_DAYS - 1), today),
                              key="audit_dates")
        text = st.text_input(t("audit_text", lang), key="audit_text")
    since, until = day_range(dates)
    return {"user_id": user or None, "status": status or None, "since": since, "until": until,
            "text": text.strip() or None}


def day_range(dates: Any) -> tuple[dt.datetime | None, dt.datetime | None]:
    """A date input's value as ``since <= ts < until`` in UTC; a range being picked has one end.

    >>> [d.isoformat() for d in day_range((dt.date(2025, 1, 1), dt.date(2025, 1, 31)))]
    ['2025-01-01T00:00:00+00:00', '2025-02-01T00:00:00+00:00']
    >>> day_range(()), day_range((dt.date(2025, 1, 1),))[1]
    ((None, None), None)
    """
    picked = list(dates) if isinstance(dates, (tuple, list)) else [dates] if dates else []
    start = _midnight(picked[0]) if picked else None
    end = _midnight(picked[1]) + dt.timedelta(days=1) if len(picked) > 1 and picked[1] else None
    return start, end


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def display_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The search result for the table and the CSV: times as text, the semantic query as JSON text."""
    out = frame.drop(columns=["id"]).copy()
    out["ts"] = out["ts"].dt.strftime("%Y-%m-%d %H:%M:%S")
    out["semantic_query"] = [json.dumps(q, ensure_ascii=False, sort_keys=True) if isinstance(q, dict) else ""
                             for q in out["semantic_query"]]
    return out


def csv_bytes(table: pd.DataFrame) -> bytes:
    r"""The shown table as CSV (formulas neutralised); a missing value is an empty cell, not ``nan``.

    >>> csv_bytes(pd.DataFrame({"question": ["=1+1", None], "rows_returned": [3, 0]})).decode("utf-8-sig")
    "question,rows_returned\r\n'=1+1,3\r\n,0\r\n"
    """
    cells = table.astype(object).where(table.notna(), None)
    return to_csv(list(table.columns), cells.values.tolist())
