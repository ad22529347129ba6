"""Recorded exchanges with an OpenAI-compatible endpoint, replayed through the real ``ChatOpenAI``.

A transcript is a YAML file (tests/fixtures/llm_transcripts/*.yaml)::

    name: revenue_by_region            # the file's id
    description: what it shows
    question: 今年每个大区卖了多少钱
    lang: zh
    as_of: 2025-12-31
    previous: null                     # the session's previous semantic query, if any
    settings: {}                       # LLMSettings fields, e.g. {analyst_mode: true}
    exchanges:                         # one per HTTP call, in order
      - request: {...}                 # optional: the request body as sent (recorded; not compared)
        status: 200
        response: {...}                # the chat.completions response body, exactly as the server sent it
      - raise: ReadTimeout             # or: the transport fails (ReadTimeout | ConnectError)
    expect: {status: ok, source: llm, calls: 1, semantic_query: {...}}

Replay serves the responses in order over ``httpx.MockTransport``, so the
provider's JSON goes through the same client, parsing and validation as in
production. ``python -m assistant.llm.transcripts record QUESTION --out FILE``
records a new one from the configured endpoint (the API key is never written).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path
from typing import Any, Literal

import httpx
import yaml
from pydantic import BaseModel, ConfigDict, Field

from semantic_layer.query import SemanticQuery

from .config import LLMSettings, build_chat_model, load_settings
from .prompt import TOOL_NAME

REPLAY_URL = "http://replay.invalid/v1"


class Exchange(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    request: dict[str, Any] | None = None
    status: int = 200
    response: dict[str, Any] | None = None
    raise_: Literal["ReadTimeout", "ConnectError"] | None = Field(default=None, alias="raise")


class Transcript(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    question: str
    lang: Literal["zh", "en"] = "zh"
    as_of: dt.date
    previous: SemanticQuery | None = None
    settings: dict[str, Any] = Field(default_factory=dict)
    exchanges: list[Exchange]
    expect: dict[str, Any] = Field(default_factory=dict)


def load_transcript(path: str | Path) -> Transcript:
    return Transcript.model_validate(yaml.safe_load(Path(path).read_text(encoding="utf-8")))


class ReplayTransport:
    """An ``httpx.MockTransport`` handler serving recorded responses in order; keeps the requests."""

    def __init__(self, exchanges: list[Exchange]) -> None:
        self.exchanges = list(exchanges)
        self.requests: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(json.loads(request.content or b"{}"))
        if len(self.requests) > len(self.exchanges):
            return httpx.Response(599, json={"error": {"message": "transcript exhausted: no recorded response left"}})
        ex = self.exchanges[len(self.requests) - 1]
        if ex.raise_ == "ReadTimeout":
            raise httpx.ReadTimeout("replayed timeout", request=request)
        if ex.raise_ == "ConnectError":
            raise httpx.ConnectError("replayed connection failure", request=request)
        return httpx.Response(ex.status, json=ex.response or {})


def replay_model(transcript: Transcript, **overrides: Any) -> tuple[Any, ReplayTransport, LLMSettings]:
    """A real ``ChatOpenAI`` whose HTTP calls are answered from ``transcript`` (no retries, no network)."""
    settings = LLMSettings.model_validate({"model": "replay", "base_url": REPLAY_URL, "api_key": "replay",
                                           "max_retries": 0, "cooldown": 0, **transcript.settings, **overrides})
    transport = ReplayTransport(transcript.exchanges)
    model = build_chat_model(settings, http_client=httpx.Client(transport=httpx.MockTransport(transport)))
    return model, transport, settings


def completion(*, args: dict[str, Any] | None = None, raw_args: str | None = None, content: str | None = None,
               name: str = TOOL_NAME, prompt_tokens: int = 0, model: str = "replay") -> dict[str, Any]:
    """A chat.completions response body, as an OpenAI-compatible server sends it.

    ``args`` becomes a tool call (arguments JSON-encoded, as on the wire); ``raw_args``
    is sent verbatim (for malformed JSON); ``content`` is a plain text reply.
    """
    message: dict[str, Any] = {"role": "assistant", "content": content}
    finish = "stop"
    if args is not None or raw_args is not None:
        arguments = raw_args if raw_args is not None else json.dumps(args, ensure_ascii=False)
        message["tool_calls"] = [{"id": "call_0", "type": "function", "function": {"name": name, "arguments": arguments}}]
        finish = "tool_calls"
    return {"id": "chatcmpl-replay", "object": "chat.completion", "created": 1767139200, "model": model,
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": 30, "total_tokens": prompt_tokens + 30}}


# --- recording ---------------------------------------------------------------------


class RecordingTransport(httpx.BaseTransport):
    """Forwards to the real endpoint and keeps each request body and response body."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.exchanges: list[dict[str, Any]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content or b"{}")
        response = self.inner.handle_request(request)
        content = response.read()
        try:
            data = json.loads(content)
        except json.JSONDecodeError:
            data = {"raw": content.decode("utf-8", "replace")}
        self.exchanges.append({"request": body, "status": response.status_code, "response": data})
        return httpx.Response(response.status_code, headers=response.headers, content=content, request=request)


def record(question: str, out: Path, *, as_of: dt.date, lang: str | None = None,
           previous: SemanticQuery | None = None, settings: LLMSettings | None = None) -> Transcript:
    """Ask the configured endpoint once through the LLM planner and write the exchange as a transcript."""
    from semantic_layer.loader import load_catalog

    from ..planner import detect_lang
    from .planner import LLMPlanner

    settings = settings or load_settings()
    if not settings.configured:
        raise SystemExit("no LLM configured: set CHATBI_LLM_MODEL (and CHATBI_LLM_BASE_URL, CHATBI_LLM_API_KEY)")
    lang = lang or detect_lang(question)
    recorder = RecordingTransport()
    model = build_chat_model(settings, http_client=httpx.Client(transport=recorder, timeout=settings.timeout))
    result = LLMPlanner(load_catalog(), model, settings=settings).plan(question, as_of=as_of, previous=previous,
                                                                       lang=lang)
    expect: dict[str, Any] = {"status": result.status, "calls": result.calls}
    if result.query is not None:
        expect["semantic_query"] = result.query.model_dump(mode="json", exclude_defaults=True)
    transcript = Transcript(
        name=out.stem, description=f"recorded from {settings.model}", question=question, lang=lang,  # type: ignore[arg-type]
        as_of=as_of, previous=previous, exchanges=[Exchange.model_validate(e) for e in recorder.exchanges],
        expect=expect)
    data = transcript.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    out.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return transcript


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m assistant.llm.transcripts",
                                     description="record an LLM planning exchange as a replayable transcript")
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record")
    rec.add_argument("question")
    rec.add_argument("--out", type=Path, required=True)
    rec.add_argument("--as-of", default="2025-12-31")
    rec.add_argument("--lang", choices=["zh", "en"])
    rec.add_argument("--previous", help="previous semantic query as JSON")
    args = parser.parse_args(argv)
    previous = SemanticQuery.model_validate_json(args.previous) if args.previous else None
    result = record(args.question, args.out, as_of=dt.date.fromisoformat(args.as_of), lang=args.lang,
                    previous=previous)
    print(f"{args.out}: {result.expect}")


if __name__ == "__main__":
    main()
