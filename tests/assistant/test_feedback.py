"""Feedback log and promotion of a correction into the golden suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.evaluate import load_suite
from assistant.feedback import Feedback, FeedbackStore

SUITE = """\
# comments and anchors must survive an append
cases:
  - id: a
    question: 2025年各地区的销售额
    check_sql: &q SELECT 1
  - id: b
    question: same again
    check_sql: *q
"""


@pytest.fixture
def store(tmp_path: Path) -> FeedbackStore:
    return FeedbackStore(tmp_path / "home" / "feedback.jsonl")


def test_record_and_read_back_newest_first(store):
    first = store.record(Feedback("up", "q1", "zh", "ok", ts="2025-01-01T00:00:00+00:00"))
    second = store.record(Feedback("down", "q2", "zh", "ok", correction="应为华东", context=["q1"],
                                   ts="2025-01-02T00:00:00+00:00"))
    got = store.entries()
    assert [f.id for f in got] == [second.id, first.id]
    assert got[0].correction == "应为华东" and got[0].context == ["q1"]


def test_a_torn_last_line_is_skipped(store):
    store.record(Feedback("up", "q1", "zh", "ok"))
    with store.path.open("a", encoding="utf-8") as fh:
        fh.write('{"kind": "feedback", "rating": "do')
    assert len(store.entries()) == 1


def test_promote_appends_a_case_keeping_comments_and_anchors(store, tmp_path):
    suite = tmp_path / "suite.yaml"
    suite.write_text(SUITE, encoding="utf-8")
    fb = store.record(Feedback("down", "只看华东的销售额", "zh", "ok", correction="应只含华东"))
    case = store.promote(fb.id, suite, check_sql="SELECT 2")
    text = suite.read_text(encoding="utf-8")
    assert text.startswith(SUITE.rstrip("\n")), "the old text is untouched"
    cases = load_suite(suite).cases
    assert [c.id for c in cases] == ["a", "b", case.id]
    assert cases[-1].question == "只看华东的销售额" and cases[-1].check_sql == "SELECT 2"
    assert "feedback" in cases[-1].tags
    assert store.get(fb.id).promoted_as == case.id
    with pytest.raises(ValueError, match="already exists"):
        store.promote(fb.id, suite, check_sql="SELECT 2")


def test_promote_a_follow_up_keeps_its_conversation(store, tmp_path):
    suite = tmp_path / "suite.yaml"
    suite.write_text(SUITE, encoding="utf-8")
    fb = store.record(Feedback("down", "按渠道呢?", "zh", "clarify", context=["2025年各地区的销售额"]))
    case = store.promote(fb.id, suite, expect_status="clarify")
    last = load_suite(suite).cases[-1]
    assert last.id == case.id
    assert [t.question for t in last.turns] == ["2025年各地区的销售额", "按渠道呢?"]
    assert last.turns[-1].expect_status == "clarify"


def test_promote_needs_a_check(store, tmp_path):
    suite = tmp_path / "suite.yaml"
    suite.write_text(SUITE, encoding="utf-8")
    fb = store.record(Feedback("down", "q", "zh", "ok"))
    with pytest.raises(ValueError):
        store.promote(fb.id, suite)
    assert suite.read_text(encoding="utf-8") == SUITE
