"""Suggest a mapping: which contract table and column each source column is, with the reason why.

Every source column is scored against every contract column: its own name (1.00),
a synonym (0.95: the catalog's zh/en labels and synonyms plus
``synonyms.COLUMN_SYNONYMS``), sample values that are catalog values of a
category (0.85–0.95: 华东, 线上), or a fuzzy name (up to 0.80, difflib). The
table most columns belong to wins, nudged by the file or sheet name; then each
contract column takes its best source column. The reasons become YAML comments.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from semantic_layer.catalog import Catalog
from semantic_layer.loader import load_catalog

from .contract import ORDER, TARGETS
from .mapping import TARGET_NAMES, MappingFile, SourceMap, TargetName, to_yaml
from .rules import Rules
from .sources import SourceRef, list_tables, preview
from .synonyms import KEY_NAMES, TABLE_HINTS, column_names, name_key, value_key, value_map


@dataclass(frozen=True)
class Candidate:
    table: str
    column: str
    score: float
    method: str  # name | synonym | fuzzy | values | key


@dataclass
class MappingSuggestion:
    """A suggested mapping, with why each column was chosen (kept as YAML comments)."""

    mapping: MappingFile
    comments: dict[tuple[int, str], str] = field(default_factory=dict)
    candidates: dict[tuple[int, str], list[Candidate]] = field(default_factory=dict)

    def to_yaml(self) -> str:
        return to_yaml(self.mapping, self.comments)


def suggest_mapping(locations: Sequence[str | Path], catalog: Catalog | None = None, *,
                    relative_to: str | Path | None = None, rules: Rules | None = None,
                    sample_rows: int = 200) -> MappingSuggestion:
    """Propose a mapping for every table of every source (paths stored relative to ``relative_to``)."""
    catalog = catalog or load_catalog()
    index = _name_index(catalog)
    values = {c.name: value_map(catalog, c.name) for t in TARGETS.values() for c in t.columns
              if c.kind in ("category", "city")}
    sources: list[SourceMap] = []
    comments: dict[tuple[int, str], str] = {}
    cands: dict[tuple[int, str], list[Candidate]] = {}
    for location in locations:
        location = str(location)
        for table in list_tables(location):
            ref = SourceRef(location, table)
            header, rows = preview(ref, sample_rows)
            per_column = {h: _candidates(h, [r[j] for r in rows], index, values) for j, h in enumerate(header)}
            target = _pick_target(ref, per_column)
            columns, notes = assign_columns(target, per_column)
            i = len(sources)
            stored = _relative(location, relative_to)
            sources.append(SourceMap(source=stored, table=table, target=target, columns=columns))
            for h, note in notes.items():
                comments[(i, h)] = note
            for h, found in per_column.items():
                cands[(i, h)] = found
            required = (rules or Rules()).required_for(target)
            missing = [c for c in required if c not in columns.values()]
            if missing:
                comments[(i, "")] = (f"TODO 必填列未找到 / required, not found: {', '.join(missing)} — "
                                     "map a source column to it")
    mapping = MappingFile(sources=sources, rules=rules or Rules())
    return MappingSuggestion(mapping, comments, cands)


def _relative(location: str, base: str | Path | None) -> str:
    if base is None or location.startswith(("postgresql://", "postgres://")):
        return location
    try:
        return os.path.relpath(Path(location).resolve(), Path(base).resolve())
    except ValueError:  # another drive (Windows)
        return str(Path(location).resolve())


def _name_index(catalog: Catalog) -> dict[str, list[tuple[str, str, float, str]]]:
    """name_key(alias) → [(table, column, score, method)]: the column's own name scores highest."""
    index: dict[str, list[tuple[str, str, float, str]]] = {}
    for (table, column), names in column_names(catalog).items():
        for n, alias in enumerate(names):
            key = name_key(alias)
            if key and all((t, c) != (table, column) for t, c, _, _ in index.get(key, [])):
                index.setdefault(key, []).append((table, column, 1.0 if n == 0 else 0.95, "name" if n == 0 else "synonym"))
    return index


def _candidates(header: str, sample: list[str | None], index: dict[str, list[tuple[str, str, float, str]]],
                values: dict[str, dict[str, str]]) -> list[Candidate]:
    """Every (table, column) this source column could be, best first."""
    key = name_key(header)
    best: dict[tuple[str, str], Candidate] = {}

    def add(table: str, column: str, score: float, method: str) -> None:
        old = best.get((table, column))
        if old is None or score > old.score:
            best[(table, column)] = Candidate(table, column, round(score, 3), method)

    for table, column, score, method in index.get(key, []):
        add(table, column, score, method)
    if key in {name_key(k) for k in KEY_NAMES}:
        for spec in TARGETS.values():
            keys = [c.name for c in spec.columns if c.kind == "key"]
            if keys:
                add(spec.name, keys[0], 0.9, "key")
    if key and not best:
        for alias, entries in index.items():
            ratio = difflib.SequenceMatcher(None, key, alias).ratio()
            contains = len(alias) >= 2 and (alias in key or key in alias)
            if ratio >= 0.8 or contains:
                for table, column, _, _ in entries:
                    add(table, column, 0.8 * max(ratio, 0.85 if contains else 0), "fuzzy")
    texts = [value_key(v) for v in sample if v is not None and v.strip()]
    if texts:
        for column, known in values.items():
            share = sum(t in known for t in texts) / len(texts)
            if share >= 0.6 and known:
                for spec in TARGETS.values():
                    if column in spec.names:
                        add(spec.name, column, 0.85 + 0.1 * share, "values")
    return sorted(best.values(), key=lambda c: (-c.score, ORDER.index(c.table), c.column))


def _pick_target(ref: SourceRef, per_column: dict[str, list[Candidate]]) -> TargetName:
    """The contract table most of the columns belong to, nudged by the file or sheet name."""
    label = name_key(ref.label)
    scores: dict[str, float] = {}
    for spec in TARGETS.values():
        total = sum(max((c.score for c in cands if c.table == spec.name), default=0.0) for cands in per_column.values())
        if any(h in label for h in (name_key(x) for x in TABLE_HINTS[spec.name])):
            total += 1.0
        scores[spec.name] = total
    best = max(ORDER, key=lambda t: (scores[t], -ORDER.index(t)))
    return next(t for t in TARGET_NAMES if t == best)


def assign_columns(target: str, per_column: dict[str, list[Candidate]]) -> tuple[dict[str, str | None], dict[str, str]]:
    """Each target column to at most one source column, best score first; the rest map to null."""
    options = [(c.score, h, c) for h, cands in per_column.items() for c in cands if c.table == target]
    options.sort(key=lambda o: (-o[0], list(per_column).index(o[1])))
    taken: dict[str, str] = {}
    chosen: dict[str, Candidate] = {}
    for _, header, cand in options:
        if header in chosen or cand.column in taken:
            continue
        chosen[header] = cand
        taken[cand.column] = header
    columns: dict[str, str | None] = {}
    notes: dict[str, str] = {}
    for header, cands in per_column.items():
        if header in chosen:
            c = chosen[header]
            columns[header] = c.column
            notes[header] = f"{c.method} {c.score:.2f}"
        else:
            columns[header] = None
            other = [c for c in cands if c.table == target]
            notes[header] = ("not imported / 不导入" + (f" (also fits {other[0].column}, taken by "
                             f"'{taken.get(other[0].column)}')" if other else ""))
    return columns, notes
