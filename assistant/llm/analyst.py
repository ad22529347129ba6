"""Analyst mode: run SQL the model proposed, after the same guard, marked ungoverned.

Off unless an admin sets ``CHATBI_LLM_ANALYST_MODE=true``. The SQL was already
checked by ``guard_sql`` against ``allowed_schema(catalog, engine.tables())``
(one read-only SELECT over governed tables, PII columns withheld, row cap) in
the LLM planner; here the regenerated SQL runs on the locked-down engine. There
is no semantic query, so there are no metric definitions: the answer says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from semantic_layer.errors import UserError
from semantic_layer.guard import GuardedSQL
from semantic_layer.schema import Text

if TYPE_CHECKING:
    from ..service import Answer

UNGOVERNED = Text(
    zh="⚠ 未治理查询: 这条 SQL 由大模型在分析师模式下编写, 已通过只读与行数检查, 但没有使用指标目录中的定义。请核对口径。",
    en="⚠ Ungoverned query: this SQL was written by the LLM in analyst mode. It passed the read-only and row-limit "
       "checks but does not use the catalog's metric definitions. Check the definitions before relying on it.")


def run_ungoverned(engine: Any, guarded: GuardedSQL, *, question: str, lang: str) -> Answer:
    from ..service import Answer, _jsonable

    note = UNGOVERNED.get(lang)
    try:
        result = engine.execute(guarded)
    except UserError as exc:
        return Answer("error", question, lang, sql=guarded.sql, message=exc.message("zh" if lang == "zh" else "en"), error_code=exc.code,
                      governed=False, notices=[note])
    count = len(result.rows)
    summary = f"共 {count} 行。" if lang == "zh" else f"{count} rows."
    return Answer(
        "ok", question, lang, sql=guarded.sql, columns=result.columns,
        rows=[[_jsonable(v) for v in r] for r in result.rows],
        narrative=f"{note} {summary}", truncated=result.truncated, governed=False, notices=[note],
    )
