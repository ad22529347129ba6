"""The loaded catalog: models, metrics, and the join graph between models.

Joins go only from an entity to a model where that entity is primary, so every
join is many-to-one or one-to-one and no join can fan a measure out.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Generic, Iterator, TypeVar

from .errors import Issue, UserError, closest
from .policy import AccessPolicy
from .schema import Dimension, Metric, MetricFile, ModelSpec, Project, SimpleMetric

T = TypeVar("T")


@dataclass(frozen=True)
class Located(Generic[T]):
    obj: T
    file: str
    lines: dict[tuple[str | int, ...], int]


@dataclass(frozen=True)
class JoinStep:
    """``LEFT JOIN to_model ON from_model.from_column = to_model.to_column``."""

    from_model: str
    to_model: str
    from_column: str
    to_column: str


@dataclass(frozen=True)
class ResolvedDimension:
    model: str
    dimension: Dimension
    path: tuple[JoinStep, ...]  # joins from the base model to ``model``


@dataclass(frozen=True)
class Catalog:
    root: Path
    project: Project
    models: dict[str, ModelSpec]
    metrics: dict[str, Metric]
    metric_area: dict[str, str]
    where: dict[str, tuple[str, int | None]]  # "metric:revenue" -> (file, line)
    warnings: tuple[Issue, ...] = ()
    policy: AccessPolicy = field(default_factory=AccessPolicy)  # access.yaml: roles, row rules, limits
    _paths: dict[str, dict[str, tuple[JoinStep, ...]]] = field(default_factory=dict, repr=False)

    @classmethod
    def build(
        cls,
        root: Path,
        project: Located[Project],
        models: list[Located[ModelSpec]],
        metric_files: list[Located[MetricFile]],
        issues: list[Issue],
    ) -> Catalog:
        """Index the parsed files; duplicates become issues, the first one wins."""
        by_model: dict[str, ModelSpec] = {}
        by_metric: dict[str, Metric] = {}
        area: dict[str, str] = {}
        where: dict[str, tuple[str, int | None]] = {"project": (project.file, 1)}
        for m in models:
            if m.obj.model in by_model:
                issues.append(_dup("model", m.obj.model, m.file, m.lines.get(("model",)), where))
                continue
            by_model[m.obj.model] = m.obj
            where[f"model:{m.obj.model}"] = (m.file, m.lines.get(("model",)))
            for i, d in enumerate(m.obj.dimensions):
                where[f"dimension:{m.obj.model}.{d.name}"] = (m.file, m.lines.get(("dimensions", i)))
        for f in metric_files:
            for i, metric in enumerate(f.obj.metrics):
                line = f.lines.get(("metrics", i))
                if metric.name in by_metric:
                    issues.append(_dup("metric", metric.name, f.file, line, where))
                    continue
                by_metric[metric.name] = metric
                area[metric.name] = f.obj.area
                where[f"metric:{metric.name}"] = (f.file, line)
        return cls(root, project.obj, by_model, by_metric, area, where)

    def with_warnings(self, warnings: list[Issue]) -> Catalog:
        return replace(self, warnings=tuple(warnings))

    # --- lookups -------------------------------------------------------------------

    def metric(self, name: str) -> Metric:
        if name not in self.metrics:
            raise UserError(
                201, f"未知指标 '{name}'", f"unknown metric '{name}'", closest(name, self.metrics)
            )
        return self.metrics[name]

    def model(self, name: str) -> ModelSpec:
        if name not in self.models:
            raise UserError(202, f"未知模型 '{name}'", f"unknown model '{name}'", closest(name, self.models))
        return self.models[name]

    def dimensions(self) -> Iterator[tuple[str, Dimension]]:
        for model in self.models.values():
            for d in model.dimensions:
                yield model.model, d

    def find_dimension(self, ref: str) -> Dimension:
        """The first dimension named ``ref`` (``name`` or ``model.name``), wherever it lives."""
        model, _, name = ref.rpartition(".")
        for m, d in self.dimensions():
            if d.name == name and (not model or m == model):
                return d
        raise UserError(203, f"未知维度 '{ref}'", f"unknown dimension '{ref}'", closest(name, self.dimension_names()))

    def dimension_names(self) -> set[str]:
        return {d.name for _, d in self.dimensions()}

    def locate(self, key: str) -> tuple[str | None, int | None]:
        file, line = self.where.get(key, (None, None))
        return file, line

    # --- joins ---------------------------------------------------------------------

    def join_paths(self, base: str) -> dict[str, tuple[JoinStep, ...]]:
        """Shortest join path from ``base`` to every model reachable from it.

        >>> # orders → customers via orders.customer_id = customers.customer_id
        """
        if base in self._paths:
            return self._paths[base]
        primaries: dict[str, list[tuple[str, str]]] = {}
        for m in self.models.values():
            if m.primary is not None:
                primaries.setdefault(m.primary.name, []).append((m.model, m.primary.column))
        paths: dict[str, tuple[JoinStep, ...]] = {base: ()}
        queue = deque([base])
        while queue:
            current = queue.popleft()
            for entity in self.models[current].entities:
                for target, column in primaries.get(entity.name, []):
                    if target not in paths:
                        paths[target] = paths[current] + (JoinStep(current, target, entity.column, column),)
                        queue.append(target)
        self._paths[base] = paths
        return paths

    def resolve_dimension(self, base: str, ref: str) -> ResolvedDimension:
        """Find dimension ``ref`` (``name`` or ``model.name``) from model ``base``.

        The nearest model wins; two models at the same distance are ambiguous.
        """
        model_name, _, dim_name = ref.rpartition(".")
        paths = self.join_paths(base)
        found: list[ResolvedDimension] = []
        for target, path in paths.items():
            if model_name and target != model_name:
                continue
            for d in self.models[target].dimensions:
                if d.name == dim_name:
                    found.append(ResolvedDimension(target, d, path))
        if not found:
            raise self._unreachable(base, ref)
        found.sort(key=lambda r: len(r.path))
        if len(found) > 1 and len(found[1].path) == len(found[0].path):
            models = ", ".join(r.model for r in found)
            raise UserError(
                302, f"维度 '{ref}' 在多个模型中都存在({models}), 请写成 模型.维度",
                f"dimension '{ref}' exists in several models ({models}); qualify it as model.dimension",
            )
        return found[0]

    def can_reach(self, base: str, ref: str) -> bool:
        try:
            self.resolve_dimension(base, ref)
        except UserError:
            return False
        return True

    def _unreachable(self, base: str, ref: str) -> UserError:
        name = ref.rpartition(".")[2]
        if name not in self.dimension_names():
            return UserError(
                203, f"未知维度 '{ref}'", f"unknown dimension '{ref}'", closest(name, self.dimension_names())
            )
        label = self.models[base].label
        return UserError(
            301,
            f"'{label.zh}' 的数据无法按 '{ref}' 拆分",
            f"'{label.en}' data cannot be broken down by '{ref}'",
        )

    def simple_metrics(self) -> Iterator[SimpleMetric]:
        for m in self.metrics.values():
            if isinstance(m, SimpleMetric):
                yield m


def _dup(kind: str, name: str, file: str, line: int | None, where: dict[str, tuple[str, int | None]]) -> Issue:
    first_file, first_line = where.get(f"{kind}:{name}", ("?", None))
    return Issue(
        "error", 105,
        f"{kind} '{name}' 重复定义(首次定义于 {first_file}:{first_line})",
        f"{kind} '{name}' is defined twice (first at {first_file}:{first_line})",
        file, line,
    )
