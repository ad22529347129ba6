"""User feedback on answers (👍/👎 with an optional correction) and its promotion to the golden suite.

Feedback is an append-only JSON-lines log at ``$CHATBI_HOME/feedback.jsonl``:
``{"kind": "feedback", ...}`` records what was asked and answered, and
``{"kind": "promoted", "id": ..., "case_id": ...}`` marks one an admin turned
into a golden case. Promotion appends the case as text at the end of the suite
YAML (its comments and anchors stay as they are), after checking that the new
file still loads as a suite and the case id is unique.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import textwrap
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from .evaluate import Case, Suite, Turn
from semantic_layer.store import write_atomic

from .session import chatbi_home

Rating = Literal["up", "down"]
ExpectStatus = Literal["ok", "clarify", "refused", "error"]


@dataclass
class Feedback:
    rating: Rating
    question: str
    lang: str
    status: str
    semantic_query: dict[str, Any] | None = None
    sql: str | None = None
    correction: str = ""
    #: Earlier questions of the conversation, oldest first (a follow-up needs them to mean anything).
    context: list[str] = field(default_factory=list)
    user: str = ""
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    ts: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    promoted_as: str | None = None  # filled when read back: the golden case id

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Feedback:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


class FeedbackStore:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or chatbi_home() / "feedback.jsonl"

    def record(self, feedback: Feedback) -> Feedback:
        data = asdict(feedback)
        data.pop("promoted_as")
        self._append({"kind": "feedback", **data})
        return feedback

    def entries(self) -> list[Feedback]:
        """Every feedback, newest first, with the case it was promoted as."""
        found: dict[str, Feedback] = {}
        promoted: dict[str, str] = {}
        for data in self._read():
            if data.get("kind") == "promoted":
                promoted[str(data.get("id"))] = str(data.get("case_id"))
            elif data.get("kind") == "feedback":
                fb = Feedback.from_json(data)
                found[fb.id] = fb
        for fid, case_id in promoted.items():
            if fid in found:
                found[fid].promoted_as = case_id
        return sorted(found.values(), key=lambda f: f.ts, reverse=True)

    def get(self, feedback_id: str) -> Feedback:
        for fb in self.entries():
            if fb.id == feedback_id:
                return fb
        raise KeyError(feedback_id)

    def promote(self, feedback_id: str, suite_path: Path, *, check_sql: str | None = None,
                expect_status: ExpectStatus | None = None, case_id: str | None = None,
                with_context: bool = True) -> Case:
        """Append the feedback's question (with its conversation) as a golden case; return it."""
        fb = self.get(feedback_id)
        last = Turn(question=fb.question, check_sql=(check_sql or None), expect_status=expect_status or None)
        base = {"id": case_id or f"feedback_{re.sub(r'[^a-z0-9]', '', fb.id.lower())}", "tags": ["feedback"]}
        if fb.context and with_context:
            case = Case.model_validate({**base, "turns": [Turn(question=q) for q in fb.context] + [last]})
        else:
            case = Case.model_validate({**base, "question": fb.question, "check_sql": last.check_sql,
                                        "expect_status": last.expect_status})
        append_case(suite_path, case)
        self._append({"kind": "promoted", "id": fb.id, "case_id": case.id, "suite": str(suite_path),
                      "ts": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")})
        return case

    def _append(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(data, ensure_ascii=False, default=str) + "\n"
        # One write() of one line in append mode: concurrent writers do not interleave lines.
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)

    def _read(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        out = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                data = json.loads(line)
            except json.JSONDecodeError:
                continue  # a torn last line after a crash: skip it, keep the rest
            if isinstance(data, dict):
                out.append(data)
        return out


def append_case(suite_path: Path, case: Case) -> None:
    """Append ``case`` to the suite file as YAML text; refuse a duplicate id or a broken result."""
    text = suite_path.read_text(encoding="utf-8") if suite_path.exists() else "cases:\n"
    current = Suite.model_validate(yaml.safe_load(text) or {"cases": []})
    if any(c.id == case.id for c in current.cases):
        raise ValueError(f"case id '{case.id}' already exists in {suite_path}")
    indent = _item_indent(text)
    item = yaml.safe_dump([case.model_dump(mode="json", exclude_defaults=True)], allow_unicode=True,
                          sort_keys=False, width=10_000)
    new_text = text.rstrip("\n") + "\n" + textwrap.indent(item, " " * indent)
    updated = Suite.model_validate(yaml.safe_load(new_text))
    if len(updated.cases) != len(current.cases) + 1 or updated.cases[-1] != case:
        raise ValueError(f"appending to {suite_path} would not add the case at the end of its list")
    write_atomic(suite_path, new_text)


def _item_indent(text: str) -> int:
    """Indentation of the suite's list items (``  - id: ...`` → 2)."""
    match = re.search(r"^( *)- id:", text, re.MULTILINE)
    return len(match.group(1)) if match else 2
