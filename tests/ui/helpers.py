"""Small helpers for reading an AppTest."""

from __future__ import annotations

from typing import Any


def ask(at: Any, question: str) -> Any:
    """Type a question into the chat input and submit it."""
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def texts(at: Any) -> list[str]:
    return [t.value for t in at.text]


def badges(at: Any) -> list[str]:
    return [m.value for m in at.markdown if "-badge[" in m.value]
