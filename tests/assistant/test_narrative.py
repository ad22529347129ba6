"""The narrative: every number in it appears in, or follows from, the rows.

The check is independent of how the narrative is written: it extracts each
number (and date) from the text and looks for it among values computed from the
result rows and the comparison rows (环比/同比) the service fetched — cells,
totals, medians, group sums, running sums, and one step of ratio, difference
or relative change between them — at the precision the text shows.
"""

from __future__ import annotations

import re
import statistics
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant.formatting import format_key
from assistant.narrative import narrate
from assistant.result import ResultSet
from assistant.service import ChatBI
from semantic_layer.query import SemanticQuery

Y2025 = {"start": "2025-01-01", "end": "2025-12-31"}
Q3 = {"start": "2025-07-01", "end": "2025-09-30"}


@pytest.fixture(scope="module")
def bi(demo_db: Path) -> ChatBI:
    return ChatBI(demo_db)


def _run(bi: ChatBI, query: dict[str, Any], lang: str) -> tuple[str, ResultSet, list]:
    """The narrative as the service writes it, with the result and comparisons it was written from."""
    semantic = SemanticQuery.model_validate(query)
    answer = bi.run(semantic, lang=lang)
    assert answer.status == "ok", answer.message
    compiled = bi.compile(semantic)
    result = bi.engine.execute(_guarded(bi, compiled))
    rs = ResultSet.build(compiled, result.rows, bi.catalog, truncated=result.truncated)
    comparisons = bi.comparisons(compiled)
    assert narrate(rs, lang, comparisons) == answer.narrative  # deterministic, same inputs same text
    return answer.narrative, rs, comparisons


def _guarded(bi: ChatBI, compiled: Any) -> Any:
    from semantic_layer.guard import guard_sql

    return guard_sql(compiled.sql, bi.schema, max_rows=bi.catalog.project.max_rows)


# --- the independent check ---------------------------------------------------------------


def _cells_and_aggregates(rs: ResultSet) -> tuple[list[float], list[float]]:
    cells: list[float] = []
    aggs: list[float] = [float(len(rs.rows))]
    for key in rs.keys:
        values = rs.values(key.name)
        aggs.append(float(len(set(values))))
        cells += [float(v) for v in values if isinstance(v, (int, float))]
    for m in rs.metrics + rs.share_columns:
        values = [float(v) for v in rs.values(m.name) if v is not None]
        if not values:
            continue
        cells += values
        aggs += [sum(values), statistics.median(values), statistics.mean(values)]
        running = np.cumsum(sorted(values, reverse=True))
        aggs += running.tolist()
        for key in rs.keys:
            i, k = rs.index(m.name), rs.index(key.name)
            groups: dict[Any, float] = {}
            for row in rs.rows:
                if row[i] is not None:
                    groups[row[k]] = groups.get(row[k], 0.0) + float(row[i])
            aggs += list(groups.values())
    return cells, aggs


def _candidates(rs: ResultSet, comparisons: list) -> np.ndarray:
    cells, aggs = _cells_and_aggregates(rs)
    for c in comparisons:
        more_cells, more_aggs = _cells_and_aggregates(c.result)
        cells += more_cells
        aggs += more_aggs
    a, c = np.array(aggs), np.array(cells)
    out = [a, c]
    pairs = [(a, a), (c, a), (a, c)]
    if len(c) <= 400:
        pairs.append((c, c))
    with np.errstate(divide="ignore", invalid="ignore"):
        for x, y in pairs:
            x, y = x[:, None], y[None, :]
            out += [(x / y).ravel(), (x - y).ravel(), ((x - y) / y).ravel()]
    allv = np.abs(np.concatenate(out))
    return allv[np.isfinite(allv)]


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{4}-Q[1-4]|\d{4}-\d{2}")
_NUMBER = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s*(%|个百分点|percentage points)?")


def _allowed_dates(rs: ResultSet, comparisons: list) -> set[str]:
    dates = set()
    for r in [rs, *[c.result for c in comparisons]]:
        for rng in (r.time_range,):
            dates |= {d.isoformat() for d in (rng.start, rng.end) if d}
        dates.add(r.lineage.as_of.isoformat())
        for key in r.keys:
            dates |= {format_key(v, key, "zh") for v in r.values(key.name)}
    return dates


def _labels(rs: ResultSet) -> list[str]:
    labels = []
    for col in rs.columns:
        labels += [col.label.zh, col.label.en] + [t.get(lang) for _, t in col.value_labels for lang in ("zh", "en")]
    return sorted(labels, key=len, reverse=True)


def assert_numbers_follow(text: str, rs: ResultSet, comparisons: list) -> int:
    """Every number in ``text`` is a value derivable from the rows; returns how many were checked."""
    allowed = _allowed_dates(rs, comparisons)
    for date in _DATE.findall(text):
        assert date in allowed, f"date {date} not in the result: {text}"
    text = _DATE.sub(" ", text)
    for label in _labels(rs):
        text = text.replace(label, " ")
    candidates = _candidates(rs, comparisons)
    checked = 0
    for number, unit in _NUMBER.findall(text):
        shown = float(number.replace(",", ""))
        decimals = len(number.split(".")[1]) if "." in number else 0
        tolerance = 0.5 * 10 ** -decimals + 1e-9 * max(1.0, shown)
        scaled = candidates * 100 if unit else candidates
        assert np.any(np.abs(scaled - shown) <= tolerance), f"{number}{unit} does not follow from the rows: {text}"
        checked += 1
    return checked


CASES = [
    ("category_with_yoy", {"metrics": ["revenue"], "dimensions": ["region"], "time": Y2025}),
    ("quarter_with_mom_and_yoy", {"metrics": ["cac"], "dimensions": ["acquisition_channel"], "time": Q3}),
    ("time_series_additive", {"metrics": ["revenue"], "time": {"grain": "month", **Y2025}}),
    ("time_series_rate", {"metrics": ["repeat_purchase_rate"], "time": {"grain": "month", **Y2025}}),
    ("time_by_region", {"metrics": ["revenue"], "dimensions": ["region"], "time": {"grain": "quarter", **Y2025}}),
    ("single_numbers", {"metrics": ["revenue", "order_count", "return_rate"], "time": Q3}),
    ("cross_two_dims", {"metrics": ["revenue"], "dimensions": ["region", "sales_channel"]}),
    ("rfm", {"analysis": "rfm"}),
    ("abc", {"analysis": "abc"}),
    ("cohort", {"analysis": "cohort"}),
    ("percent_by_category", {"metrics": ["return_rate", "gross_margin"], "dimensions": ["category"]}),
    ("top_n_limit", {"metrics": ["revenue"], "dimensions": ["city"], "time": Y2025, "limit": 5}),
]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("query", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_every_number_follows_from_the_rows(bi: ChatBI, query: dict[str, Any], lang: str) -> None:
    text, rs, comparisons = _run(bi, query, lang)
    assert text
    assert assert_numbers_follow(text, rs, comparisons) >= 2


def test_the_check_catches_an_invented_number(bi: ChatBI) -> None:
    text, rs, comparisons = _run(bi, {"metrics": ["revenue"], "dimensions": ["region"], "time": Y2025}, "zh")
    with pytest.raises(AssertionError, match="does not follow"):
        assert_numbers_follow(text + "另有 ¥123,456,789.01 来自未知渠道。", rs, comparisons)
    with pytest.raises(AssertionError, match="not in the result"):
        assert_numbers_follow(text + "对比 2019-03-01。", rs, comparisons)


def test_year_over_year_matches_the_warehouse(bi: ChatBI, raw_con) -> None:
    text, _, _ = _run(bi, {"metrics": ["revenue"], "dimensions": ["region"], "time": Y2025}, "zh")
    now, then = (float(raw_con.execute(
        f"SELECT SUM(amount) FROM orders WHERE status = 'completed' AND year(order_date) = {y}").fetchone()[0])
        for y in (2025, 2024))
    change = (now - then) / then * 100
    assert "同比（对比 2024-01-01 至 2024-12-31）" in text
    assert f"销售额合计{'增长' if change >= 0 else '下降'} {abs(change):.1f}%（去年同期 ¥{then:,.2f}）" in text
    assert "环比" not in text  # a full year's previous period is the same year: told once, as 同比


def test_quarter_has_both_comparisons(bi: ChatBI) -> None:
    text, _, comparisons = _run(bi, {"metrics": ["revenue"], "time": Q3}, "zh")
    assert {c.kind for c in comparisons} == {"previous", "year_ago"}
    assert "环比（对比 2025-04-01 至 2025-06-30）" in text and "同比（对比 2024-07-01 至 2024-09-30）" in text
    en, _, _ = _run(bi, {"metrics": ["revenue"], "time": Q3}, "en")
    assert en.startswith("2025-07-01 to 2025-09-30") and "Year over year (against 2024-07-01 to 2024-09-30)" in en


def test_no_time_range_no_comparison(bi: ChatBI) -> None:
    text, _, comparisons = _run(bi, {"metrics": ["revenue"], "dimensions": ["region"]}, "zh")
    assert comparisons == [] and "环比" not in text and "同比" not in text
    assert text.startswith("全部时间（截至 2025-12-31）")


def test_top_bottom_share_and_outliers(bi: ChatBI) -> None:
    text, rs, _ = _run(bi, {"metrics": ["revenue"], "dimensions": ["region"], "time": Y2025}, "zh")
    ranked = sorted(rs.rows, key=lambda r: -r[1])
    total = sum(r[1] for r in rs.rows)
    top, low = ranked[0], ranked[-1]
    assert f"最高的是华东（¥{top[1]:,.2f}，占 {top[1] / total * 100:.1f}%）" in text
    assert f"最低的是西北（¥{low[1]:,.2f}" in text
    median = statistics.median(r[1] for r in rs.rows)
    if top[1] / median >= 2:
        assert f"华东明显偏高，是中位数的 {top[1] / median:.1f} 倍" in text


def test_rates_change_in_percentage_points(bi: ChatBI) -> None:
    text, rs, comparisons = _run(bi, {"metrics": ["repeat_purchase_rate"], "time": Q3}, "zh")
    now = rs.rows[0][0]
    then = next(c for c in comparisons if c.kind == "previous").result.rows[0][0]
    diff = (now - then) * 100
    assert f"复购率{'上升' if diff >= 0 else '下降'} {abs(diff):.1f} 个百分点（上期 {then * 100:.1f}%）" in text


def test_cohort_retention_is_customer_weighted(bi: ChatBI) -> None:
    text, rs, _ = _run(bi, {"analysis": "cohort"}, "zh")
    month1 = [r for r in rs.rows if r[rs.index("months_since")] == 1]
    weighted = sum(r[rs.index("retained_customers")] for r in month1) / sum(r[rs.index("cohort_size")] for r in month1)
    assert f"第 1 个月留存率 {weighted * 100:.1f}%" in text


def test_empty_result(bi: ChatBI) -> None:
    answer = bi.run(SemanticQuery.model_validate(
        {"metrics": ["revenue"], "dimensions": ["region"], "time": {"start": "2030-01-01", "end": "2030-12-31"}}))
    assert answer.narrative == "没有符合条件的数据。"
    answer = bi.run(SemanticQuery.model_validate(
        {"metrics": ["revenue"], "dimensions": ["region"], "time": {"start": "2030-01-01", "end": "2030-12-31"}}),
        lang="en")
    assert answer.narrative == "No data matches the question."
