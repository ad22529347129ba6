"""One small error tree shared by the CLI, the agent and the UI.

``UserError`` is safe to show: it carries a bilingual message, a code and
suggestions. ``InternalError`` is a bug. Codes by range: 1xx catalog,
2xx planning, 3xx compile/guard, 5xx engine.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Iterable, Literal

Lang = Literal["zh", "en"]


@dataclass(frozen=True)
class Issue:
    """A problem found by a validator; the loader raises once with all of them."""

    level: Literal["error", "warning"]
    code: int
    message_zh: str
    message_en: str
    file: str | None = None
    line: int | None = None
    path: str | None = None  # field path inside the file, e.g. "metrics[2].agg"

    def render(self, lang: Lang = "en") -> str:
        where = ":".join(str(p) for p in (self.file, self.line) if p is not None)
        loc = f"{where} " if where else ""
        fld = f"[{self.path}] " if self.path else ""
        msg = self.message_zh if lang == "zh" else self.message_en
        return f"{loc}{fld}{msg}"

    def render_both(self) -> str:
        return f"{self.render('zh')}\n    {self.render('en')}"


class ChatBIError(Exception):
    """Root of every error ChatBI raises on purpose."""


@dataclass
class UserError(ChatBIError):
    """A problem with the user's input; bilingual and safe to show."""

    code: int
    message_zh: str
    message_en: str
    suggestions: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.message_en)

    def message(self, lang: Lang = "en") -> str:
        return self.message_zh if lang == "zh" else self.message_en

    def __str__(self) -> str:
        return f"[{self.code}] {self.message_zh} / {self.message_en}"


@dataclass
class CatalogError(UserError):
    """The catalog (YAML) is invalid; carries every issue found at once."""

    issues: list[Issue] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"[{self.code}] {self.message_zh} / {self.message_en}"]
        lines += [f"  - {i.render_both()}" for i in self.issues]
        return "\n".join(lines)


class GuardError(UserError):
    """SQL rejected by the guard (3xx)."""


class EngineError(UserError):
    """The engine refused or failed a query (5xx): timeout, memory, bad SQL."""


class InternalError(ChatBIError):
    """A bug: never the user's fault."""


def closest(word: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Closest names for "did you mean" hints.

    >>> closest("revenu", ["revenue", "orders", "region"])
    ['revenue']
    """
    return difflib.get_close_matches(word, list(candidates), n=n, cutoff=0.6)


def first_line(err: BaseException, limit: int = 300) -> str:
    """The first line of a library's error (at most ``limit`` characters), for a bilingual message.

    >>> first_line(ValueError("bad thing\\n  detail"))
    'bad thing'
    """
    lines = str(err).strip().splitlines()
    return lines[0][:limit] if lines else type(err).__name__
