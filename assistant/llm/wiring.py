"""What ``ChatBI`` holds for the LLM: the hybrid planner, the optional narrator, config notices.

``connect_llm(catalog, planner, llm)`` decides once per process:

- ``llm=None``: read the settings (environment, ``.env``, TOML); nothing configured
  → offline only, quietly; a broken configuration → offline, with a notice on
  every answer so an admin sees it.
- ``llm=False``: offline only.
- ``llm=LLMSettings(...)``: build ``ChatOpenAI`` for those settings.
- ``llm=<chat model>``: use it (tests pass a fake or a replaying ``ChatOpenAI``),
  with ``settings`` for the flags (route, narrative, analyst mode).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from semantic_layer.catalog import Catalog
from semantic_layer.schema import Text

from ..planner import Planner
from .config import LLMSettings, build_chat_model, load_settings
from .route import HybridPlanner

log = logging.getLogger(__name__)


@dataclass
class LLMWiring:
    hybrid: HybridPlanner
    settings: LLMSettings
    narrator: Any = None  # Narrator | None
    notices: tuple[Text, ...] = ()

    @property
    def active(self) -> bool:
        return self.hybrid.llm is not None

    def narrate(self, answer: Any) -> None:
        """Replace an ok, governed answer's narrative with the LLM's when it is grounded; else keep it."""
        if self.narrator is None or answer.status != "ok" or not getattr(answer, "governed", True):
            return
        text, notices = self.narrator.narrate(question=answer.question, columns=answer.columns, rows=answer.rows,
                                              facts=answer.narrative, suggestions=answer.suggestions,
                                              lang=answer.lang)
        if text:
            answer.narrative = text
        answer.notices += [n.get(answer.lang) for n in notices]


def connect_llm(catalog: Catalog, planner: Planner, llm: Any = None, *, settings: LLMSettings | None = None,
                schema: Callable[[], Mapping[str, Collection[str]]] | None = None) -> LLMWiring:
    if llm is False:
        return LLMWiring(HybridPlanner(planner), LLMSettings())
    model = llm
    if llm is None or isinstance(llm, LLMSettings):
        try:
            settings = llm if isinstance(llm, LLMSettings) else load_settings()
        except Exception as exc:  # noqa: BLE001 — a broken config must not stop the offline assistant
            log.warning("LLM configuration invalid: %s", exc)
            return LLMWiring(HybridPlanner(planner), LLMSettings(), notices=(_bad_config(exc),))
        if not settings.configured:
            return LLMWiring(HybridPlanner(planner), settings)
        try:
            model = build_chat_model(settings)
        except Exception as exc:  # noqa: BLE001
            log.warning("LLM client could not be built: %s", exc)
            return LLMWiring(HybridPlanner(planner), settings, notices=(_bad_config(exc),))
    settings = settings or LLMSettings(model="custom")
    from .narrator import Narrator
    from .planner import LLMPlanner

    llm_planner = LLMPlanner(catalog, model, settings=settings, schema=schema if settings.analyst_mode else None)
    return LLMWiring(HybridPlanner(planner, llm_planner, mode=settings.route), settings,
                     narrator=Narrator(model) if settings.narrative else None)


def _bad_config(exc: Exception) -> Text:
    first = str(exc).splitlines()[0][:160]
    return Text(zh=f"大模型配置无效, 已使用离线规划器: {first}", en=f"The LLM configuration is invalid; using the offline planner: {first}")
