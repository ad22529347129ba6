"""Where the app reads its warehouse, catalog, golden suite and who it serves from.

Declared once as a (name, env, default, help) table, read from the environment
``chatbi serve`` sets, so the app and its tests are pointed anywhere without
touching the repository's files (``CHATBI_CATALOG`` at a copy of the catalog).
Who is signed in is resolved per browser session in ``ui/auth.py``: an OIDC
login when ``.streamlit/secrets.toml`` has ``[auth]``, else ``user``, else the
local operator when ``local_operator`` is set — never a role from the environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from semantic_layer.loader import DEFAULT_CATALOG

REPO = Path(__file__).resolve().parent.parent

#: (field, environment variable, default, help)
SETTINGS = (
    ("db", "CHATBI_DB", "chatbi_demo.duckdb", "DuckDB warehouse file"),
    ("catalog", "CHATBI_CATALOG", str(DEFAULT_CATALOG), "catalog folder the app reads and admins edit"),
    ("suite", "CHATBI_SUITE", str(REPO / "tests" / "eval" / "suite.yaml"),
     "golden suite YAML (admin runs and promotes to it)"),
    ("user", "CHATBI_USER", "", "user directory id every session runs as when OIDC is off (chatbi serve --user)"),
    ("local_operator", "CHATBI_LOCAL_OPERATOR", "",
     "1: with no OIDC and no user, sessions run as the local operator, an admin (chatbi serve on a loopback address)"),
    ("lang", "CHATBI_LANG", "zh", "default UI language: zh | en"),
)


@dataclass(frozen=True)
class Settings:
    db: Path
    catalog: Path
    suite: Path
    user: str | None
    local_operator: bool
    lang: str


def load_settings() -> Settings:
    values = {name: os.environ.get(env) or default for name, env, default, _ in SETTINGS}
    return Settings(
        db=Path(values["db"]).expanduser().resolve(),
        catalog=Path(values["catalog"]).expanduser().resolve(),
        suite=Path(values["suite"]).expanduser().resolve(),
        user=values["user"].strip() or None,
        local_operator=values["local_operator"].strip() == "1",
        lang=values["lang"] if values["lang"] in ("zh", "en") else "zh",
    )
