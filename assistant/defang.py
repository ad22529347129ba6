"""Warehouse values are data, not markup: defang what they could smuggle into an answer.

The narrative and suggestions quote values from the rows (a product name, a
city). A value holding a markdown image, a link, an HTML tag or a bidi/control
character would render, fetch or reorder text in any front end that treats the
answer as markdown (the CLI's terminal, a chat client of the JSON). Unlike
``llm.sanitize`` this keeps every character a masked name needs (``王**``).
"""

from __future__ import annotations

import re
from typing import Any

_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_REWRITES = (
    (re.compile(r"!\["), "! ["),
    (re.compile(r"\]\("), "] ("),
    (re.compile(r"<(?=\s*/?\s*[A-Za-z!])"), "‹"),
    (re.compile(r"(?i)\b(https?|ftp|javascript|data|file)(:)"), r"\1[:]"),
    (re.compile(r"(?i)\bwww\."), "www[.]"),
)


def defang(text: str) -> str:
    """Text that reads the same but renders nothing.

    >>> defang("![x](http://evil.example/?a=1) <img src=x> 王** \\u202e")
    '! [x] (http[:]//evil.example/?a=1) ‹img src=x> 王** '
    """
    text = _CONTROLS.sub("", text)
    for pattern, replacement in _REWRITES:
        text = pattern.sub(replacement, text)
    return text


def defang_all(value: Any) -> Any:
    """``defang`` every string inside lists and dicts (suggestions)."""
    if isinstance(value, str):
        return defang(value)
    if isinstance(value, list):
        return [defang_all(v) for v in value]
    if isinstance(value, dict):
        return {k: defang_all(v) for k, v in value.items()}
    return value
