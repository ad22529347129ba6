"""Masking of personal data: PII-looking substrings in free text, and single values by kind.

Used where text outlives the request (the audit log) and where a role may not
see PII as stored. Every function is idempotent — masking a masked value
leaves it unchanged — and takes ``None`` or ``""`` without raising, so callers
can mask unconditionally. Masks keep a little of the value (a prefix, a
suffix, the email domain) so an admin can still tell records apart.
"""

from __future__ import annotations

import re
from typing import Literal

MaskKind = Literal["name", "phone", "email", "full"]
MASK_KINDS: tuple[MaskKind, ...] = ("name", "phone", "email", "full")
FULL_MASK = "***"

#: An email address: ``zhang.san@corp.example.com``. ``*`` is not a local-part character here, so a
#: masked address (``z***@corp.example.com``) no longer matches — that makes masking idempotent.
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
#: An 18-digit resident ID card: 17 digits and a check digit or X (``11010119900307123X``). Not part
#: of a longer run of digits, so an order number of 20 digits is left alone.
_ID_CARD = re.compile(r"(?<!\d)(\d{6})\d{8}(\d{3}[\dXx])(?!\d)")
#: A mainland mobile number, 1[3-9] and 9 more digits, optionally written 3-4-4 with spaces or dashes
#: and after a +86 / 86 country code: ``+86 138-1234-5678`` → ``138****5678``.
_PHONE = re.compile(r"(?<![\d+])(?:\+?86[ -]?)?(1[3-9]\d)[ -]?\d{4}[ -]?(\d{4})(?!\d)")
_SEPARATORS = re.compile(r"[\s()-]")


def mask_text(text: str | None) -> str:
    """``text`` with phone numbers, emails and ID-card numbers masked; everything else as is.

    Emails go first (a QQ address is a phone number at qq.com), ID cards before
    phones (an ID holds a phone-like run of digits).

    >>> mask_text("给 13812345678 和 +86 139-8765-4321 发短信, 抄送 zhang@x.com")
    '给 138****5678 和 139****4321 发短信, 抄送 z***@x.com'
    >>> mask_text("身份证 11010119900307123X")
    '身份证 110101********123X'
    >>> mask_text(mask_text("13812345678@qq.com, 138 1234 5678"))
    '1***@qq.com, 138****5678'
    >>> mask_text(None), mask_text("2025年各地区的销售额")
    ('', '2025年各地区的销售额')
    """
    if not text:
        return ""
    text = _EMAIL.sub(lambda m: _mask_email(m.group(0)), text)
    text = _ID_CARD.sub(lambda m: f"{m.group(1)}********{m.group(2)[-4:]}", text)
    return _PHONE.sub(lambda m: f"{m.group(1)}****{m.group(2)}", text)


def mask_value(kind: str, value: str | None) -> str | None:
    """One value masked as a ``kind`` (name, phone, email, full); an unknown kind is masked in full.

    Failing closed on an unknown kind: a typo in a masking rule hides too much, never too little.

    >>> mask_value("name", "张三"), mask_value("name", "欧阳娜娜"), mask_value("name", "Alice")
    ('张*', '欧***', 'A****')
    >>> mask_value("phone", "13451412959"), mask_value("phone", "+86 138-1234-5678"), mask_value("phone", "12345")
    ('134****2959', '138****5678', '****')
    >>> mask_value("email", "zhang@x.com"), mask_value("full", "上海市徐汇区"), mask_value("colour", "red")
    ('z***@x.com', '***', '***')
    >>> mask_value("phone", None), mask_value("name", "")
    (None, '')
    """
    if value is None or value == "":
        return value
    value = str(value)
    if kind == "name":  # the first character (a family name, an initial); one character alone says too much
        return value[0] + "*" * (len(value) - 1) if len(value) > 1 else "*"
    if kind == "phone":
        return _mask_phone(value)
    if kind == "email":
        return _mask_email(value) if "@" in value else FULL_MASK
    return FULL_MASK


def _mask_email(address: str) -> str:
    """``zhang@x.com`` → ``z***@x.com``; the domain stays (it says which company, not who)."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}***@{domain}"


def _mask_phone(value: str) -> str:
    """Keep the first 3 and up to the last 4 characters, always hiding at least 4.

    ``13451412959`` → ``134****2959``; a short number (``1234567``) keeps only its
    prefix (``123****``), so no length reveals the whole value.
    """
    digits = _SEPARATORS.sub("", value)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if len(digits) < 7:
        return "****"
    tail = max(0, min(4, len(digits) - 3 - 4))
    return digits[:3] + "****" + (digits[-tail:] if tail else "")
