"""Fixtures for the app tests: the app pointed at copies (catalog, suite, home) in tmp.

Tests never touch the repository's catalog or golden suite: ``CHATBI_CATALOG``,
``CHATBI_SUITE`` and ``CHATBI_HOME`` point into ``tmp_path``. Who is signed in
is a user of the demo directory (``metrics/users.yaml``) named by ``CHATBI_USER``,
as ``chatbi serve --user`` sets it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "ui" / "app.py"
TIMEOUT = 60  # NOTES: the 3 s default is too short; the first customer-model build takes seconds
#: A demo directory user per role (metrics/users.yaml): wang manages East, analyst sees every region.
ROLE_USERS = {"admin": "admin", "manager": "wang", "business": "analyst"}

SMALL_SUITE = """\
# a two-case suite for the admin page tests
cases:
  - id: revenue_by_region_2025_zh
    question: 2025年各地区的销售额
    check_sql: >-
      SELECT c.region, SUM(o.amount) FROM orders o JOIN customers c USING (customer_id)
      WHERE o.status = 'completed' AND o.order_date BETWEEN DATE '2025-01-01' AND DATE '2025-12-31' GROUP BY 1
  - id: clarify_channel_zh
    question: 渠道的销售额
    expect_status: clarify
"""


@pytest.fixture
def ui_env(tmp_path: Path, demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Environment for one app: a catalog copy, a small suite, an empty home; signed in as ``admin``."""
    catalog = tmp_path / "catalog"
    shutil.copytree(REPO / "metrics" / "catalog", catalog, ignore=shutil.ignore_patterns(".history"))
    (tmp_path / "suite.yaml").write_text(SMALL_SUITE, encoding="utf-8")
    monkeypatch.setenv("CHATBI_DB", str(demo_db))
    monkeypatch.setenv("CHATBI_CATALOG", str(catalog))
    monkeypatch.setenv("CHATBI_SUITE", str(tmp_path / "suite.yaml"))
    monkeypatch.setenv("CHATBI_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CHATBI_USER", "admin")
    monkeypatch.delenv("CHATBI_LOCAL_OPERATOR", raising=False)
    monkeypatch.delenv("CHATBI_USERS", raising=False)  # the demo directory
    monkeypatch.setenv("CHATBI_LANG", "zh")
    for name in [k for k in os.environ if k.startswith("CHATBI_LLM_")]:
        monkeypatch.delenv(name)  # the offline planner: deterministic answers
    return tmp_path


@pytest.fixture
def make_app(ui_env: Path) -> Callable[..., object]:
    from streamlit.testing.v1 import AppTest

    def make(user: str | None = None, page: str | None = None, *, role: str | None = None) -> AppTest:
        """The app signed in as ``user`` (a demo directory id), or as the demo user with ``role``."""
        os.environ["CHATBI_USER"] = user or ROLE_USERS[role or "admin"]
        at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
        at.run()
        if page:
            at.switch_page(page).run()
        assert not at.exception, at.exception
        return at

    return make

