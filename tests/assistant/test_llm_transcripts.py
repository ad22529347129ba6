"""Recorded endpoint replies (tests/fixtures/llm_transcripts/) replayed through the real ChatOpenAI."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from assistant.llm.planner import LLMPlanner
from assistant.llm.transcripts import Transcript, completion, load_transcript, replay_model
from semantic_layer.query import SemanticQuery

FOLDER = Path(__file__).resolve().parents[1] / "fixtures" / "llm_transcripts"
FILES = sorted(FOLDER.glob("*.yaml"))
EXPECT_KEYS = {"status", "calls", "prompt_tokens", "semantic_query", "notice", "error_contains",
               "first_request_contains", "second_request_contains"}


def test_there_are_transcripts() -> None:
    assert len(FILES) >= 3


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_transcript_replays(catalog, path: Path) -> None:
    transcript = load_transcript(path)
    assert transcript.name == path.stem and set(transcript.expect) <= EXPECT_KEYS
    model, transport, settings = replay_model(transcript)
    result = LLMPlanner(catalog, model, settings=settings).plan(
        transcript.question, as_of=transcript.as_of, previous=transcript.previous, lang=transcript.lang)
    expect = transcript.expect
    assert result.status == expect["status"], result.error
    assert result.calls == expect["calls"] == len(transport.requests)
    if "prompt_tokens" in expect:
        assert result.prompt_tokens == expect["prompt_tokens"]
    if "semantic_query" in expect:
        assert result.query == SemanticQuery.model_validate(expect["semantic_query"])
    if "notice" in expect:
        assert any(expect["notice"] in n.en for n in result.notices)
    if "error_contains" in expect:
        assert expect["error_contains"] in result.error
    for key, index in (("first_request_contains", 0), ("second_request_contains", 1)):
        if key in expect:
            text = "\n".join(str(m.get("content") or "") for m in transport.requests[index]["messages"])
            assert expect[key] in text
    first = transport.requests[0]
    assert first["tools"][0]["function"]["name"] == "plan_query"
    assert f"Question: {transcript.question}" in first["messages"][-1]["content"]


def test_replayed_plan_runs_through_chatbi(demo_db: Path) -> None:
    from assistant.service import ChatBI

    transcript = load_transcript(FOLDER / "valid_revenue_by_region_zh.yaml")
    model, transport, settings = replay_model(transcript, route="always")
    bi = ChatBI(demo_db, llm=model, llm_settings=settings)
    assert bi.llm.active
    answer = bi.ask(transcript.question)
    assert answer.status == "ok" and answer.planner == "llm" and len(transport.requests) == 1
    assert answer.columns == ["region", "revenue"] and len(answer.rows) == 7


def test_transcript_format_round_trips(tmp_path: Path) -> None:
    """What ``record`` writes is what ``load_transcript`` reads (the API key is never part of it)."""
    transcript = Transcript.model_validate({
        "name": "t", "question": "q", "as_of": "2025-12-31",
        "exchanges": [{"request": {"model": "m", "messages": []}, "response": completion(content="hi")},
                      {"raise": "ReadTimeout"}]})
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(transcript.model_dump(mode="json", by_alias=True, exclude_defaults=True),
                                   allow_unicode=True), encoding="utf-8")
    assert load_transcript(path) == transcript
    assert "raise: ReadTimeout" in path.read_text(encoding="utf-8")
