"""The metric catalog as cards: names, synonyms, formula, compiled SQL, examples; and search.

Built from the catalog alone (the same YAML the planner and the docs read), so
what the page says a metric means is what the compiler runs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from semantic_layer.access import pii_metrics
from semantic_layer.catalog import Catalog
from semantic_layer.compiler import compile_query
from semantic_layer.errors import UserError
from semantic_layer.lineage import formula
from semantic_layer.query import SemanticQuery


@dataclass(frozen=True)
class MetricCard:
    name: str
    area: str
    label_zh: str
    label_en: str
    synonyms_zh: tuple[str, ...]
    synonyms_en: tuple[str, ...]
    description_zh: str
    description_en: str
    formula: str
    sql: str  # the metric alone, compiled; or the compiler's message when it cannot stand alone
    examples: tuple[str, ...]
    personal: bool = False  # computed from PII (tags propagate from inputs): masked roles cannot use it

    def haystack(self) -> str:
        return " ".join([self.name, self.area, self.label_zh, self.label_en, *self.synonyms_zh, *self.synonyms_en,
                         self.description_zh, self.description_en, *self.examples]).lower()


def metric_cards(catalog: Catalog, as_of: dt.date) -> list[MetricCard]:
    """Every metric a user can ask for (helpers hidden), in catalog order."""
    cards = []
    personal = pii_metrics(catalog)
    for m in catalog.metrics.values():
        if "helper" in m.tags:
            continue
        try:
            compiled = compile_query(SemanticQuery(metrics=[m.name]), catalog, as_of=as_of)
            sql = compiled.tree.sql(dialect=catalog.project.dialect, pretty=True)
        except UserError as exc:
            sql = f"-- {exc.message('zh')}\n-- {exc.message('en')}"
        desc = m.description
        cards.append(MetricCard(
            m.name, catalog.metric_area.get(m.name, ""), m.label.zh, m.label.en,
            tuple(m.synonyms.zh), tuple(m.synonyms.en),
            desc.zh if desc else "", desc.en if desc else "", formula(m), sql, tuple(m.examples),
            m.name in personal,
        ))
    return cards


def search(cards: list[MetricCard], text: str) -> list[MetricCard]:
    """Cards matching every word of ``text`` (case-insensitive) in any name, synonym or description.

    >>> c = MetricCard("cac", "marketing", "获客成本", "CAC", ("拉新成本",), (), "", "", "a / b", "", ())
    >>> [x.name for x in search([c], "拉新")], search([c], "revenue")
    (['cac'], [])
    """
    words = text.lower().split()
    return [c for c in cards if all(w in c.haystack() for w in words)]
