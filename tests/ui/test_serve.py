"""``chatbi serve``: the Streamlit command line, production flags, who the app serves, demo build."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant import cli


def test_serve_command_has_the_production_flags(tmp_path):
    argv, env = cli.serve_command(tmp_path / "w.duckdb", 8600, "127.0.0.1", "wang", tmp_path / "cat", None, "en")
    joined = " ".join(argv)
    assert argv[1:4] == ["-m", "streamlit", "run"] and argv[4].endswith("ui/app.py")
    for flag in ("--server.address 127.0.0.1", "--server.port 8600", "--client.toolbarMode viewer",
                 "--client.showErrorDetails type", "--browser.gatherUsageStats false", "--server.headless true"):
        assert flag in joined
    assert env["CHATBI_USER"] == "wang" and env["CHATBI_LANG"] == "en"
    assert "CHATBI_LOCAL_OPERATOR" not in env, "--user wins over the local operator"
    assert env["CHATBI_DB"] == str((tmp_path / "w.duckdb").resolve())
    assert env["CHATBI_CATALOG"] == str((tmp_path / "cat").resolve())


@pytest.mark.parametrize("host, local", [("127.0.0.1", True), ("localhost", True), ("::1", True),
                                         ("127.0.0.2", True), ("0.0.0.0", False), ("::", False),
                                         ("192.168.1.5", False), ("chatbi.example.com", False)])
def test_only_a_loopback_address_serves_the_local_operator(tmp_path, monkeypatch, host, local):
    monkeypatch.setenv("CHATBI_USER", "inherited")
    monkeypatch.setenv("CHATBI_LOCAL_OPERATOR", "1")
    monkeypatch.setenv("CHATBI_ROLE", "admin")
    _, env = cli.serve_command(tmp_path / "w.duckdb", 8600, host, None, None, None, "zh")
    assert ("CHATBI_LOCAL_OPERATOR" in env) is local
    assert "CHATBI_USER" not in env and "CHATBI_ROLE" not in env, "inherited identity is never passed on"


@pytest.fixture
def captured(monkeypatch):
    calls = []
    monkeypatch.setattr(cli.os, "execve", lambda path, argv, env: calls.append((argv, env)))
    return calls


def test_serve_builds_the_demo_warehouse_when_missing(tmp_path, captured):
    db = tmp_path / "fresh.duckdb"
    result = CliRunner().invoke(cli.app, ["serve", "--db", str(db), "--port", "8601"])
    assert result.exit_code == 0, result.output
    assert db.exists()
    _, env = captured[0]
    assert env["CHATBI_LOCAL_OPERATOR"] == "1" and "CHATBI_USER" not in env, "locally: the operator, an admin"
    assert "local operator" in result.output


def test_serve_off_loopback_requires_sign_in(demo_db, captured):
    result = CliRunner().invoke(cli.app, ["serve", "--db", str(demo_db), "--host", "0.0.0.0"])
    assert result.exit_code == 0, result.output
    env = captured[0][1]
    assert "CHATBI_LOCAL_OPERATOR" not in env and "CHATBI_USER" not in env
    assert "sign-in required" in result.output


def test_serve_as_a_directory_user(demo_db, captured):
    result = CliRunner().invoke(cli.app, ["serve", "--db", str(demo_db), "--host", "0.0.0.0", "--user", "wang"])
    assert result.exit_code == 0, result.output
    assert captured[0][1]["CHATBI_USER"] == "wang"


def test_serve_rejects_an_unknown_user_with_did_you_mean(demo_db, captured):
    result = CliRunner().invoke(cli.app, ["serve", "--db", str(demo_db), "--user", "wangg"])
    assert result.exit_code == 2 and not captured
    assert "[230]" in result.output and "用户目录" in result.output and "user directory" in result.output
    assert "did you mean: wang" in result.output


@pytest.mark.parametrize("args", [["--role", "admin"], ["--lang", "fr"]])
def test_serve_rejects_bad_options(demo_db, captured, args):
    result = CliRunner().invoke(cli.app, ["serve", "--db", str(demo_db), *args])
    assert result.exit_code == 2 and not captured


def test_readme_first_command_serves(tmp_path: Path):
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- run-command -->", 1)[1].split("```bash\n", 1)[1].split("\n", 1)[0]
    assert block.startswith("python3 -m venv .venv && .venv/bin/pip install -q -e .")
    assert block.endswith(".venv/bin/chatbi serve")
