"""Per-value standardisation and checks, as DuckDB SQL over text.

Every source column arrives as VARCHAR. For each mapped contract column the
importer builds three expressions over the raw text ``c``:

- ``c__t``: the normalised text: full-width → half-width (``c__h``), whitespace
  squashed (``c__s``), placeholders such as ``N/A`` → NULL — the ``norm`` macro,
  computed in layers so each step runs once per value;
- ``c__v``: the typed value parsed from it (a DATE, a DECIMAL, a catalog value…);
- ``c__i``: the reason code when the value is missing-but-required or invalid.

plus one boolean per standardisation rule that says whether that rule changed
the cell, which the report sums. All of it is vectorised SQL; nothing here
touches a row in Python.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .contract import ColumnSpec
from .rules import Rules

# Full-width ASCII (U+FF01–U+FF5E) is ASCII + 0xFEE0; U+3000 is the ideographic space,
# U+00A0 a no-break space; ￥ (U+FFE5) is the full-width yen sign.
_FULL = "".join(chr(c) for c in range(0xFF01, 0xFF5F)) + "\u3000\u00a0\uffe5"
_HALF = "".join(chr(c) for c in range(0x21, 0x7F)) + "  ¥"
_FULL_CLASS = r"[\x{FF01}-\x{FF5E}\x{3000}\x{00A0}\x{FFE5}]"


def sql_str(text: str) -> str:
    """A SQL string literal.

    >>> sql_str("Xi'an")
    "'Xi''an'"
    """
    return "'" + text.replace("'", "''") + "'"


def ident(name: str) -> str:
    """A quoted SQL identifier (source headers can be any text).

    >>> ident('客户"编号')
    '"客户""编号"'
    """
    return '"' + name.replace('"', '""') + '"'


#: Date formats tried in order after any time of day is cut off (2025-03-01 14:23 → 2025-03-01).
_YMD = ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d"]
_SLASH = {"mdy": ["%m/%d/%Y", "%m-%d-%Y"], "dmy": ["%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"]}


def macros(rules: Rules) -> list[str]:
    """The SQL macros the cleaning SQL calls; settings (tokens, date order) are baked in."""
    tokens = "[" + ", ".join(sql_str(t.lower()) for t in rules.null_tokens) + "]::VARCHAR[]"
    formats = "[" + ", ".join(sql_str(f) for f in _YMD + _SLASH[rules.date_order]) + "]"
    bodies = {
        # translate() with a long map costs ~4 µs a value: only call it when a full-width character is there
        "hw": (f"CASE WHEN regexp_matches(x, {sql_str(_FULL_CLASS)}) "
               f"THEN translate(x, {sql_str(_FULL)}, {sql_str(_HALF)}) ELSE x END"),
        # whitespace runs → one space, trimmed; '' → NULL (the regex only runs where there is something to do)
        "squash_h": (r"CASE WHEN regexp_matches(x, '\s\s|^\s|\s$|[\t\n\r\f]') "
                     r"THEN nullif(trim(regexp_replace(x, '\s+', ' ', 'g')), '') ELSE nullif(x, '') END"),
        "squash": "squash_h(hw(x))",
        # list_contains, not IN: DuckDB plans a long IN list inside CASE as a join, ~0.6 s per column per 1M rows
        "drop_token": f"CASE WHEN list_contains({tokens}, lower(x)) THEN NULL ELSE x END",
        "norm": "drop_token(squash(x))",
        # the SQL twin of synonyms.value_key
        "vkey": r"lower(regexp_replace(x, '[\s_\-]', '', 'g'))",
        # ISO first (a plain cast is the fast path); 45352 is an Excel serial day; times of day are dropped
        "parse_date": (r"CASE WHEN regexp_matches(x, '^\d{4}-\d{2}-\d{2}$') THEN try_cast(x AS DATE) "
                       r"WHEN regexp_matches(x, '^\d{5}$') THEN DATE '1899-12-30' + CAST(x AS INTEGER) "
                       r"ELSE CAST(try_strptime(regexp_replace(x, '(T|\s+)\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$', ''), "
                       f"{formats}) AS DATE) END"),
        # 2025-03 / 2025年3月 name a month (marketing spend); any day of it means the month
        "parse_month": ("CAST(date_trunc('month', coalesce(parse_date(x), "
                        "try_strptime(x, ['%Y-%m', '%Y/%m', '%Y年%m月', '%Y%m']))) AS DATE)"),
        "is_iso_date": r"regexp_matches(x, '^\d{4}-\d{2}-\d{2}$')",
        # ¥1,234.50 / 1234.5元 / RMB 88 → 1234.50; amounts over DECIMAL(12,2) do not parse
        "money_text": r"regexp_replace(x, '(?i)rmb|cny|[¥$,\s]|元', '', 'g')",
        "parse_money": "try_cast(money_text(x) AS DECIMAL(12,2))",
        "is_plain_number": r"regexp_matches(x, '^-?\d+(\.\d+)?$')",
        # 35岁 / 3件 / 35.0 → 35
        "int_text": r"regexp_replace(regexp_replace(x, '[岁歲件个分]$', ''), '\.0+$', '')",
        "parse_int": r"CASE WHEN regexp_matches(int_text(x), '^-?\d{1,9}$') THEN CAST(int_text(x) AS INTEGER) END",
        # +86 138-0013-8000 → 13800138000; anything but 7–15 digits (one leading +) is invalid
        "phone_text": r"regexp_replace(regexp_replace(x, '[\s\-().]', '', 'g'), '^(\+|00)?86(1\d{10})$', '\2')",
        "parse_phone": r"CASE WHEN regexp_matches(phone_text(x), '^\+?\d{7,15}$') THEN phone_text(x) END",
        "is_email": r"regexp_matches(x, '^[^@\s]+@[^@\s]+\.[a-z]{2,}$')",
        # numeric ids compare as numbers: 00123 and 123 are one key
        "key_text": r"CASE WHEN regexp_matches(x, '^\d{1,18}$') THEN CAST(CAST(x AS BIGINT) AS VARCHAR) ELSE x END",
    }
    return [f"CREATE OR REPLACE TEMP MACRO {name}(x) AS {body}" for name, body in bodies.items()]


#: The kind-specific standardisation rule of each kind (besides fullwidth, trim, null_token).
FORMAT_RULE = {"date": "date_format", "month": "date_format", "money": "number_format", "int": "number_format",
               "phone": "phone_format", "email": "email_format", "category": "value_synonym",
               "city": "value_synonym"}


@dataclass(frozen=True)
class CellSQL:
    """The expressions for one mapped column, each over the previous layer's aliases."""

    column: ColumnSpec
    parse: str  # c__v from c__t (and the lookup join j_c for categories)
    issue: str  # c__i from c__t, c__v
    flags: dict[str, str]  # rule code → boolean over c__r, c__t, c__v
    join: str | None  # LEFT JOIN for category lookups


def cell_sql(col: ColumnSpec, required: bool, rules: Rules, today: dt.date) -> CellSQL:
    """Parse, check and flag expressions for one column (see the module docstring)."""
    c = col.name
    t, v, r = ident(f"{c}__t"), ident(f"{c}__v"), ident(f"{c}__r")
    join = None
    checks: list[tuple[str, str]] = []  # (condition, reason code) after the missing check
    if col.kind in ("key", "ref"):
        parse = f"key_text({t})"
    elif col.kind in ("text", "name"):
        parse = t
    elif col.kind in ("category", "city"):
        alias = ident(f"j_{c}")
        join = f"LEFT JOIN _values AS {alias} ON {alias}.col = {sql_str(c)} AND {alias}.key = vkey({t})"
        parse = f"{alias}.value" if col.kind == "category" else f"coalesce({alias}.value, {t})"
        if col.kind == "category":
            checks.append((f"{v} IS NULL", "unknown_value"))
    elif col.kind in ("date", "month"):
        parse = f"parse_date({t})" if col.kind == "date" else f"parse_month({t})"
        latest, start = rules.latest(today), rules.business_start
        checks += [(f"{v} IS NULL", "unparseable_value"),
                   (f"{v} > DATE '{latest.isoformat()}'", "future_date"),
                   (f"{v} < DATE '{start.isoformat()}'", "date_before_start")]
    elif col.kind == "int":
        parse = f"parse_int({t})"
        low, high = (rules.age_min, rules.age_max) if col.range_rule == "invalid_age" else (col.low, col.high)
        checks += [(f"{v} IS NULL", "unparseable_value"), (f"{v} NOT BETWEEN {low} AND {high}", col.range_rule)]
    elif col.kind == "money":
        parse = f"parse_money({t})"
        checks += [(f"{v} IS NULL", "unparseable_value"), (f"{v} < 0", "negative_amount")]
    elif col.kind == "phone":
        parse = f"parse_phone({t})"
        checks.append((f"{v} IS NULL", "invalid_phone"))
    elif col.kind == "email":
        parse = f"lower({t})"
        checks.append((f"NOT is_email({v})", "invalid_email"))
    else:  # pragma: no cover - every Kind is handled above
        raise AssertionError(col.kind)
    missing = "'missing_required'" if required else "NULL"
    whens = "".join(f" WHEN {cond} THEN {sql_str(code)}" for cond, code in checks)
    issue = f"CASE WHEN {t} IS NULL THEN {missing}{whens} END"
    h, s = ident(f"{c}__h"), ident(f"{c}__s")  # half-width, then squashed (see tables.build_cells)
    flags = {
        "fullwidth": f"coalesce({r} <> {h}, false)",
        "trim_whitespace": f"coalesce(coalesce({s}, '') <> {h}, false)",
        "null_token": f"({s} IS NOT NULL AND {t} IS NULL)",
    }
    fmt = FORMAT_RULE.get(col.kind)
    if fmt == "date_format":
        flags[fmt] = f"({v} IS NOT NULL AND NOT is_iso_date({t}))"
    elif fmt == "number_format":
        flags[fmt] = f"({v} IS NOT NULL AND NOT is_plain_number({t}))"
    elif fmt is not None:
        flags[fmt] = f"coalesce({v} <> {t}, false)"
    return CellSQL(col, parse, issue, flags, join)
