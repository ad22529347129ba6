"""Masking of PII in free text and of single values; idempotent, never raising on empty input."""

from __future__ import annotations

import pytest

from semantic_layer.masking import MASK_KINDS, mask_text, mask_value

TEXT_CASES = [
    ("13812345678", "138****5678"),
    ("138-1234-5678", "138****5678"),
    ("138 1234 5678", "138****5678"),
    ("+86 138-1234-5678", "138****5678"),
    ("+8613812345678", "138****5678"),
    ("电话13812345678请回电", "电话138****5678请回电"),
    ("zhang@x.com", "z***@x.com"),
    ("联系zhang.san+bi@corp.example.cn。", "联系z***@corp.example.cn。"),
    ("13812345678@qq.com", "1***@qq.com"),
    ("11010119900307123X", "110101********123X"),
    ("id 110101199003071234.", "id 110101********1234."),
    ("2025年各地区的销售额", "2025年各地区的销售额"),
    ("订单号 202512310000123456789", "订单号 202512310000123456789"),  # too long for an ID or a phone
    ("12812345678", "12812345678"),  # 12x is not a mobile prefix
    ("revenue > 1000000 in 2025-01-01..2025-12-31", "revenue > 1000000 in 2025-01-01..2025-12-31"),
    ("", ""),
]


@pytest.mark.parametrize("text, expected", TEXT_CASES, ids=[c[0] or "empty" for c in TEXT_CASES])
def test_mask_text(text, expected):
    assert mask_text(text) == expected
    assert mask_text(expected) == expected, "idempotent"


def test_mask_text_takes_none():
    assert mask_text(None) == ""


VALUE_CASES = [
    ("name", "张三", "张*"),
    ("name", "欧阳娜娜", "欧***"),
    ("name", "Alice", "A****"),
    ("name", "王", "*"),
    ("phone", "13451412959", "134****2959"),
    ("phone", "134-5141-2959", "134****2959"),
    ("phone", "+86 13451412959", "134****2959"),
    ("phone", "021-6543210", "021****210"),  # at least 4 hidden, whatever the length
    ("phone", "1234567", "123****"),
    ("phone", "12345", "****"),
    ("email", "zhang@x.com", "z***@x.com"),
    ("email", "not an email", "***"),
    ("full", "上海市徐汇区漕溪北路 1 号", "***"),
    ("unknown", "secret", "***"),
]


@pytest.mark.parametrize("kind, value, expected", VALUE_CASES, ids=[f"{k}:{v}" for k, v, _ in VALUE_CASES])
def test_mask_value(kind, value, expected):
    assert mask_value(kind, value) == expected
    assert mask_value(kind, expected) == expected, "idempotent"


@pytest.mark.parametrize("kind", MASK_KINDS)
def test_mask_value_passes_none_and_empty_through(kind):
    assert mask_value(kind, None) is None
    assert mask_value(kind, "") == ""
