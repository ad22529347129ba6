"""YAML reading that remembers where every value came from.

pydantic reports a bad field by its path (``metrics[2].agg``); admins need the
line. We compose the YAML node tree once and map each path to its line, so any
path-based error can be pointed at a line of the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from .errors import Issue

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class LocatedYaml:
    data: Any
    lines: dict[Path, int]
    file: str

    def line_of(self, loc: Path) -> int | None:
        """Line of the deepest known prefix of ``loc`` (skips pydantic union tags)."""
        path: Path = ()
        for part in loc:
            if path + (part,) in self.lines:
                path = path + (part,)
        return self.lines.get(path)


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader; duplicate keys are reported by the walk below, not overwritten silently."""


def _timestamp(loader: yaml.SafeLoader, node: yaml.Node) -> object:
    """An impossible date (2023-13-01) is a YAML error with its line, not a crash."""
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)  # type: ignore[arg-type]
    except ValueError as exc:
        raise yaml.constructor.ConstructorError(
            None, None, f"invalid date '{node.value}': {exc}", node.start_mark) from None


_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


def read_yaml(text: str, file: str) -> tuple[LocatedYaml | None, list[Issue]]:
    """Parse ``text``; return the data with its line map, or the syntax issue."""
    try:
        node = yaml.compose(text, Loader=_UniqueKeyLoader)
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        return None, [Issue("error", 101, f"YAML 语法错误: {problem}", f"YAML syntax error: {problem}", file, line)]
    lines: dict[Path, int] = {}
    issues: list[Issue] = []
    if node is not None:
        lines[()] = node.start_mark.line + 1
        _walk(node, (), lines, issues, file)
    return LocatedYaml(data, lines, file), issues


def _walk(node: yaml.Node, path: Path, lines: dict[Path, int], issues: list[Issue], file: str) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if key in seen:
                issues.append(
                    Issue("error", 102, f"重复的键 '{key}'", f"duplicate key '{key}'", file,
                          key_node.start_mark.line + 1, _dotted(path + (key,)))
                )
            seen.add(key)
            lines[path + (key,)] = key_node.start_mark.line + 1
            _walk(value_node, path + (key,), lines, issues, file)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[path + (i,)] = item.start_mark.line + 1
            _walk(item, path + (i,), lines, issues, file)


def _dotted(path: Path) -> str:
    """``("metrics", 2, "agg")`` → ``metrics[2].agg``.

    >>> _dotted(("metrics", 2, "agg"))
    'metrics[2].agg'
    """
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


#: pydantic error types in Chinese; the English comes from pydantic itself.
ZH_PYDANTIC_ERRORS = {
    "missing": "缺少必填字段",
    "extra_forbidden": "未知字段(可能拼写错误)",
    "literal_error": "取值不在允许范围内",
    "string_pattern_mismatch": "名称只能用小写字母、数字和下划线, 且以字母开头",
    "string_too_short": "不能为空",
    "float_parsing": "应为数字",
    "int_parsing": "应为整数",
    "greater_than_equal": "数值过小",
    "union_tag_invalid": "未知的类型(type/kind)",
    "union_tag_not_found": "缺少类型字段(type/kind)",
    "model_type": "应为一个映射(键: 值)",
    "model_attributes_type": "应为一个映射(键: 值)",
    "list_type": "应为一个列表",
    "string_type": "应为文本",
    "value_error": "取值无效",
    "too_short": "至少需要一项",
    "greater_than": "数值过小",
}
