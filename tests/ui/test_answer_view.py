"""What the chat shows of an answer, without Streamlit: chips, table labels, re-asking, i18n, escaping."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from ui.answer_view import display_frame, query_chips, refine_question
from ui.components import md_escape
from ui.i18n import EXAMPLES, STRINGS, t

AS_OF = dt.date(2025, 12, 31)


def chips(query, catalog, lang):
    return [(c.kind, c.text) for c in query_chips(query, catalog, AS_OF, lang)]


def test_chips_in_both_languages(catalog):
    query = {"metrics": ["revenue"], "dimensions": ["region"], "time": {"relative": "last_quarter"},
             "filters": [{"field": "sales_channel", "values": ["Online"]}]}
    assert chips(query, catalog, "zh") == [
        ("metric", "销售额"), ("dimension", "地区"), ("filter", "销售渠道 为 线上"), ("time", "2025-07-01 至 2025-09-30")]
    assert chips(query, catalog, "en") == [
        ("metric", "Revenue"), ("dimension", "Region"), ("filter", "Sales channel is Online"),
        ("time", "2025-07-01 to 2025-09-30")]


def test_chips_grain_limit_and_all_time(catalog):
    got = chips({"metrics": ["buyers"], "time": {"grain": "month"}, "limit": 5}, catalog, "zh")
    assert ("grain", "月份") in got and ("limit", "前 5 项") in got and ("time", "全部时间") in got
    assert chips({"metrics": ["revenue"]}, catalog, "en")[-1] == ("time", "All time")
    assert chips(None, catalog, "zh") == [] and chips({"bogus": 1}, catalog, "zh") == []


def test_table_uses_display_labels_and_value_labels(catalog):
    frame, formats = display_frame(["region", "revenue", "revenue_share"], [["East", 10.0, 0.5], [None, 1.0, 0.1]],
                                   catalog, "zh")
    assert list(frame.columns) == ["地区", "销售额 (CNY)", "销售额占比"]
    assert frame["地区"].tolist()[0] == "华东"
    assert formats == {"销售额 (CNY)": "localized", "销售额占比": "percent"}
    frame, _ = display_frame(["month", "churn_rate"], [["2025-01-01", 0.1]], catalog, "en")
    assert list(frame.columns) == ["Month", "Churn rate"]


@pytest.mark.parametrize("question, message, candidate, expected", [
    ("渠道的销售额", "「渠道」可以指: 获客渠道、销售渠道。请问您指哪一个?", "销售渠道", "销售渠道的销售额"),
    ("Revenue by Channel", "'channel' can mean: Acquisition channel, Sales channel.", "Sales channel",
     "Revenue by Sales channel"),
    ("各地区的 revenu", "我不认识「revenu」。您是不是指: revenue、revenues?", "revenue", "各地区的 revenue"),
    ("看一下各地区的数据", "我没有找到要看的指标。", "销售额", "看一下各地区的数据 销售额"),
])
def test_refine_question(question, message, candidate, expected):
    assert refine_question(question, message, candidate) == expected


def test_every_ui_string_has_both_languages_with_the_same_fields():
    for key, (zh, en) in STRINGS.items():
        assert zh and en, key
        assert set(re.findall(r"{(\w+)}", zh)) == set(re.findall(r"{(\w+)}", en)), key
    assert t("as_of", "zh", date="2025-12-31") == "数据截止日: 2025-12-31"
    assert set(EXAMPLES) == {"zh", "en"} and all(EXAMPLES.values())


def test_example_questions_are_answered(demo_db):
    from assistant.service import ChatBI

    bi = ChatBI(demo_db)
    for lang, questions in EXAMPLES.items():
        for q in questions:
            answer = bi.ask(q)
            assert answer.status == "ok" and answer.rows and answer.lang == lang, (q, answer.message)


@pytest.mark.parametrize("text", ["![x](http://evil/?q=1)", "[link](javascript:alert(1))", "<img src=x>", "**b** `c`"])
def test_md_escape_neutralises_markdown(text):
    escaped = md_escape(text)
    assert not re.search(r"(?<!\\)[\[\]()<>*`!]", escaped)
    assert escaped.replace("\\", "") == text


@pytest.mark.parametrize("module", ["ui.answer_view", "ui.components", "ui.i18n", "ui.catalog_cards"])
def test_docstring_examples_run(module):
    """``ui/`` is not a doctest path (its page scripts must not run on import), so its helpers' examples run here."""
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted and not result.failed
