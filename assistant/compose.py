"""Compose the parts of an answer users act on: chart, narrative, suggestions.

A thin facade over ``charts`` (rule-based Vega-Lite), ``narrative``
(deterministic, every number from the rows) and ``suggest`` (the admin's
playbook). Nothing here comes from a model, so the same result always reads
the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from .charts import build_chart
from .defang import defang, defang_all
from .narrative import narrate as _narrate
from .playbook import Playbook
from .result import Comparison, ResultSet
from .suggest import suggest

__all__ = ["Composition", "compose"]


@dataclass(frozen=True)
class Composition:
    chart: dict[str, Any] | None
    narrative: str
    suggestions: list[dict[str, Any]] = field(default_factory=list)


def compose(result: ResultSet, lang: str, *, comparisons: Sequence[Comparison] = (),
            playbook: Playbook | None = None, question: str = "") -> Composition:
    """Chart, narrative and playbook suggestions for one result, in ``lang``."""
    suggestions = suggest(result, playbook, lang, comparisons) if playbook is not None else []
    return Composition(
        chart=build_chart(result, lang, question),
        narrative=defang(_narrate(result, lang, comparisons)),
        suggestions=[defang_all(s.as_dict()) for s in suggestions],
    )

