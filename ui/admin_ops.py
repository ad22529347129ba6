"""What the Admin page does besides editing: preview a metric, run the golden suite, promote feedback.

Everything runs against a *candidate* service — the catalog as it would be with
the editor's unsaved text — so an admin sees the effect of an edit before saving.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import cast

import duckdb
from pydantic import ValidationError

from assistant.evaluate import Case, Report, Suite, load_suite, run_suite
from assistant.feedback import ExpectStatus, FeedbackStore
from assistant.service import Answer, ChatBI
from semantic_layer.catalog import Catalog
from semantic_layer.policy import Principal
from semantic_layer.query import SemanticQuery

PREVIEW_ROWS = 50
STATUSES = ("", "clarify", "refused", "error")


def metric_names(catalog: Catalog) -> list[str]:
    return [m.name for m in catalog.metrics.values() if "helper" not in m.tags]


def dimension_names(catalog: Catalog) -> list[str]:
    return sorted({d.name for _, d in catalog.dimensions() if d.type != "time"})


def preview_metric(bi: ChatBI, metric: str, dimension: str | None, lang: str,
                   user: Principal | None = None) -> Answer:
    """The metric alone (or by one dimension): compiled SQL and a sample of rows, as ``user`` may see them."""
    query = SemanticQuery(metrics=[metric], dimensions=[dimension] if dimension else [], limit=PREVIEW_ROWS)
    return bi.run(query, question=f"preview {metric}", lang=lang, access=bi.access_for(user))


def run_golden_suite(bi: ChatBI, suite_path: Path, db: Path,
                     progress: Callable[[int, int], None] | None = None, chunk: int = 10) -> Report:
    """Run every case through ``bi``; ``progress(done, total)`` after each chunk."""
    suite = load_suite(suite_path)
    report = Report()
    total = len(suite.cases)
    for start in range(0, total, chunk):
        part = run_suite(Suite(cases=suite.cases[start:start + chunk]), bi, db)
        report.results.extend(part.results)
        if progress:
            progress(len(report.results), total)
    return report


def promote_feedback(store: FeedbackStore, feedback_id: str, suite_path: Path, db: Path, *,
                     check_sql: str, expect_status: str, with_context: bool = True) -> Case:
    """Append a golden case from a feedback; the check SQL must run on the warehouse first."""
    check_sql, expect_status = check_sql.strip(), expect_status.strip()
    if expect_status not in STATUSES:
        raise ValueError(f"unknown expected status '{expect_status}'")
    if not expect_status:
        if not check_sql:
            raise ValueError("give check SQL or an expected status / 请填写检查 SQL 或期望状态")
        with duckdb.connect(str(db), read_only=True) as con:
            try:
                con.execute(check_sql).fetchmany(1)
            except duckdb.Error as exc:
                raise ValueError(f"check SQL failed / 检查 SQL 执行失败: {exc}") from exc
        check = check_sql
    else:
        check = ""
    try:
        status = cast("ExpectStatus | None", expect_status or None)  # checked against STATUSES above
        return store.promote(feedback_id, suite_path, check_sql=check or None, expect_status=status,
                             with_context=with_context)
    except ValidationError as exc:
        raise ValueError(str(exc)) from exc
