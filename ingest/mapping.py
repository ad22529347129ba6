"""The mapping file: which source feeds which contract table, column by column — suggested, saved, loaded.

A mapping YAML (see docs/import.md)::

    version: 1
    sources:
      - source: crm_customers.csv        # a path (relative to this file) or postgresql:// URL
        table: null                      # an Excel sheet or database table
        target: customers
        columns: {"客户编号": customer_id, "手机": phone, "备注": null}
        values: {region: {"华东片区": East}}   # extra spellings beyond the catalog's synonyms
    rules: {business_start: 2023-01-01}  # cleaning settings (ingest.rules.Rules)

``load_mapping`` reports every problem at once with file:line and field, like the
catalog loader; ``save_mapping`` writes the commented YAML people edit. ``suggest``
proposes a mapping in the first place.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from semantic_layer.catalog import Catalog
from semantic_layer.errors import CatalogError, Issue, closest
from semantic_layer.loader import load_catalog, validate_located
from semantic_layer.store import write_atomic
from semantic_layer.yaml_lines import LocatedYaml, read_yaml

from .contract import TARGETS
from .rules import Rules
from .sources import SourceRef
from .synonyms import catalog_values

if TYPE_CHECKING:
    from .suggest import MappingSuggestion

TargetName = Literal["products", "customers", "orders", "order_items", "marketing_spend", "surveys"]


TARGET_NAMES: tuple[TargetName, ...] = ("products", "customers", "orders", "order_items", "marketing_spend", "surveys")


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SourceMap(_Strict):
    """One source table → one contract table."""

    source: str = Field(min_length=1)
    table: str | None = None
    target: TargetName
    columns: dict[str, str | None]
    values: dict[str, dict[str, str]] = {}

    @property
    def ref(self) -> SourceRef:
        return SourceRef(self.source, self.table)

    def mapped(self) -> dict[str, str]:
        """Target column → source column, for the columns that are imported."""
        return {t: s for s, t in self.columns.items() if t}


class MappingFile(_Strict):
    version: Literal[1] = 1
    sources: list[SourceMap] = Field(min_length=1)
    rules: Rules = Rules()


class MappingError(CatalogError):
    """The mapping file is invalid; carries every issue with file, line and field."""


# --- load and check ------------------------------------------------------------------


def load_mapping(path: str | Path, catalog: Catalog | None = None, *, text: str | None = None) -> MappingFile:
    """Read and check a mapping file; raise ``MappingError`` listing every problem."""
    path = Path(path)
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise MappingError(601, f"无法读取映射文件 {path}: {exc.strerror}", f"cannot read mapping {path}: {exc.strerror}") from None
    located, issues = read_yaml(text, str(path))
    mapping = validate_located(located, MappingFile, issues) if located is not None else None
    if mapping is not None and located is not None:
        issues += check_mapping(mapping, located, catalog or load_catalog())
    errors = [i for i in issues if i.level == "error"]
    if errors or mapping is None:
        raise MappingError(602, f"映射文件 {path} 有 {len(errors)} 个错误", f"mapping {path} has {len(errors)} error(s)",
                           issues=errors)
    return mapping


def check_mapping(mapping: MappingFile, located: LocatedYaml, catalog: Catalog) -> list[Issue]:
    """What the schema cannot say: known target columns, each mapped once, required ones present, values known."""
    issues: list[Issue] = []

    def err(code: int, zh: str, en: str, loc: tuple[str | int, ...]) -> None:
        issues.append(Issue("error", code, zh, en, located.file, located.line_of(loc), _dotted(loc)))

    for i, src in enumerate(mapping.sources):
        spec = TARGETS[src.target]
        seen: dict[str, str] = {}
        for column, target in src.columns.items():
            loc = ("sources", i, "columns", column)
            if not target:
                continue
            if target not in spec.names:
                hint = ", ".join(closest(target, spec.names)) or ", ".join(spec.names)
                err(603, f"{src.target} 没有列 '{target}'(可选: {hint})", f"{src.target} has no column '{target}' "
                    f"(did you mean: {hint})", loc)
            elif target in seen:
                err(604, f"'{target}' 同时由 '{seen[target]}' 和 '{column}' 映射", f"'{target}' is mapped from both "
                    f"'{seen[target]}' and '{column}'", loc)
            seen.setdefault(target, column)
        missing = [c for c in mapping.rules.required_for(src.target) if c not in seen]
        if missing:
            err(605, f"{src.target} 的必填列没有映射: {', '.join(missing)}",
                f"required column(s) of {src.target} not mapped: {', '.join(missing)}", ("sources", i, "columns"))
        for column, spellings in src.values.items():
            loc = ("sources", i, "values", column)
            if column not in spec.names or spec.column(column).kind not in ("category", "city"):
                cats = [c.name for c in spec.columns if c.kind in ("category", "city")]
                err(606, f"{src.target}.{column} 不是分类列, 不能设置取值映射(可选: {', '.join(cats) or '无'})",
                    f"{src.target}.{column} is not a category column (one of: {', '.join(cats) or 'none'})", loc)
                continue
            allowed = catalog_values(catalog, column)
            for raw, value in spellings.items():
                if spec.column(column).kind == "category" and value not in allowed:
                    hint = ", ".join(closest(value, allowed)) or ", ".join(allowed)
                    err(607, f"'{value}' 不是 {column} 的取值(可选: {hint})", f"'{value}' is not a value of {column} "
                        f"(did you mean: {hint})", (*loc, raw))
    return issues


def _dotted(loc: tuple[str | int, ...]) -> str:
    """``("sources", 0, "columns", "手机")`` → ``sources[0].columns.手机``.

    >>> _dotted(("sources", 0, "columns", "手机"))
    'sources[0].columns.手机'
    """
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


# --- save -------------------------------------------------------------------------------


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def to_yaml(mapping: MappingFile, comments: dict[tuple[int, str], str] | None = None) -> str:
    """The mapping as commented, hand-editable YAML; ``load_mapping`` reads it back unchanged."""
    comments = comments or {}
    out = [
        "# ChatBI import mapping / 导入映射 — edit, then: chatbi import --mapping THIS_FILE --db OUT.duckdb",
        "# columns: source column → contract column (null = not imported); values: extra spellings → catalog value",
        "# rules: cleaning settings; docs/import.md lists every rule and its reason code",
        "version: 1",
        "sources:",
    ]
    for i, src in enumerate(mapping.sources):
        out.append(f"  - source: {_q(src.source)}")
        if src.table is not None:
            out.append(f"    table: {_q(src.table)}")
        out.append(f"    target: {src.target}")
        out.append("    columns:")
        for column, target in src.columns.items():
            note = comments.get((i, column))
            out.append(f"      {_q(column)}: {target or 'null'}" + (f"  # {note}" if note else ""))
        for line in comments.get((i, ""), "").splitlines():
            out.append(f"      # {line}")
        if src.values:
            out.append("    values:")
            for column, spellings in src.values.items():
                out.append(f"      {column}:")
                out += [f"        {_q(raw)}: {_q(value)}" for raw, value in spellings.items()]
    rules = yaml.safe_dump(mapping.rules.model_dump(mode="json"), allow_unicode=True, sort_keys=False,
                           default_flow_style=None, width=120)
    out.append("rules:  # latest_date null = the import day")
    out += [f"  {line}" for line in rules.splitlines()]
    return "\n".join(out) + "\n"


def save_mapping(mapping: MappingFile | MappingSuggestion, path: str | Path) -> Path:
    """Write the mapping YAML atomically; a suggestion keeps its comments (why each column was chosen)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(mapping, MappingFile):
        write_atomic(path, to_yaml(mapping))
    else:
        write_atomic(path, to_yaml(mapping.mapping, mapping.comments))
    os.chmod(path, 0o644)  # shared and edited by people, not the 0600 of a temp file
    return path
