"""Load a catalog folder, validate it in layers, and raise once with every issue.

Layout (SEMANTIC_LAYER.md)::

    project.yaml          the project settings
    models/<model>.yaml   one model per file
    metrics/<area>.yaml   metrics grouped by business area
    access.yaml           roles, row rules, limits, audit retention (optional)
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import pydantic

from .catalog import Catalog, Located
from .errors import CatalogError, Issue
from .policy import AccessPolicy
from .schema import MetricFile, ModelSpec, Project
from .yaml_lines import ZH_PYDANTIC_ERRORS, LocatedYaml, read_yaml

DEFAULT_CATALOG = Path(__file__).resolve().parent.parent / "metrics" / "catalog"

T = TypeVar("T", bound=pydantic.BaseModel)



def load_catalog(root: str | Path | None = None, *, overrides: dict[str, str] | None = None) -> Catalog:
    """Read, parse and validate a catalog; raise ``CatalogError`` listing all issues.

    ``overrides`` maps a file path relative to ``root`` to replacement text, so
    an admin's unsaved edit is validated against the rest of the catalog.
    """
    from .validate import validate_catalog  # validation rules read the built catalog

    root = Path(root) if root else DEFAULT_CATALOG
    catalog, issues = _parse(root, overrides or {})
    if catalog is not None:
        issues += validate_catalog(catalog)
    errors = [i for i in issues if i.level == "error"]
    if errors or catalog is None:
        raise CatalogError(
            101, f"指标目录 {root} 有 {len(errors)} 个错误", f"catalog {root} has {len(errors)} error(s)",
            issues=errors,
        )
    return catalog.with_warnings([i for i in issues if i.level == "warning"])


def _parse(root: Path, overrides: dict[str, str]) -> tuple[Catalog | None, list[Issue]]:
    issues: list[Issue] = []
    project_file = root / "project.yaml"
    if not project_file.exists() and "project.yaml" not in overrides:
        issue = Issue("error", 103, f"找不到 {project_file}", f"{project_file} not found", str(project_file))
        return None, [issue]

    def read(rel: str, cls: type[T]) -> Located[T] | None:
        path = root / rel
        text = overrides[rel] if rel in overrides else path.read_text(encoding="utf-8")
        located, found = read_yaml(text, str(path))
        issues.extend(found)
        if located is None:
            return None
        obj = validate_located(located, cls, issues)
        return Located(obj, str(path), located.lines) if obj is not None else None

    project = read("project.yaml", Project)
    models = [m for rel in _files(root, "models", overrides) if (m := read(rel, ModelSpec))]
    metric_files = [m for rel in _files(root, "metrics", overrides) if (m := read(rel, MetricFile))]
    access = read("access.yaml", AccessPolicy) if (root / "access.yaml").exists() or "access.yaml" in overrides else None
    if project is None:
        return None, issues
    catalog = Catalog.build(root, project, models, metric_files, issues)
    if access is not None:
        where = {**catalog.where, "access": (access.file, 1),
                 "access:protected_models": (access.file, access.lines.get(("protected_models",), 1))}
        for i, _ in enumerate(access.obj.row_rules):
            where[f"access:row_rules.{i}"] = (access.file, access.lines.get(("row_rules", i)))
            for fld in ("roles", "models", "dimension"):
                where[f"access:row_rules.{i}.{fld}"] = (access.file, access.lines.get(("row_rules", i, fld)))
        catalog = replace(catalog, policy=access.obj, where=where)
    return catalog, issues


def _files(root: Path, folder: str, overrides: dict[str, str]) -> list[str]:
    found = {f"{folder}/{p.name}" for p in (root / folder).glob("*.yaml")}
    found |= {rel for rel in overrides if rel.startswith(f"{folder}/") and rel.endswith(".yaml")}
    return sorted(found)


def validate_located(located: LocatedYaml, cls: type[T], issues: list[Issue]) -> T | None:
    data: Any = located.data if located.data is not None else {}
    try:
        return cls.model_validate(data)
    except pydantic.ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            if err["type"] in {"union_tag_invalid", "union_tag_not_found"}:
                loc = loc + ("type",)  # point at the discriminator the admin wrote
            path = _dotted_loc(loc, located)
            zh = ZH_PYDANTIC_ERRORS.get(err["type"], "取值无效")
            detail = _detail(err)
            issues.append(
                Issue("error", 104, f"{zh}{detail}", err["msg"], located.file, located.line_of(loc), path)
            )
        return None


def _detail(err: Any) -> str:
    ctx = err.get("ctx") or {}
    if "expected" in ctx:
        return f": 应为 {ctx['expected']}"
    if err["type"] == "value_error":
        return f": {err['msg']}"
    return ""


def _dotted_loc(loc: tuple[Any, ...], located: LocatedYaml) -> str:
    """The field path as the admin wrote it (pydantic's union tags removed)."""
    path: tuple[Any, ...] = ()
    for part in loc:
        if path + (part,) in located.lines or isinstance(part, int) or not path or part not in _UNION_TAGS:
            path = path + (part,)
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


_UNION_TAGS = {"simple", "ratio", "derived", "entity_count", "period_churn",
               "TableSource", "SqlSource", "PythonSource"}
