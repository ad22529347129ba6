"""Conversation state kept between CLI calls: the last semantic query per session.

One small JSON file per session id under ``$CHATBI_HOME/sessions`` (default
``~/.chatbi``), written atomically so a crash never leaves half a file.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from semantic_layer.query import SemanticQuery
from semantic_layer.store import write_atomic


def chatbi_home() -> Path:
    return Path(os.environ.get("CHATBI_HOME", Path.home() / ".chatbi"))


@dataclass
class Session:
    id: str
    turns: list[dict[str, Any]] = field(default_factory=list)

    @property
    def last_query(self) -> SemanticQuery | None:
        for turn in reversed(self.turns):
            if turn.get("semantic_query"):
                return SemanticQuery.model_validate(turn["semantic_query"])
        return None

    def record(self, question: str, status: str, query: SemanticQuery | None) -> None:
        self.turns.append({
            "question": question, "status": status,
            "semantic_query": query.model_dump(mode="json", exclude_defaults=True) if query else None,
        })
        del self.turns[:-20]  # the last few turns are all a follow-up needs


class SessionStore:
    def __init__(self, root: Path | None = None) -> None:
        self.root = root or chatbi_home() / "sessions"

    def _path(self, session_id: str) -> Path:
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", session_id):
            from semantic_layer.errors import UserError

            raise UserError(220, "会话 ID 只能包含字母、数字、点、横线和下划线(最长 64 位)",
                            "a session id may hold only letters, digits, '.', '-' and '_' (at most 64)")
        return self.root / f"{session_id}.json"

    def load(self, session_id: str) -> Session:
        path = self._path(session_id)
        if not path.exists():
            return Session(session_id)
        data = json.loads(path.read_text(encoding="utf-8"))
        return Session(session_id, data.get("turns", []))

    def save(self, session: Session) -> None:
        path = self._path(session.id)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps({"turns": session.turns}, ensure_ascii=False, indent=1))
