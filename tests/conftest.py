"""Shared fixtures: the default catalog and one real demo warehouse per test run."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

AS_OF = dt.date(2025, 12, 31)


def pytest_configure(config: pytest.Config) -> None:
    """Before any fixture (module-scoped services open their audit log early): a throwaway home."""
    import os
    import tempfile

    os.environ["CHATBI_HOME"] = tempfile.mkdtemp(prefix="chatbi-test-home-")
    os.environ.pop("CHATBI_AUDIT", None)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite golden files from the current output (review the diff!)")


@pytest.fixture(autouse=True)
def _no_developer_llm(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests never reach a developer's configured endpoint: no env keys, no config file."""
    import os

    for key in [k for k in os.environ if k.startswith("CHATBI_LLM_") or k == "OPENAI_API_KEY"]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("CHATBI_CONFIG", str(tmp_path_factory.getbasetemp() / "no-config.toml"))
    # Sessions, feedback and the audit log go to a throwaway home, never ~/.chatbi.
    monkeypatch.setenv("CHATBI_HOME", str(tmp_path_factory.mktemp("chatbi-home")))
    monkeypatch.delenv("CHATBI_AUDIT", raising=False)
    monkeypatch.delenv("CHATBI_USER", raising=False)


@pytest.fixture(scope="session")
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(scope="session")
def catalog():
    from semantic_layer.loader import load_catalog

    return load_catalog()


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default-size demo warehouse (built once, in seconds)."""
    from warehouse.demo import build_demo

    path = tmp_path_factory.mktemp("warehouse") / "demo.duckdb"
    build_demo(path, scale=1.0, seed=7)
    return path


@pytest.fixture(scope="session")
def engine(demo_db: Path):
    from semantic_layer.engine import DuckDBEngine

    eng = DuckDBEngine(demo_db)
    yield eng
    eng.close()


@pytest.fixture(scope="session")
def raw_con(demo_db: Path, tmp_path_factory: pytest.TempPathFactory):
    """A plain read-only connection for hand-written check SQL (a copy of the file)."""
    import shutil

    import duckdb

    copy = tmp_path_factory.mktemp("check") / "check.duckdb"
    shutil.copy(demo_db, copy)
    con = duckdb.connect(str(copy), read_only=True)
    yield con
    con.close()
