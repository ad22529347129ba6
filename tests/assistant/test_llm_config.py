"""LLM settings: one (name, default, help) table, read from TOML < .env < environment, documented in docs/llm.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.llm.config import LLMSettings, build_chat_model, load_settings, settings_markdown

DOCS = Path(__file__).resolve().parents[2] / "docs" / "llm.md"


def test_nothing_configured_is_offline(tmp_path: Path) -> None:
    settings = load_settings({"CHATBI_HOME": str(tmp_path)}, cwd=tmp_path)
    assert not settings.configured and settings == LLMSettings()


def test_environment_beats_dotenv_beats_toml(tmp_path: Path) -> None:
    (tmp_path / "chatbi.toml").write_text(
        '[llm]\nmodel = "from-toml"\nbase_url = "http://toml/v1"\ntimeout = 7\nextra_body = {enable_thinking = false}\n',
        encoding="utf-8")
    (tmp_path / ".env").write_text("CHATBI_LLM_MODEL=from-dotenv\nCHATBI_LLM_NARRATIVE=true\n", encoding="utf-8")
    settings = load_settings({"CHATBI_LLM_MODEL": "from-env", "CHATBI_HOME": str(tmp_path / "home")}, cwd=tmp_path)
    assert settings.model == "from-env"
    assert settings.narrative is True  # .env
    assert settings.base_url == "http://toml/v1" and settings.timeout == 7.0  # TOML
    assert settings.extra_body == {"enable_thinking": False}


def test_config_file_from_chatbi_config_or_home(tmp_path: Path) -> None:
    custom = tmp_path / "custom.toml"
    custom.write_text('[llm]\nmodel = "custom"\n', encoding="utf-8")
    assert load_settings({"CHATBI_CONFIG": str(custom)}, cwd=tmp_path).model == "custom"
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text('[llm]\nmodel = "home"\nanalyst_mode = true\n', encoding="utf-8")
    settings = load_settings({"CHATBI_HOME": str(home)}, cwd=tmp_path)
    assert settings.model == "home" and settings.analyst_mode


@pytest.mark.parametrize(("env", "message"), [
    ({"CHATBI_LLM_TIMEOUT": "soon"}, "CHATBI_LLM_TIMEOUT must be a number"),
    ({"CHATBI_LLM_ANALYST_MODE": "maybe"}, "CHATBI_LLM_ANALYST_MODE must be true or false"),
    ({"CHATBI_LLM_EXTRA_BODY": "[1, 2]"}, "extra_body must be a JSON object"),
    ({"CHATBI_LLM_MAX_RETRIES": "9"}, "less than or equal to 3"),
    ({"CHATBI_LLM_ROUTE": "sometimes"}, "'auto' or 'always'"),
], ids=["number", "bool", "extra_body", "retries_bounded", "route"])
def test_bad_values_say_which_setting(tmp_path: Path, env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_settings({**env, "CHATBI_HOME": str(tmp_path)}, cwd=tmp_path)


def test_unknown_toml_setting_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "chatbi.toml").write_text('[llm]\nmodle = "typo"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="unknown \\[llm\\] settings \\['modle'\\]"):
        load_settings({"CHATBI_HOME": str(tmp_path)}, cwd=tmp_path)


def test_api_key_never_shows() -> None:
    settings = LLMSettings(model="m", api_key="sk-very-secret")
    assert "sk-very-secret" not in repr(settings) and "sk-very-secret" not in str(settings.model_dump())


def test_build_chat_model_passes_endpoint_limits_and_extras() -> None:
    settings = LLMSettings(model="deepseek-chat", base_url="https://api.deepseek.com/v1", api_key="sk-x",
                           timeout=4, max_retries=2, extra_body={"top_k": 5})
    model = build_chat_model(settings)
    assert model.model_name == "deepseek-chat" and model.openai_api_base == "https://api.deepseek.com/v1"
    assert model.request_timeout == 4 and model.max_retries == 2 and model.extra_body == {"top_k": 5}
    assert model.openai_api_key.get_secret_value() == "sk-x"


def test_local_server_needs_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    model = build_chat_model(LLMSettings(model="qwen2.5:7b", base_url="http://localhost:11434/v1"))
    assert model.openai_api_key.get_secret_value() == "not-needed"


def test_every_setting_is_documented() -> None:
    """docs/llm.md holds the table generated from SETTINGS, unchanged (regenerate it with settings_markdown())."""
    assert settings_markdown() in DOCS.read_text(encoding="utf-8")
