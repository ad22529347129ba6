"""Golden compiled SQL: every metric alone, with a dimension, with a time grain.

Files in tests/golden/ are written only by ``pytest --update-golden`` and
reviewed as a diff; a changed compiler output fails here first.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from semantic_layer.compiler import compile_query
from semantic_layer.loader import load_catalog
from semantic_layer.query import SemanticQuery

AS_OF = dt.date(2025, 12, 31)

GOLDEN = Path(__file__).resolve().parent.parent / "golden"

#: A dimension every metric can be cut by: spend only knows its channel.
DIMENSION_FOR = {"marketing_spend": "acquisition_channel", "cac": "acquisition_channel"}


def _cases() -> list[tuple[str, dict]]:
    catalog = load_catalog()
    cases: list[tuple[str, dict]] = []
    for name in sorted(catalog.metrics):
        dim = DIMENSION_FOR.get(name, "region")
        metric = catalog.metrics[name]
        model = getattr(metric, "model", None)
        snapshot = model is not None and getattr(metric, "time", None) is None and catalog.models[model].default_time is None
        cases.append((f"{name}__alone", {"metrics": [name]}))
        if snapshot:  # as-of snapshots (CLV, RFM) have no time axis
            cases.append((f"{name}__by_{dim}", {"metrics": [name], "dimensions": [dim]}))
            continue
        cases.append((f"{name}__by_{dim}", {"metrics": [name], "dimensions": [dim],
                                              "time": {"start": "2025-01-01", "end": "2025-12-31"}}))
        cases.append((f"{name}__by_month", {"metrics": [name], "time": {"grain": "month", "relative": "this_year"}}))
    cases += [
        ("revenue__by_category", {"metrics": ["revenue", "gross_margin"], "dimensions": ["category"]}),
        ("cac__by_channel_quarter", {"metrics": ["cac", "marketing_spend", "new_customers"],
                                     "dimensions": ["acquisition_channel"], "time": {"grain": "quarter", "relative": "last_year"}}),
        ("cross__region_channel", {"metrics": ["revenue", "buyers"], "dimensions": ["region", "sales_channel"],
                                   "filters": [{"field": "city_tier", "op": "in", "values": ["Tier 1", "Tier 2"]}],
                                   "order_by": [{"field": "revenue", "desc": True}], "limit": 10}),
        ("churn__by_region_quarter", {"metrics": ["churn_rate", "retention_rate"], "dimensions": ["region"],
                                      "time": {"grain": "quarter", "relative": "this_year"}}),
        ("analysis__rfm", {"analysis": "rfm"}),
        ("analysis__abc", {"analysis": "abc"}),
        ("analysis__clv_ranking", {"analysis": "clv_ranking"}),
        ("analysis__churn_risk_important_value", {"analysis": "churn_risk",
                                                  "filters": [{"field": "rfm_segment", "values": ["Important Value"]}]}),
        ("analysis__cohort_2025_east", {"analysis": "cohort", "time": {"relative": "this_year"},
                                        "filters": [{"field": "region", "values": ["East"]}]}),
        ("cross__region_rfm_segment", {"metrics": ["segment_customers", "revenue"], "dimensions": ["region", "rfm_segment"]}),
        ("churned__by_acquisition_channel", {"metrics": ["lapsed_customers"], "dimensions": ["acquisition_channel"]}),
        ("revenue__metric_filter", {"metrics": ["revenue"], "dimensions": ["city"],
                                    "filters": [{"field": "revenue", "op": ">", "values": [1000000]}]}),
    ]
    return cases


CASES = _cases()


@pytest.mark.parametrize("case,query", CASES, ids=[c for c, _ in CASES])
def test_golden_sql(case: str, query: dict, catalog, update_golden: bool) -> None:
    compiled = compile_query(SemanticQuery.model_validate(query), catalog, as_of=AS_OF)
    header = f"-- case: {case}\n-- as_of: {AS_OF}\n-- query: {json.dumps(query, ensure_ascii=False, sort_keys=True)}\n"
    text = header + compiled.sql + "\n"
    path = GOLDEN / f"{case}.sql"
    if update_golden:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path.name}: run pytest --update-golden and review the diff"
    assert path.read_text(encoding="utf-8") == text


def test_no_stale_golden_files() -> None:
    expected = {f"{case}.sql" for case, _ in CASES}
    assert {p.name for p in GOLDEN.glob("*.sql")} == expected
