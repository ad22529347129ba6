"""Table downloads for an answer, through ``assistant.export`` (CSV-injection safe, labelled, with notes).

The bytes are built only when the user clicks (Streamlit calls the function
then), so a long conversation does not rebuild every workbook on each rerun.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from assistant.export import answer_notes, to_csv, to_excel
from assistant.service import Answer, ChatBI
from semantic_layer.errors import UserError


def as_answer(data: dict[str, Any]) -> Answer:
    """The ``Answer`` back from its JSON (unknown keys ignored, so older session state still loads)."""
    return Answer(**{k: v for k, v in data.items() if k in Answer.__dataclass_fields__})


def downloads(data: dict[str, Any], bi: ChatBI) -> tuple[Callable[[], bytes], Callable[[], bytes]]:
    """(CSV bytes, Excel bytes) builders: headers and values labelled in the answer's language."""
    answer = as_answer(data)

    def columns() -> Any:
        try:
            return bi.output_columns(answer)
        except UserError:  # the catalog changed since: raw names are still a correct export
            return ()

    return (lambda: to_csv(answer.columns, answer.rows, columns(), answer.lang),
            lambda: to_excel(answer.columns, answer.rows, columns(), answer.lang, notes=answer_notes(answer)))
