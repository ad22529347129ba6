"""The strategy playbook: validated like the catalog, evaluated on real results.

Negative fixtures (sqlglot's ``*__invalid`` pairs): ``tests/fixtures/invalid_playbook/
<case>__invalid.yaml`` is loaded as the playbook text and ``<case>.expected`` lists
lines that must appear in the error (file:line [field] message, zh and en).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assistant.playbook import (
    ChangeWhen,
    PlaybookError,
    RatioWhen,
    SegmentWhen,
    ThresholdWhen,
    load_playbook,
)
from assistant.result import ResultSet
from assistant.service import ChatBI
from assistant.suggest import suggest
from semantic_layer.loader import DEFAULT_CATALOG
from semantic_layer.query import SemanticQuery

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "invalid_playbook"
CASES = sorted(p.name.removesuffix("__invalid.yaml") for p in FIXTURES.glob("*__invalid.yaml"))
PLAYBOOK = DEFAULT_CATALOG / "playbook.yaml"
SUGGESTION_KEYS = {"id", "title", "action", "trigger", "target", "size", "priority"}


@pytest.fixture(scope="module")
def bi(demo_db: Path) -> ChatBI:
    return ChatBI(demo_db)


def _answer(bi: ChatBI, query: dict[str, Any], lang: str = "zh") -> Any:
    answer = bi.run(SemanticQuery.model_validate(query), lang=lang)
    assert answer.status == "ok", answer.message
    return answer


def _by_id(answer: Any) -> dict[str, dict[str, Any]]:
    for s in answer.suggestions:
        assert set(s) == SUGGESTION_KEYS
    return {s["id"]: s for s in answer.suggestions}


# --- validation ------------------------------------------------------------------------


def test_default_playbook_is_valid_and_covers_the_segments(catalog) -> None:
    playbook = load_playbook(PLAYBOOK, catalog=catalog)
    segments = {(r.when.dimension, r.when.value) for r in playbook.rules if isinstance(r.when, SegmentWhen)}
    rfm = {v.value for v in catalog.find_dimension("rfm_segment").values}
    assert {("rfm_segment", v) for v in rfm} <= segments
    assert {("abc_class", c) for c in "ABC"} <= segments
    assert ("churn_risk", "High") in segments
    thresholds = {r.when.metric for r in playbook.rules if isinstance(r.when, ThresholdWhen)}
    assert {"churn_rate", "return_rate"} <= thresholds
    ratios = [r.when for r in playbook.rules if isinstance(r.when, RatioWhen)]
    assert any(w.numerator == "avg_clv" and w.denominator == "cac" and w.below == 3 for w in ratios)
    changes = {(r.when.metric, r.when.direction) for r in playbook.rules if isinstance(r.when, ChangeWhen)}
    assert {("repeat_purchase_rate", "fall"), ("cac", "rise")} <= changes
    for rule in playbook.rules:
        assert rule.title.zh and rule.title.en and rule.action.zh and rule.action.en


@pytest.mark.parametrize("case", CASES)
def test_invalid_playbook_is_reported_with_location(case: str, catalog) -> None:
    text = (FIXTURES / f"{case}__invalid.yaml").read_text(encoding="utf-8")
    with pytest.raises(PlaybookError) as info:
        load_playbook(text=text, catalog=catalog)
    message = str(info.value)
    for expected in (FIXTURES / f"{case}.expected").read_text(encoding="utf-8").splitlines():
        assert expected in message, f"missing: {expected}\n--- got:\n{message}"
    assert all(i.file == "playbook.yaml" and i.line for i in info.value.issues)


def test_every_fixture_has_expectations() -> None:
    assert len(CASES) >= 12
    for case in CASES:
        assert (FIXTURES / f"{case}.expected").read_text(encoding="utf-8").strip()


def test_missing_playbook_is_empty(tmp_path: Path, catalog) -> None:
    assert load_playbook(tmp_path / "playbook.yaml", catalog=catalog).rules == []


def test_a_broken_playbook_fails_the_answer_loudly(tmp_path: Path, demo_db: Path, catalog) -> None:
    import shutil

    root = tmp_path / "catalog"
    shutil.copytree(DEFAULT_CATALOG, root)
    (root / "playbook.yaml").write_text((FIXTURES / "unknown_metric__invalid.yaml").read_text(encoding="utf-8"),
                                        encoding="utf-8")
    with pytest.raises(PlaybookError, match="churn_rat"):
        ChatBI(demo_db, catalog_dir=root).playbook()


# --- evaluation on real results ----------------------------------------------------------


def test_rfm_suggests_for_every_segment_with_its_size(bi: ChatBI) -> None:
    answer = _answer(bi, {"analysis": "rfm"})
    got = _by_id(answer)
    seg, size = answer.columns.index("rfm_segment"), answer.columns.index("segment_customers")
    expected = {
        "Important Value": ("rfm_important_value", "重要价值客户"),
        "Important Win-back": ("rfm_important_winback", "重要挽留客户"),
        "General Development": ("rfm_general_development", "一般发展客户"),
    }
    for row in answer.rows:
        if row[seg] in expected:
            rule, label = expected[row[seg]]
            s = got[rule]
            assert s["size"] == f"{row[size]:,} 位客户"
            assert label in s["target"] and label in s["trigger"] and f"{row[size]:,}" in s["trigger"]
    assert "专属客户经理" in got["rfm_important_value"]["action"]
    assert "挽回优惠" in got["rfm_important_winback"]["action"]
    assert "首次复购" in got["rfm_general_development"]["action"]
    assert len([i for i in got if i.startswith("rfm_")]) == len(answer.rows)
    priorities = [s["priority"] for s in answer.suggestions]
    assert priorities == sorted(priorities)


def test_suggestions_in_english(bi: ChatBI) -> None:
    answer = _answer(bi, {"analysis": "abc"}, lang="en")
    got = _by_id(answer)
    assert set(got) == {"abc_class_a", "abc_class_b", "abc_class_c"}
    a = answer.rows[[r[0] for r in answer.rows].index("A")]
    assert got["abc_class_a"]["size"] == f"{a[1]:,} customers"
    assert got["abc_class_a"]["target"] == "Class A (ABC class)"
    assert not any("\u4e00" <= ch <= "\u9fff" for s in answer.suggestions for v in s.values() if isinstance(v, str)
                   for ch in v)


def test_churn_risk_list_is_targeted_through_its_filter(bi: ChatBI) -> None:
    answer = _answer(bi, {"analysis": "churn_risk"})
    s = _by_id(answer)["churn_risk_high"]
    assert s["size"] == f"{len(answer.rows):,} 位客户"
    assert "高风险" in s["target"] and "流失风险 = 高风险" in s["trigger"]


def test_threshold_names_the_groups_above_it(bi: ChatBI) -> None:
    answer = _answer(bi, {"metrics": ["return_rate"], "dimensions": ["category"]})
    labels = {"Apparel": "服装", "Beauty": "美妆", "Electronics": "数码", "Home": "家居", "Food": "食品",
              "Sports": "运动", "Baby": "母婴"}
    above = [labels[r[0]] for r in answer.rows if r[1] > 0.1]
    got = _by_id(answer)
    if not above:
        assert "high_return_rate" not in got
        return
    s = got["high_return_rate"]
    assert s["target"] == "、".join(above) and s["size"] == f"{len(above)} 个品类"
    assert s["trigger"].startswith("退货率高于 10.0%：")


def test_churn_rate_threshold(bi: ChatBI) -> None:
    answer = _answer(bi, {"metrics": ["churn_rate"], "dimensions": ["region"]})
    above = [r for r in answer.rows if r[1] > 0.4]
    assert ("high_churn_rate" in _by_id(answer)) == bool(above)


def test_ratio_rule_with_an_admin_threshold(bi: ChatBI, catalog) -> None:
    text = """
version: 1
rules:
  - id: clv_cac
    when: {kind: ratio, numerator: avg_clv, denominator: cac, below: 8}
    title: {zh: CLV:CAC 偏低, en: Low CLV:CAC}
    action: {zh: 优化投放, en: Rebalance spend}
"""
    playbook = load_playbook(text=text, catalog=catalog)
    query = SemanticQuery(metrics=["avg_clv", "cac"], dimensions=["acquisition_channel"])
    compiled = bi.compile(query)
    answer = bi.run(query)
    rs = ResultSet.build(compiled, [tuple(r) for r in answer.rows], bi.catalog)
    low = [r for r in answer.rows if r[2] and r[1] / r[2] < 8]
    got = suggest(rs, playbook, "zh")
    assert bool(got) == bool(low)
    if low:
        worst = min(low, key=lambda r: r[1] / r[2])
        assert f"{worst[1] / worst[2]:.1f}" in got[0].trigger and "平均CLV : 获客成本 低于 8" in got[0].trigger


def test_change_rule_against_the_previous_period(bi: ChatBI) -> None:
    query = SemanticQuery.model_validate({"metrics": ["cac"], "dimensions": ["acquisition_channel"],
                                          "time": {"start": "2025-07-01", "end": "2025-09-30"}})
    answer = bi.run(query)
    previous = next(c for c in bi.comparisons(bi.compile(query)) if c.kind == "previous").result
    before = {r[0]: r[1] for r in previous.rows}
    rose = [r[0] for r in answer.rows if r[0] in before and r[1] is not None and before[r[0]] is not None
            and r[1] > before[r[0]]]
    got = _by_id(answer)
    assert ("cac_rising" in got) == bool(rose)
    if rose:
        assert "环比对比 2025-04-01 至 2025-06-30" in got["cac_rising"]["trigger"]


def test_falling_repeat_rate_inside_a_series(bi: ChatBI) -> None:
    answer = _answer(bi, {"metrics": ["repeat_purchase_rate"],
                          "time": {"grain": "month", "start": "2025-01-01", "end": "2025-12-31"}})
    fell = answer.rows[-1][1] < answer.rows[-2][1]
    got = _by_id(answer)
    assert ("repeat_rate_falling" in got) == fell
    if fell:
        assert "较 2025-11" in got["repeat_rate_falling"]["trigger"]


def test_no_condition_no_suggestion(bi: ChatBI) -> None:
    assert _answer(bi, {"metrics": ["revenue"], "dimensions": ["region"]}).suggestions == []


def test_change_rule_with_a_minimum_size(bi: ChatBI, catalog) -> None:
    text = """
version: 1
rules:
  - id: cac_down
    when: {kind: change, metric: cac, direction: fall, against: year_ago, at_least: 0.1}
    title: {zh: 获客成本下降, en: Falling CAC}
    action: {zh: 加大投放, en: Scale up}
    audience: {zh: 各获客渠道, en: acquisition channels}
"""
    playbook = load_playbook(text=text, catalog=catalog)
    query = SemanticQuery.model_validate({"metrics": ["cac"], "dimensions": ["acquisition_channel"],
                                          "time": {"start": "2025-07-01", "end": "2025-09-30"}})
    compiled = bi.compile(query)
    comparisons = bi.comparisons(compiled)
    current = bi.run(query)
    rs = ResultSet.build(compiled, [tuple(r) for r in current.rows], bi.catalog)
    year_ago = {r[0]: r[1] for r in next(c for c in comparisons if c.kind == "year_ago").result.rows}
    fell = {r[0] for r in current.rows if r[1] is not None and year_ago.get(r[0])
            and (r[1] - year_ago[r[0]]) / year_ago[r[0]] < -0.1}
    got = suggest(rs, playbook, "en", comparisons)
    assert bool(got) == bool(fell)
    if fell:
        names = {"Search Ads", "Social Media", "Referral", "Offline Store", "Organic"}
        assert {n for n in names if n in got[0].target} == fell
        assert "year over year, 2024-07-01 to 2024-09-30" in got[0].trigger
