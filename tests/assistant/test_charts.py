"""Chart choice as a table: query shape → rule, on the real demo warehouse.

Each case runs a semantic query through ``ChatBI.run`` and checks the rule
chosen (``usermeta.chatbi.rule``), the mark, labels in the question's language,
axis formats, and that nominal axes never fall back to alphabetical order.
Every spec is also rendered to SVG by vl-convert.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
import vl_convert as vlc

from assistant.charts import RULES, share_intent
from assistant.result import comparison_ranges
from assistant.service import ChatBI
from semantic_layer.query import SemanticQuery
from semantic_layer.timerange import DateRange

Y2025 = {"start": "2025-01-01", "end": "2025-12-31"}


@pytest.fixture(scope="module")
def bi(demo_db: Path) -> ChatBI:
    return ChatBI(demo_db)


def _spec(bi: ChatBI, query: dict[str, Any], question: str = "", lang: str = "zh") -> tuple[dict[str, Any], Any]:
    answer = bi.run(SemanticQuery.model_validate(query), question=question, lang=lang)
    assert answer.status == "ok", answer.message
    return answer.chart, answer


def _mark(spec: dict[str, Any]) -> str | None:
    if "layer" in spec:
        mark = spec["layer"][0]["mark"]
    else:
        mark = spec.get("mark")
    return mark if isinstance(mark, str) or mark is None else mark["type"]


def _encodings(spec: dict[str, Any]) -> list[dict[str, Any]]:
    parts = spec.get("layer", [spec])
    return [p.get("encoding", {}) for p in parts]


def _values(spec: dict[str, Any], field: str) -> list[Any]:
    return [v[field] for v in spec["data"]["values"]] if "data" in spec else []


CASES = [
    # id, semantic query, question, lang, rule, mark
    ("time_series_line", {"metrics": ["revenue"], "time": {"grain": "month", **Y2025}}, "2025年每月销售额", "zh",
     "time_series", "line"),
    ("time_series_one_line_per_region", {"metrics": ["revenue"], "dimensions": ["region"],
                                         "time": {"grain": "month", **Y2025}}, "", "zh", "time_series", "line"),
    ("time_series_share_stacked", {"metrics": ["revenue"], "dimensions": ["sales_channel"],
                                   "time": {"grain": "quarter", **Y2025}}, "各季度各渠道销售额占比", "zh",
     "time_series", "bar"),
    ("ranked_bar_region", {"metrics": ["revenue"], "dimensions": ["region"], "time": Y2025}, "2025年各地区的销售额",
     "zh", "ranked_bar", "bar"),
    ("ranked_bar_english", {"metrics": ["revenue"], "dimensions": ["region"]}, "revenue by region", "en",
     "ranked_bar", "bar"),
    ("ranked_bar_horizontal_many_cities", {"metrics": ["revenue"], "dimensions": ["city"]}, "", "zh",
     "ranked_bar", "bar"),
    ("ranked_bar_percent_metric", {"metrics": ["return_rate"], "dimensions": ["category"]}, "", "zh",
     "ranked_bar", "bar"),
    ("donut_three_channels_share", {"metrics": ["revenue"], "dimensions": ["sales_channel"]}, "各销售渠道销售额占比",
     "zh", "donut", "arc"),
    ("stacked_share_seven_categories", {"metrics": ["revenue"], "dimensions": ["category"]},
     "revenue share by category", "en", "stacked_share", "bar"),
    ("stacked_share_two_dimensions", {"metrics": ["revenue"], "dimensions": ["region", "sales_channel"]},
     "各地区销售渠道销售额构成", "zh", "stacked_share", "bar"),
    ("non_additive_share_is_not_a_donut", {"metrics": ["avg_order_value"], "dimensions": ["sales_channel"]},
     "各渠道客单价占比", "zh", "ranked_bar", "bar"),
    ("cross_grouped_bar", {"metrics": ["revenue"], "dimensions": ["region", "sales_channel"]}, "", "zh",
     "cross_grouped", "bar"),
    ("cross_heatmap", {"metrics": ["revenue"], "dimensions": ["membership_tier", "region"]}, "", "zh",
     "cross_heatmap", "rect"),
    ("cohort_heatmap", {"analysis": "cohort"}, "同期群留存", "zh", "cohort_heatmap", "rect"),
    ("entity_list_churn_risk_customers", {"analysis": "churn_risk"}, "哪些客户有流失风险", "zh", "entity_list", "bar"),
    ("entity_list_clv_ranking", {"analysis": "clv_ranking"}, "top customers by CLV", "en", "entity_list", "bar"),
    ("rfm_bars_in_segment_order", {"analysis": "rfm"}, "RFM分析", "zh", "segment_bars", "bar"),
    ("abc_bars_in_class_order", {"analysis": "abc"}, "ABC analysis", "en", "segment_bars", "bar"),
    ("ordered_tier_bars", {"metrics": ["revenue"], "dimensions": ["city_tier"]}, "", "zh", "segment_bars", "bar"),
    ("scatter_two_measures", {"metrics": ["cac", "avg_clv"], "dimensions": ["acquisition_channel"]}, "", "zh",
     "scatter", "circle"),
    ("metric_card_single_number", {"metrics": ["revenue"], "time": Y2025}, "2025年销售额", "zh", "metric_card", "text"),
    ("metric_card_two_numbers", {"metrics": ["revenue", "repeat_purchase_rate"], "time": Y2025}, "", "en",
     "metric_card", "text"),
]


@pytest.mark.parametrize("query,question,lang,rule,mark", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_chart_rule(bi: ChatBI, query: dict[str, Any], question: str, lang: str, rule: str, mark: str) -> None:
    spec, answer = _spec(bi, query, question, lang)
    assert spec["usermeta"]["chatbi"]["rule"] == rule
    assert _mark(spec) == mark
    assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
    # nominal axes and legends always carry an explicit sort (Altair would sort alphabetically)
    for enc in _encodings(spec):
        for channel, e in enc.items():
            if isinstance(e, dict) and e.get("type") == "nominal" and channel in ("x", "y", "color", "xOffset"):
                assert "sort" in e, f"{channel} of {rule} has no sort"
    svg = vlc.vegalite_to_svg(spec)
    assert "WenQuanYi Micro Hei" in svg
    title = spec["title"]["text"]
    assert re.search(r"[\u4e00-\u9fff]", title) if lang == "zh" else not re.search(r"[\u4e00-\u9fff]", title)


def test_bar_is_sorted_by_value_with_chinese_labels(bi: ChatBI) -> None:
    spec, answer = _spec(bi, {"metrics": ["revenue"], "dimensions": ["region"], "time": Y2025}, "", "zh")
    assert spec["mark"] == "bar"
    x, y = spec["encoding"]["x"], spec["encoding"]["y"]
    assert x["sort"] == "-y" and x["title"] == "地区" and y["title"] == "销售额"
    assert set(_values(spec, "region")) == {"华东", "华北", "华南", "华中", "西南", "西北", "东北"}
    assert y["axis"]["format"].startswith("$") and spec["config"]["locale"]["number"]["currency"][0] == "¥"
    assert "华东" in vlc.vegalite_to_svg(spec)


def test_long_labels_turn_bars_horizontal(bi: ChatBI) -> None:
    spec, _ = _spec(bi, {"metrics": ["revenue"], "dimensions": ["city"]}, "", "zh")
    assert spec["encoding"]["y"]["type"] == "nominal" and spec["encoding"]["y"]["sort"] == "-x"
    assert spec["encoding"]["x"]["type"] == "quantitative"


def test_rfm_bars_follow_the_catalog_value_order(bi: ChatBI, catalog) -> None:
    spec, _ = _spec(bi, {"analysis": "rfm"}, "", "zh")
    order = [v.label.zh for v in catalog.find_dimension("rfm_segment").values]
    axis = spec["encoding"]["y"] if spec["encoding"]["y"]["type"] == "nominal" else spec["encoding"]["x"]
    assert axis["sort"] == [label for label in order if label in set(_values(spec, "rfm_segment"))]
    assert axis["sort"][0] == "重要价值客户"


def test_abc_order_in_english(bi: ChatBI) -> None:
    spec, _ = _spec(bi, {"analysis": "abc"}, "", "en")
    axis = spec["encoding"]["x"]
    assert axis["sort"] == ["Class A", "Class B", "Class C"]


def test_time_series_has_one_line_per_region_and_month_format(bi: ChatBI) -> None:
    spec, _ = _spec(bi, {"metrics": ["revenue"], "dimensions": ["region"], "time": {"grain": "month", **Y2025}})
    enc = spec["encoding"]
    assert enc["x"]["type"] == "temporal" and enc["x"]["axis"]["format"] == "%Y-%m"
    assert enc["x"]["timeUnit"] == "utcyearmonth"
    assert enc["color"]["field"] == "region" and len(set(_values(spec, "region"))) == 7


def test_percent_axis_format(bi: ChatBI) -> None:
    spec, _ = _spec(bi, {"metrics": ["return_rate"], "dimensions": ["category"]})
    assert spec["encoding"]["y"]["axis"]["format"] == ".0%"


def test_cohort_heatmap_axes(bi: ChatBI) -> None:
    spec, _ = _spec(bi, {"analysis": "cohort"})
    enc = spec["encoding"]
    assert enc["x"]["field"] == "months_since" and enc["y"]["field"] == "cohort"
    assert enc["color"]["field"] == "retention_rate" and enc["color"]["legend"]["format"] == ".0%"
    assert all(isinstance(v, int) for v in _values(spec, "months_since"))  # sorts 0, 1, 2, … 10, not "10" < "2"


def test_metric_card_shows_the_formatted_number(bi: ChatBI) -> None:
    spec, answer = _spec(bi, {"metrics": ["revenue"], "time": Y2025})
    texts = [v["text"] for v in spec["layer"][0]["data"]["values"]] if "data" not in spec else \
        [v["text"] for v in spec["data"]["values"]]
    assert texts == [f"¥{answer.rows[0][0]:,.2f}"]


def test_no_rows_no_chart(bi: ChatBI) -> None:
    spec, answer = _spec(bi, {"metrics": ["revenue"], "dimensions": ["region"],
                              "time": {"start": "2030-01-01", "end": "2030-12-31"}})
    assert answer.rows == [] and spec is None


def test_rules_have_unique_names() -> None:
    names = [r.name for r in RULES]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("question,expected", [
    ("各渠道销售额占比", True), ("销售额构成", True), ("revenue share by channel", True), ("channel mix", True),
    ("各地区的销售额", False), ("revenue by region", False), ("mixed", False),
], ids=["zh_占比", "zh_构成", "en_share", "en_mix", "zh_plain", "en_plain", "en_mixed_is_not_mix"])
def test_share_intent(question: str, expected: bool) -> None:
    assert share_intent(question) is expected


D = dt.date


@pytest.mark.parametrize("start,end,previous,year_ago", [
    (D(2025, 7, 1), D(2025, 9, 30), (D(2025, 4, 1), D(2025, 6, 30)), (D(2024, 7, 1), D(2024, 9, 30))),
    (D(2025, 1, 1), D(2025, 12, 31), (D(2024, 1, 1), D(2024, 12, 31)), (D(2024, 1, 1), D(2024, 12, 31))),
    (D(2025, 12, 2), D(2025, 12, 31), (D(2025, 11, 2), D(2025, 12, 1)), (D(2024, 12, 2), D(2024, 12, 31))),
    (D(2025, 2, 1), D(2025, 2, 28), (D(2025, 1, 1), D(2025, 1, 31)), (D(2024, 2, 1), D(2024, 2, 29))),
    (D(2025, 10, 1), D(2025, 12, 31), (D(2025, 7, 1), D(2025, 9, 30)), (D(2024, 10, 1), D(2024, 12, 31))),
], ids=["quarter", "full_year_same_range", "last_30_days", "february_leap_year_ago", "last_3_months"])
def test_comparison_ranges(start: dt.date, end: dt.date, previous: tuple, year_ago: tuple) -> None:
    got = dict(comparison_ranges(DateRange(start, end)))
    assert (got["previous"].start, got["previous"].end) == previous
    assert (got["year_ago"].start, got["year_ago"].end) == year_ago


def test_open_range_has_no_comparison() -> None:
    assert comparison_ranges(DateRange(None, None)) == []
    assert comparison_ranges(DateRange(D(2025, 1, 1), None)) == []
