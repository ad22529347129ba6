"""Where the LLM endpoint is configured: environment, ``.env``, or a TOML file.

Settings are declared once in ``SETTINGS`` (name, default, help); the docs page
(docs/llm.md) and its test read the same table. Precedence, highest first:

1. the process environment, ``CHATBI_LLM_<NAME>`` (``CHATBI_LLM_MODEL=deepseek-chat``);
2. a ``.env`` file in the working directory (read with python-dotenv; the
   environment is not modified);
3. a TOML file: ``$CHATBI_CONFIG``, else ``./chatbi.toml``, else
   ``$CHATBI_HOME/config.toml`` (``~/.chatbi/config.toml``), table ``[llm]``
   with the bare names (``model = "qwen-plus"``).

No model configured → ``LLMSettings.configured`` is false and ChatBI stays offline,
quietly. The API key is a ``SecretStr``: it never appears in a repr or a log.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

PREFIX = "CHATBI_LLM_"

#: (name, default, help) — env ``CHATBI_LLM_<NAME>``, TOML ``[llm] name``. The default's type is the value's type.
SETTINGS: tuple[tuple[str, Any, str], ...] = (
    ("model", "", "model name, e.g. gpt-4o-mini, deepseek-chat, qwen-plus, qwen2.5:7b; empty: no LLM (offline planner)"),
    ("base_url", "", ("OpenAI-compatible base URL, e.g. https://api.deepseek.com/v1, "
                      "https://dashscope.aliyuncs.com/compatible-mode/v1, http://localhost:11434/v1; empty: OpenAI")),
    ("api_key", "", "API key; empty: $OPENAI_API_KEY, else a placeholder (local servers ignore it)"),
    ("timeout", 20.0, "seconds one request may take before the offline planner answers instead"),
    ("max_retries", 1, "retries after a failed request (0-3); each waits for its own timeout"),
    ("temperature", 0.0, "sampling temperature; 0 keeps plans repeatable"),
    ("extra_body", "", 'provider options as a JSON object, sent as extra_body, e.g. {"enable_thinking": false}'),
    ("tool_choice", "force", ("force: require the plan_query tool call; auto: let the server choose "
                              "(for servers that reject a named tool_choice)")),
    ("route", "auto", ("auto: the offline planner answers when it is confident, the LLM otherwise; always: every "
                       "question goes to the LLM first (writes, pasted SQL and declared-ambiguous terms stay offline)")),
    ("narrative", False, "also ask the LLM to word the narrative (one more call per answer; grounded and sanitised)"),
    ("analyst_mode", False, ("admin only: the LLM may propose SQL when no semantic query fits; it passes the "
                             "same guard and row limits and the answer is marked ungoverned")),
    ("cooldown", 60.0, "seconds to skip the LLM after a failed call, so a dead endpoint does not slow every question"),
)

_DEFAULTS = {name: default for name, default, _ in SETTINGS}


class LLMSettings(BaseModel):
    """Resolved settings; build with ``load_settings()`` or directly in tests."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str = _DEFAULTS["model"]
    base_url: str = _DEFAULTS["base_url"]
    api_key: SecretStr = SecretStr(_DEFAULTS["api_key"])
    timeout: float = Field(default=_DEFAULTS["timeout"], gt=0, le=600)
    max_retries: int = Field(default=_DEFAULTS["max_retries"], ge=0, le=3)
    temperature: float = Field(default=_DEFAULTS["temperature"], ge=0, le=2)
    extra_body: dict[str, Any] = Field(default_factory=dict)
    tool_choice: Literal["force", "auto"] = _DEFAULTS["tool_choice"]
    route: Literal["auto", "always"] = _DEFAULTS["route"]
    narrative: bool = _DEFAULTS["narrative"]
    analyst_mode: bool = _DEFAULTS["analyst_mode"]
    cooldown: float = Field(default=_DEFAULTS["cooldown"], ge=0)

    @field_validator("extra_body", mode="before")
    @classmethod
    def _json_object(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = json.loads(value) if value.strip() else {}
        if not isinstance(value, dict):
            raise ValueError("extra_body must be a JSON object")  # noqa: TRY004 — pydantic reports ValueError
        return value

    @property
    def configured(self) -> bool:
        return bool(self.model.strip())


def load_settings(environ: Mapping[str, str] | None = None, *, cwd: Path | None = None) -> LLMSettings:
    """Merge the TOML file, ``.env`` and the environment (highest wins).

    >>> load_settings({}, cwd=Path("/nonexistent")).configured
    False
    >>> load_settings({"CHATBI_LLM_MODEL": "deepseek-chat", "CHATBI_LLM_TIMEOUT": "5"}, cwd=Path("/nonexistent")).timeout
    5.0
    """
    env = os.environ if environ is None else environ
    cwd = cwd or Path.cwd()
    values: dict[str, Any] = dict(_from_toml(_config_file(env, cwd)))
    values.update(_from_env(_dotenv(cwd / ".env")))
    values.update(_from_env(env))
    return LLMSettings.model_validate({k: _coerce(k, v) for k, v in values.items()})


def _config_file(env: Mapping[str, str], cwd: Path) -> Path | None:
    if env.get("CHATBI_CONFIG"):
        return Path(env["CHATBI_CONFIG"]).expanduser()
    home = Path(env.get("CHATBI_HOME") or Path.home() / ".chatbi").expanduser()
    for path in (cwd / "chatbi.toml", home / "config.toml"):
        if path.is_file():
            return path
    return None


def _from_toml(path: Path | None) -> dict[str, Any]:
    if path is None or not path.is_file():
        return {}
    table = tomllib.loads(path.read_text(encoding="utf-8")).get("llm", {})
    unknown = set(table) - set(_DEFAULTS)
    if unknown:
        raise ValueError(f"{path}: unknown [llm] settings {sorted(unknown)}; known: {sorted(_DEFAULTS)}")
    return dict(table)


def _dotenv(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    from dotenv import dotenv_values

    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def _from_env(env: Mapping[str, str]) -> dict[str, str]:
    return {name: env[PREFIX + name.upper()] for name in _DEFAULTS if PREFIX + name.upper() in env}


def _coerce(name: str, value: Any) -> Any:
    """Environment strings to the default's type: "true"/"1" → True, "5" → 5.0 for a float setting."""
    default = _DEFAULTS[name]
    if not isinstance(value, str) or isinstance(default, str):
        return value
    if isinstance(default, bool):
        low = value.strip().lower()
        if low not in {"1", "true", "yes", "on", "0", "false", "no", "off", ""}:
            raise ValueError(f"{PREFIX}{name.upper()} must be true or false, got {value!r}")
        return low in {"1", "true", "yes", "on"}
    try:
        return type(default)(value.strip())
    except ValueError:
        kind = "an integer" if isinstance(default, int) else "a number"
        raise ValueError(f"{PREFIX}{name.upper()} must be {kind}, got {value!r}") from None


def settings_markdown() -> str:
    """The settings table for docs/llm.md (its test checks the page holds exactly this)."""
    rows = ["| environment | `[llm]` key | default | what it does |", "| --- | --- | --- | --- |"]
    for name, default, help_text in SETTINGS:
        shown = json.dumps(default) if not isinstance(default, str) else (f'"{default}"' if default else '""')
        rows.append(f"| `{PREFIX}{name.upper()}` | `{name}` | `{shown}` | {help_text.replace('|', '/')} |")
    return "\n".join(rows)


def build_chat_model(settings: LLMSettings, **overrides: Any) -> Any:
    """A ``ChatOpenAI`` for the endpoint; ``overrides`` (e.g. ``http_client``) are for tests and recording.

    Imported lazily so the offline path never loads LangChain.
    """
    from langchain_openai import ChatOpenAI

    key = settings.api_key.get_secret_value() or os.environ.get("OPENAI_API_KEY") or "not-needed"
    kwargs: dict[str, Any] = {
        "model": settings.model,
        "api_key": key,
        "timeout": settings.timeout,
        "max_retries": settings.max_retries,
        "temperature": settings.temperature,
    }
    if settings.base_url:
        kwargs["base_url"] = settings.base_url
    if settings.extra_body:
        kwargs["extra_body"] = settings.extra_body
    kwargs.update(overrides)
    return ChatOpenAI(**kwargs)
