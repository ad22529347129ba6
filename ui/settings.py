"""Where the app reads its warehouse, catalog, golden suite and the user's role from.

Declared once as a (name, env, default, help) table, read from the environment
``chatbi serve`` sets, so the app and its tests are pointed anywhere without
touching the repository's files (``CHATBI_CATALOG`` at a copy of the catalog).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from semantic_layer.loader import DEFAULT_CATALOG

Role = Literal["admin", "manager", "business"]
ROLES: tuple[Role, ...] = ("admin", "manager", "business")
REPO = Path(__file__).resolve().parent.parent

#: (field, environment variable, default, help)
SETTINGS = (
    ("db", "CHATBI_DB", "chatbi_demo.duckdb", "DuckDB warehouse file"),
    ("catalog", "CHATBI_CATALOG", str(DEFAULT_CATALOG), "catalog folder the app reads and admins edit"),
    ("suite", "CHATBI_SUITE", str(REPO / "tests" / "eval" / "suite.yaml"),
     "golden suite YAML (admin runs and promotes to it)"),
    ("role", "CHATBI_ROLE", "business", "admin | manager | business (Admin page for admins only)"),
    ("lang", "CHATBI_LANG", "zh", "default UI language: zh | en"),
)


@dataclass(frozen=True)
class Settings:
    db: Path
    catalog: Path
    suite: Path
    role: Role
    lang: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def load_settings() -> Settings:
    values = {name: os.environ.get(env) or default for name, env, default, _ in SETTINGS}
    role: Role = "business"  # unknown role: least privilege
    for known in ROLES:
        if values["role"] == known:
            role = known
    return Settings(
        db=Path(values["db"]).expanduser().resolve(),
        catalog=Path(values["catalog"]).expanduser().resolve(),
        suite=Path(values["suite"]).expanduser().resolve(),
        role=role,
        lang=values["lang"] if values["lang"] in ("zh", "en") else "zh",
    )
