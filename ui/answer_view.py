"""What the chat shows of an answer, computed without Streamlit (so it is unit-tested).

* ``query_chips``: the interpreted semantic query as readable chips in the
  answer's language, from catalog labels (销售额 · 地区 · 2025-01-01 至 2025-12-31).
* ``display_frame``: the rows as a table with display labels (region → 地区,
  East → 华东) and a number format per column.
* ``refine_question``: the question re-asked with a clarification's candidate.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import pandas as pd
from pydantic import ValidationError

from semantic_layer.analyses import ANALYSES
from semantic_layer.catalog import Catalog
from semantic_layer.errors import UserError
from semantic_layer.lineage import describe_filter
from semantic_layer.query import Filter, SemanticQuery
from semantic_layer.schema import Grain
from semantic_layer.timerange import resolve

from .i18n import t

GRAINS = {g.value for g in Grain}


@dataclass(frozen=True)
class Chip:
    kind: str  # metric | dimension | filter | time | grain | analysis | limit
    text: str


def query_chips(semantic_query: dict[str, Any] | None, catalog: Catalog, as_of: dt.date, lang: str) -> list[Chip]:
    """Chips for metrics, breakdowns, filters, time range and grain, in ``lang``."""
    if not semantic_query:
        return []
    try:
        query = SemanticQuery.model_validate(semantic_query)
    except ValidationError:
        return []
    chips: list[Chip] = []
    if query.analysis:
        a = ANALYSES.get(query.analysis)
        chips.append(Chip("analysis", a.label.get(lang) if a else query.analysis))
    chips += [Chip("metric", metric_label(m, catalog, lang)) for m in query.metrics]
    chips += [Chip("dimension", dimension_label(d, catalog, lang)) for d in query.dimensions]
    chips += [Chip("filter", _filter_text(f, catalog, lang)) for f in query.filters]
    chips.append(Chip("time", resolve(query.time, as_of).describe(lang) if query.time else t("all_time", lang)))
    if query.time and query.time.grain:
        chips.append(Chip("grain", t(f"grain_{query.time.grain.value}", lang)))
    if query.limit:
        chips.append(Chip("limit", t("chip_limit", lang, n=query.limit)))
    return chips


def _filter_text(f: Filter, catalog: Catalog, lang: str) -> str:
    try:
        return describe_filter(f, catalog).get(lang)
    except UserError:
        return f"{f.field} {f.op} {', '.join(map(str, f.values))}"


def metric_label(name: str, catalog: Catalog, lang: str) -> str:
    metric = catalog.metrics.get(name)
    return metric.label.get(lang) if metric else name


def dimension_label(ref: str, catalog: Catalog, lang: str) -> str:
    try:
        return catalog.find_dimension(ref).label.get(lang)
    except UserError:
        return ref


def column_label(name: str, catalog: Catalog, lang: str) -> str:
    """Header for an answer column: metric or dimension label, grain name, or a share."""
    if name in catalog.metrics:
        metric = catalog.metrics[name]
        unit = f" ({metric.format.unit})" if metric.format.unit else ""
        return metric.label.get(lang) + unit
    if name.endswith("_share") and name[: -len("_share")] in catalog.metrics:
        return t("share_of", lang, label=catalog.metrics[name[: -len("_share")]].label.get(lang))
    if name in GRAINS:
        return t(f"grain_{name}", lang)
    return dimension_label(name, catalog, lang)


def column_format(name: str, catalog: Catalog) -> str | None:
    """Streamlit NumberColumn format for a metric column (None: leave as is)."""
    if name.endswith("_share"):
        return "percent"
    metric = catalog.metrics.get(name)
    if metric is None:
        return None
    return "percent" if metric.format.kind == "percent" else "localized"


def display_frame(columns: list[str], rows: list[list[Any]], catalog: Catalog,
                  lang: str) -> tuple[pd.DataFrame, dict[str, str]]:
    """The rows with value labels (East → 华东) and header labels; plus {header: number format}."""
    frame = pd.DataFrame(rows, columns=columns)
    formats: dict[str, str] = {}
    headers: list[str] = []
    for name in columns:
        if name in GRAINS:
            frame[name] = frame[name].map(lambda v, g=name: period_label(v, g))
        labels = _value_labels(name, catalog, lang)
        if labels:
            frame[name] = frame[name].map(lambda v, m=labels: m.get(str(v), v) if v is not None else v)
        header = column_label(name, catalog, lang)
        while header in headers:  # two columns with one label: keep both apart
            header += f" [{name}]"
        headers.append(header)
        fmt = column_format(name, catalog)
        if fmt:
            formats[header] = fmt
    frame.columns = headers
    return frame, formats


def period_label(value: Any, grain: str) -> Any:
    """A period's first day as the period: 2025-03-01 by month → 2025-03.

    >>> period_label("2025-04-01", "quarter"), period_label("2025-01-01", "year"), period_label("2025-03-01", "month")
    ('2025 Q2', '2025', '2025-03')
    """
    text = str(value) if value is not None else ""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}.*", text):
        return value
    year, month = text[:4], int(text[5:7])
    return {"month": text[:7], "quarter": f"{year} Q{(month - 1) // 3 + 1}", "year": year}.get(grain, text[:10])


def _value_labels(name: str, catalog: Catalog, lang: str) -> dict[str, str]:
    if name in catalog.metrics or name in GRAINS:
        return {}
    try:
        dim = catalog.find_dimension(name)
    except UserError:
        return {}
    return {v.value: v.label.get(lang) for v in dim.values}


#: The ambiguous word a clarification quotes: 「渠道」 or 'channel'.
_QUOTED = re.compile(r"「([^」]+)」|'([^']+)'")


def refine_question(question: str, message: str, candidate: str) -> str:
    """The question with the clarified word replaced by ``candidate``, else with it appended.

    >>> refine_question("渠道的销售额", "「渠道」可以指: 获客渠道、销售渠道。请问您指哪一个?", "销售渠道")
    '销售渠道的销售额'
    >>> refine_question("revenue by channel", "'channel' can mean: ...", "Sales channel")
    'revenue by Sales channel'
    >>> refine_question("看一下各地区的数据", "我没有找到要看的指标。", "销售额")
    '看一下各地区的数据 销售额'
    """
    match = _QUOTED.search(message or "")
    if match:
        term = match.group(1) or match.group(2)
        for word in re.split(r"[、,，]\s*", term):
            if word and word.lower() in question.lower():
                start = question.lower().index(word.lower())
                return question[:start] + candidate + question[start + len(word):]
    return f"{question.rstrip()} {candidate}"
