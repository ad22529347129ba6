"""The cleaning rules: one reason code each, with bilingual text, and their settings.

A rule is a row of ``RULES``; the SQL that applies it lives with its stage
(``cells`` for per-value standardisation and checks, ``keys`` for duplicates and
references, ``pipeline`` for the rest). Codes are stable: they name rows in
``_quarantine``, ``_import_log`` and the quality report, and tests assert on them.

What happens to a bad value follows one principle: in a *required* column
(``contract.REQUIRED`` or ``rules.required``) the row is quarantined; in an
optional column the value is set to NULL and the change is logged
(``invalid_optional: quarantine`` quarantines those rows too).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .contract import TARGETS

Stage = Literal["read", "standardise", "validate", "dedupe"]


@dataclass(frozen=True)
class Rule:
    """A cleaning rule; ``zh``/``en`` describe what it does, with ``{column}`` filled in per column."""

    code: str
    stage: Stage
    zh: str
    en: str

    def text(self, lang: str, column: str | None = None) -> str:
        template = self.zh if lang == "zh" else self.en
        return template.replace("{column}", column or "")


# fmt: off
RULES: tuple[Rule, ...] = (
    Rule("malformed_row", "read", "无法解析的 CSV 行", "CSV line that could not be parsed"),
    Rule("fullwidth", "standardise", "{column} 全角字符转为半角", "{column}: full-width characters to half-width"),
    Rule("trim_whitespace", "standardise", "{column} 去除多余空格", "{column}: extra whitespace trimmed"),
    Rule("null_token", "standardise", "{column} 的占位符(如 N/A、无)视为空值",
         "{column}: placeholder such as N/A or 无 read as missing"),
    Rule("date_format", "standardise", "{column} 日期统一为 YYYY-MM-DD", "{column}: date rewritten as YYYY-MM-DD"),
    Rule("number_format", "standardise", "{column} 去掉货币符号、千分位和单位",
         "{column}: currency sign, thousands separators or unit removed"),
    Rule("phone_format", "standardise", "{column} 手机号只保留数字(去掉 +86)", "{column}: phone reduced to digits (+86 dropped)"),
    Rule("email_format", "standardise", "{column} 邮箱转为小写", "{column}: email lower-cased"),
    Rule("value_synonym", "standardise", "{column} 按指标目录同义词统一取值(华东 → East)",
         "{column}: value mapped to the catalog value through its synonyms (华东 → East)"),
    Rule("missing_required", "validate", "缺少必填字段 {column}", "missing required field {column}"),
    Rule("missing_rate", "validate", "{column} 缺失率超过阈值", "{column} is missing in more rows than the threshold"),
    Rule("unparseable_value", "validate", "{column} 的值无法识别", "{column}: value cannot be read"),
    Rule("unknown_value", "validate", "{column} 的值不在指标目录的取值中", "{column}: value is not one of the catalog's values"),
    Rule("negative_amount", "validate", "{column} 为负数", "{column} is negative"),
    Rule("invalid_age", "validate", "{column} 不在允许范围(默认 1–120 岁)", "{column} outside the allowed range (default 1–120)"),
    Rule("invalid_score", "validate", "{column} 超出评分范围", "{column} outside its score range"),
    Rule("invalid_quantity", "validate", "{column} 不是正数", "{column} is not a positive quantity"),
    Rule("invalid_range", "validate", "{column} 超出允许范围", "{column} outside the allowed range"),
    Rule("future_date", "validate", "{column} 晚于最晚允许日期(默认导入当天)",
         "{column} is after the latest allowed date (default: the import day)"),
    Rule("date_before_start", "validate", "{column} 早于业务开始日期", "{column} is before the business started"),
    Rule("invalid_email", "validate", "{column} 不是有效的邮箱地址", "{column} is not a valid email address"),
    Rule("invalid_phone", "validate", "{column} 不是有效的电话号码", "{column} is not a valid phone number"),
    Rule("extreme_amount", "validate", "{column} 超过均值的 N 倍(极端值)", "{column} above N × the mean (extreme value)"),
    Rule("duplicate_key", "dedupe", "主键 {column} 重复, 保留第一条", "duplicate key {column}; the first row is kept"),
    Rule("duplicate_customer", "dedupe", "同一客户(手机号、邮箱或姓名+城市相同)已合并",
         "same customer (phone, email or name + city) merged"),
    Rule("unknown_reference", "validate", "{column} 指向不存在的记录", "{column} points to a record that does not exist"),
)
# fmt: on

RULE_BY_CODE = {r.code: r for r in RULES}

Action = Literal["fix", "quarantine", "nullify", "flag", "cap", "merge"]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ExtremeRule(_Strict):
    """Amounts above ``factor`` × the column's mean (over rows otherwise kept)."""

    factor: float = Field(default=10.0, gt=1)
    action: Literal["flag", "cap", "quarantine"] = "flag"
    columns: list[str] = ["orders.amount"]

    @field_validator("columns")
    @classmethod
    def _money_columns(cls, value: list[str]) -> list[str]:
        for ref in value:
            table, _, column = ref.partition(".")
            spec = TARGETS.get(table)
            if spec is None or column not in spec.names or spec.column(column).kind != "money":
                money = [f"{t.name}.{c.name}" for t in TARGETS.values() for c in t.columns if c.kind == "money"]
                raise ValueError(f"'{ref}' is not a money column; one of {', '.join(money)}")
        return value


class DedupeRule(_Strict):
    """Customers sharing any of these keys are one customer (transitively)."""

    enabled: bool = True
    keys: list[Literal["phone", "email", "name_city"]] = ["phone", "email", "name_city"]


DEFAULT_NULL_TOKENS = ["null", "none", "nan", "n/a", "na", "#n/a", "-", "--", "无", "空", "暂无", "未知"]


class Rules(_Strict):
    """Cleaning settings; every field has a default, so ``rules:`` may be left out of a mapping."""

    business_start: dt.date = dt.date(2000, 1, 1)
    latest_date: dt.date | None = None  # None: the day the import runs
    date_order: Literal["mdy", "dmy"] = "mdy"  # how 3/1/2025 reads: March 1 (mdy) or 3 January (dmy)
    missing_threshold: float = Field(default=0.3, ge=0, le=1)
    age_min: int = 1
    age_max: int = 120
    invalid_optional: Literal["nullify", "quarantine"] = "nullify"
    unknown_reference: Literal["quarantine", "keep"] = "quarantine"
    required: dict[str, list[str]] = {}
    null_tokens: list[str] = DEFAULT_NULL_TOKENS
    extreme: ExtremeRule = ExtremeRule()
    dedupe: DedupeRule = DedupeRule()

    @field_validator("required")
    @classmethod
    def _known_columns(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for table, columns in value.items():
            if table not in TARGETS:
                raise ValueError(f"unknown table '{table}'; one of {', '.join(TARGETS)}")
            unknown = [c for c in columns if c not in TARGETS[table].names]
            if unknown:
                raise ValueError(f"unknown column(s) of {table}: {', '.join(unknown)}")
        return value

    def required_for(self, table: str) -> tuple[str, ...]:
        """The configured required columns plus the primary key, which can never be NULL (a generated line_no aside)."""
        key = [c for c in TARGETS[table].primary_key if c != "line_no"]
        return tuple(dict.fromkeys([*key, *self.required.get(table, TARGETS[table].required)]))

    def latest(self, today: dt.date | None = None) -> dt.date:
        return self.latest_date or today or dt.date.today()
