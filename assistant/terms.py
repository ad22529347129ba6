"""Every word a user may type for a catalog item, found in a question by longest match.

The index is built from the catalog's names, labels and synonyms only, so an
admin's synonym edit widens what the planner understands without code changes.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

from semantic_layer.catalog import Catalog

Kind = Literal["metric", "dimension", "value"]


@dataclass(frozen=True)
class Target:
    kind: Kind
    name: str  # metric or dimension name
    value: str | None = None  # for kind == "value"


@dataclass(frozen=True)
class Match:
    start: int
    end: int
    text: str
    targets: tuple[Target, ...]  # more than one: ambiguous


def normalize(text: str) -> str:
    """NFKC (full-width → half-width), case-folded; keeps positions 1:1 for CJK text.

    >>> normalize("ＧＭＶ按地区")
    'gmv按地区'
    """
    return unicodedata.normalize("NFKC", text).casefold()


class TermIndex:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.terms: dict[str, set[Target]] = {}
        self._plurals: dict[str, set[Target]] = {}
        for m in catalog.metrics.values():
            if "helper" in m.tags:
                continue
            self._add(Target("metric", m.name), [m.name, m.label.zh, m.label.en, *m.synonyms.all()])
        for _, d in catalog.dimensions():
            if d.type == "time":
                continue
            self._add(Target("dimension", d.name), [d.name, d.label.zh, d.label.en, *d.synonyms.all()])
            for v in d.values:
                self._add(Target("value", d.name, v.value), [v.value, v.label.zh, v.label.en, *v.synonyms.all()])
        for plural, targets in self._plurals.items():
            self.terms.setdefault(plural, targets)  # never overrides a real synonym
        for amb in catalog.project.ambiguous:
            targets = set()
            for c in amb.candidates:
                dim, _, value = c.partition(".")
                targets.add(Target("value", dim, value) if value else Target("dimension", dim))
            self.terms[normalize(amb.term)] = targets
        # Longest first, so 重要价值客户 wins over 客户 and "search ads" over "search".
        self._ordered = sorted(self.terms, key=len, reverse=True)

    def _add(self, target: Target, words: list[str]) -> None:
        for w in words:
            w = normalize(w.strip())
            if len(w) >= 2 or not w.isascii():
                self.terms.setdefault(w, set()).add(target)
            # snake_case names also match as words: "order_count" ~ "order count"
            if "_" in w:
                self.terms.setdefault(w.replace("_", " "), set()).add(target)
            # English plurals of dimension words: "categories", "products", "channels".
            if target.kind == "dimension" and w.isascii() and w[-1:].isalpha() and not w.endswith("s"):
                plural = w[:-1] + "ies" if w.endswith("y") else w + "s"
                self._plurals.setdefault(plural, set()).add(target)

    def find(self, question: str) -> list[Match]:
        """Non-overlapping matches, longest first; ASCII terms match whole words only."""
        text = normalize(question)
        taken = [False] * len(text)
        found: list[Match] = []
        for term in self._ordered:  # ~1,500 terms: a substring scan, not a regex per term
            s = text.find(term)
            while s != -1:
                e = s + len(term)
                if not any(taken[s:e]) and (not term.isascii() or _word_bounded(text, s, e)):
                    for i in range(s, e):
                        taken[i] = True
                    found.append(Match(s, e, question[s:e], tuple(sorted(self.terms[term], key=_key))))
                s = text.find(term, e)
        return sorted(found, key=lambda m: m.start)


def _key(t: Target) -> tuple[str, str, str]:
    return (t.kind, t.name, t.value or "")


def _word_bounded(text: str, s: int, e: int) -> bool:
    before = text[s - 1] if s > 0 else " "
    after = text[e] if e < len(text) else " "
    return not (before.isascii() and before.isalnum()) and not (after.isascii() and after.isalnum())
