"""The strategy playbook: admin-curated rules from conditions on a result to actions.

``metrics/catalog/playbook.yaml`` is validated like the catalog: a pydantic
schema that rejects unknown fields, then cross-checks against the catalog
(metric, dimension and value names), every problem reported at once with file,
line and field in Chinese and English. Evaluation lives in ``suggest.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import pydantic
from pydantic import Field, model_validator

from semantic_layer.catalog import Catalog
from semantic_layer.errors import CatalogError, Issue, closest
from semantic_layer.schema import Name, Strict, Text
from semantic_layer.yaml_lines import ZH_PYDANTIC_ERRORS, LocatedYaml, read_yaml

PLAYBOOK_FILE = "playbook.yaml"


class _Bounds(Strict):
    above: float | None = None
    below: float | None = None

    @model_validator(mode="after")
    def _one_bound(self) -> _Bounds:
        if (self.above is None) == (self.below is None):
            raise ValueError("give exactly one of above / below")
        return self


class SegmentWhen(Strict):
    """A dimension value is in the result (a row, or the query's filter): 重要价值客户, churn_risk High."""

    kind: Literal["segment"]
    dimension: Name
    value: str


class ThresholdWhen(_Bounds):
    """A metric crosses a threshold in some row: churn_rate above 0.4. Rates are fractions (0.4 = 40%)."""

    kind: Literal["threshold"]
    metric: Name


class RatioWhen(_Bounds):
    """The ratio of two metrics of a row crosses a threshold: avg_clv / cac below 3."""

    kind: Literal["ratio"]
    numerator: Name
    denominator: Name


class ChangeWhen(Strict):
    """A metric rose or fell against the previous period (环比) or a year earlier (同比).

    ``at_least`` is a relative change (0.1 = 10%) or, for rates, a difference (0.02 = 2 points).
    """

    kind: Literal["change"]
    metric: Name
    direction: Literal["rise", "fall"]
    against: Literal["previous", "year_ago"] = "previous"
    at_least: float = Field(default=0.0, ge=0)


Condition = Annotated[Union[SegmentWhen, ThresholdWhen, RatioWhen, ChangeWhen], Field(discriminator="kind")]


class Rule(Strict):
    id: Name
    when: Condition
    title: Text
    action: Text
    #: Whom it targets when the result has no groups to name (e.g. 查询范围内的全部客户).
    audience: Text | None = None
    priority: int = Field(default=100, ge=0, description="lower comes first")


class Playbook(Strict):
    version: Literal[1] = 1
    #: Metrics that count customers; a suggestion's size is read from the first one in the result.
    size_metrics: list[Name] = ["segment_customers", "customer_count", "buyers", "churn_base", "new_customers"]
    rules: list[Rule] = []


@dataclass
class PlaybookError(CatalogError):
    """The playbook file is invalid; carries every issue found."""


# --- loading ---------------------------------------------------------------------------

_TAGS = {"segment", "threshold", "ratio", "change"}


def load_playbook(path: str | Path | None = None, *, catalog: Catalog | None = None,
                  text: str | None = None) -> Playbook:
    """Read and validate a playbook; a missing file is an empty playbook.

    ``text`` replaces the file's content (an admin's unsaved edit); with a
    catalog, names are checked against it. Raises ``PlaybookError`` listing all issues.
    """
    file = str(path or PLAYBOOK_FILE)
    if text is None:
        if path is None or not Path(path).exists():
            return Playbook()
        text = Path(path).read_text(encoding="utf-8")
    located, issues = read_yaml(text, file)
    playbook = _validate(located, issues) if located is not None else None
    if located is not None and catalog is not None:
        issues += check_playbook(playbook or _valid_parts(located), catalog, located)
    issues.sort(key=lambda i: i.line or 0)
    if issues or playbook is None:
        raise PlaybookError(150, f"策略手册 {file} 有 {len(issues)} 个错误",
                            f"playbook {file} has {len(issues)} error(s)", issues=issues)
    return playbook


def _validate(located: LocatedYaml, issues: list[Issue]) -> Playbook | None:
    try:
        return Playbook.model_validate(located.data if located.data is not None else {})
    except pydantic.ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            if err["type"] in {"union_tag_invalid", "union_tag_not_found"}:
                loc += ("kind",)
            # pydantic names the union member in the path (when.threshold.metric); the admin wrote when.metric
            loc = tuple(p for i, p in enumerate(loc) if not (p in _TAGS and i and loc[i - 1] == "when"))
            zh = ZH_PYDANTIC_ERRORS.get(err["type"], "取值无效")
            detail = f": {err['msg']}" if err["type"] == "value_error" else ""
            issues.append(Issue("error", 151, zh + detail, err["msg"], located.file, located.line_of(loc),
                                _dotted(loc)))
        return None


def _valid_parts(located: LocatedYaml) -> Playbook:
    """The rules that pass the schema on their own, so names are still checked when others fail.

    Invalid rules are kept as None placeholders so positions (and lines) stay right.
    """
    data = located.data if isinstance(located.data, dict) else {}
    rules: list[Rule | None] = []
    for item in data.get("rules") or []:
        try:
            rules.append(Rule.model_validate(item))
        except pydantic.ValidationError:
            rules.append(None)
    sizes = data.get("size_metrics")
    names = [n for n in sizes if isinstance(n, str)] if isinstance(sizes, list) and len(sizes) == sum(
        isinstance(n, str) for n in sizes) else []
    return Playbook.model_construct(size_metrics=names, rules=rules)


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def check_playbook(playbook: Playbook, catalog: Catalog, located: LocatedYaml) -> list[Issue]:
    """Cross-checks the schema cannot make: unique ids; metrics, dimensions and values exist."""
    issues: list[Issue] = []

    def issue(code: int, zh: str, en: str, loc: tuple[Any, ...]) -> None:
        issues.append(Issue("error", code, zh, en, located.file, located.line_of(loc), _dotted(loc)))

    def metric(name: str, loc: tuple[Any, ...]) -> None:
        if name not in catalog.metrics:
            hint = closest(name, catalog.metrics)
            zh = f", 是否指 {', '.join(hint)}?" if hint else ""
            en = f"; did you mean {', '.join(hint)}?" if hint else ""
            issue(153, f"未知指标 '{name}'{zh}", f"unknown metric '{name}'{en}", loc)

    for i, name in enumerate(playbook.size_metrics):
        metric(name, ("size_metrics", i))
    seen: set[str] = set()
    for i, rule in enumerate(playbook.rules):
        if rule is None:  # failed the schema; already reported
            continue
        where = ("rules", i)
        if rule.id in seen:
            issue(152, f"规则编号 '{rule.id}' 重复", f"duplicate rule id '{rule.id}'", (*where, "id"))
        seen.add(rule.id)
        when = rule.when
        at = (*where, "when")
        if isinstance(when, SegmentWhen):
            dims = [d for _, d in catalog.dimensions() if d.name == when.dimension]
            if not dims:
                hint = closest(when.dimension, catalog.dimension_names())
                issue(154, f"未知维度 '{when.dimension}'" + (f", 是否指 {', '.join(hint)}?" if hint else ""),
                      f"unknown dimension '{when.dimension}'" + (f"; did you mean {', '.join(hint)}?" if hint else ""),
                      (*at, "dimension"))
            elif dims[0].values and when.value not in {v.value for v in dims[0].values}:
                known = ", ".join(v.value for v in dims[0].values)
                issue(155, f"维度 '{when.dimension}' 没有取值 '{when.value}'(可选: {known})",
                      f"dimension '{when.dimension}' has no value '{when.value}' (known: {known})", (*at, "value"))
        elif isinstance(when, RatioWhen):
            metric(when.numerator, (*at, "numerator"))
            metric(when.denominator, (*at, "denominator"))
        else:
            metric(when.metric, (*at, "metric"))
    return issues
