"""How messy exports spell things, for the dirty demo — and the Python twins of the SQL that undoes it.

Each ``spell_*`` function returns the text written into a file together with the
standardisation rules that text will trigger (``date_format`` for 2025/3/1, …),
so ``dirty`` can state in its manifest how many of each it planted.
``shallow_rules`` says which of the rules that look only at the characters
(full-width, whitespace, placeholders) a cell triggers; it mirrors the ``hw``,
``squash`` and ``norm`` macros of ``cells``.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import numpy as np

from semantic_layer.catalog import Catalog
from semantic_layer.schema import DimensionValue

from .cells import _FULL, _HALF
from .rules import DEFAULT_NULL_TOKENS
from .synonyms import value_key, value_map

_HW = str.maketrans(_FULL, _HALF)
_WS = re.compile(r"[\t\n\f\r ]+")  # RE2's \s, which the SQL squash macro uses
_TO_FULL = str.maketrans(_HALF[:94], _FULL[:94])


def hw(text: str) -> str:
    return text.translate(_HW)


def squash(text: str) -> str | None:
    """Twin of the SQL ``squash`` macro: half-width, whitespace runs → one space, trimmed, '' → None."""
    return _WS.sub(" ", hw(text)).strip(" ") or None


def is_missing(text: str | None) -> bool:
    """Twin of ``norm(x) IS NULL``: empty, blank or a placeholder such as N/A."""
    s = None if text is None else squash(text)
    return s is None or s.lower() in DEFAULT_NULL_TOKENS


def shallow_rules(text: str | None) -> set[str]:
    """The character-level standardisation rules a cell triggers (see ``cells.cell_sql`` flags)."""
    if text is None or text == "":
        return set()
    fired = set()
    if hw(text) != text:
        fired.add("fullwidth")
    s = squash(text)
    if (s or "") != hw(text):
        fired.add("trim_whitespace")
    if s is not None and s.lower() in DEFAULT_NULL_TOKENS:
        fired.add("null_token")
    return fired


def full_width(text: str) -> str:
    """ASCII → full-width, as a Chinese input method types it: 138 → １３８."""
    return text.translate(_TO_FULL)


# --- spellings (text, rules it triggers) ----------------------------------------------------

_DATE_FORMATS = ("{y}/{m}/{d}", "{y}{m:02d}{d:02d}", "{m}/{d}/{y}", "{y}年{m}月{d}日", "{y}-{m:02d}-{d:02d} {hh:02d}:{mm:02d}:00",
                 "{y}.{m}.{d}")


def spell_date(rng: np.random.Generator, day: dt.date, iso_share: float = 0.4) -> tuple[str, set[str]]:
    """ISO most of the time, else one of the mixed formats exports use (2025/3/1, 20250301, 3/1/2025, 2025年3月1日)."""
    if rng.random() < iso_share:
        return day.isoformat(), set()
    fmt = _DATE_FORMATS[rng.integers(len(_DATE_FORMATS))]
    text = fmt.format(y=day.year, m=day.month, d=day.day, hh=int(rng.integers(8, 23)), mm=int(rng.integers(60)))
    return text, {"date_format"}


def spell_amount(rng: np.random.Generator, amount: Decimal) -> tuple[str, set[str]]:
    """88.00, ¥1,234.50, 1234.5元 or full-width １２３.５０."""
    plain = f"{amount:.2f}"
    roll = rng.random()
    if roll < 0.6:
        return plain, set()
    if roll < 0.75:
        return f"¥{amount:,.2f}", {"number_format"}
    if roll < 0.9:
        return f"{amount.normalize():f}元", {"number_format"}
    return full_width(plain), {"fullwidth"}


def spell_phone(rng: np.random.Generator, phone: str) -> tuple[str, set[str]]:
    """13800138000, 138-0013-8000, +86 138 0013 8000 or full-width digits."""
    roll = rng.random()
    if roll < 0.55:
        return phone, set()
    if roll < 0.7:
        return f"{phone[:3]}-{phone[3:7]}-{phone[7:]}", {"phone_format"}
    if roll < 0.85:
        return f"+86 {phone[:3]} {phone[3:7]} {phone[7:]}", {"phone_format"}
    return full_width(phone), {"fullwidth"}


def spell_name(rng: np.random.Generator, name: str) -> tuple[str, set[str]]:
    """A name with the stray spaces of hand entry: ' 张伟', '张伟 ', '张伟　' (ideographic space)."""
    roll = rng.random()
    if roll < 0.8:
        return name, set()
    if roll < 0.9:
        return f" {name} ", {"trim_whitespace"}
    return name + "\u3000", {"trim_whitespace", "fullwidth"}


def spell_email(rng: np.random.Generator, email: str) -> tuple[str, set[str]]:
    if rng.random() < 0.15:
        return email.upper(), {"email_format"}
    return email, set()


class Spellings:
    """Catalog values as exports write them: the English value, its Chinese label or a synonym."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._cache: dict[str, dict[str, list[str]]] = {}

    def options(self, column: str, value: str) -> list[str]:
        if column not in self._cache:
            table: dict[str, list[str]] = {}
            known = value_map(self.catalog, column)
            for dim_value in self._values(column):
                spellings = [dim_value.label.zh, *dim_value.synonyms.zh, dim_value.value.lower()]
                table[dim_value.value] = [s for s in dict.fromkeys(spellings)
                                          if known.get(value_key(s)) == dim_value.value and s != dim_value.value]
            self._cache[column] = table
        return self._cache[column].get(value, [])

    def _values(self, column: str) -> list[DimensionValue]:
        dims = [d for _, d in self.catalog.dimensions() if d.name == column and d.values]
        return list(dims[0].values) if dims else []

    def spell(self, rng: np.random.Generator, column: str, value: str, share: float = 0.5) -> tuple[str, set[str]]:
        """``value`` itself, or (with probability ``share``) one of its other spellings (华东 for East)."""
        options = self.options(column, value)
        if options and rng.random() < share:
            return options[int(rng.integers(len(options)))], {"value_synonym"}
        return value, set()
