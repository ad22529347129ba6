"""Who is asking: users and their roles from a YAML directory, resolved on the server.

The directory (``users.yaml``) lists each user's id, role, e-mail (the key an
OIDC login maps to) and attributes that row rules read (``regions``). Where
it is: ``$CHATBI_USERS``, else ``$CHATBI_HOME/users.yaml``, else the demo
directory shipped beside the catalog (``metrics/users.yaml``). Identity comes
from the CLI's ``--user``, the server's ``--user`` or the OIDC login, never from
a question.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field

from semantic_layer.catalog import Catalog
from semantic_layer.errors import CatalogError, Issue, UserError, closest
from semantic_layer.loader import validate_located
from semantic_layer.policy import ALL, Principal
from semantic_layer.schema import Name, Strict
from semantic_layer.yaml_lines import read_yaml

DEMO_USERS = Path(__file__).resolve().parent.parent / "metrics" / "users.yaml"


class UserSpec(Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]*$", max_length=64)
    name: str = ""
    role: Name
    email: str | None = None
    attributes: dict[Name, list[str]] = {}


class UsersFile(Strict):
    users: list[UserSpec] = []


@dataclass(frozen=True)
class Directory:
    users: Mapping[str, Principal]
    path: Path

    def get(self, user_id: str) -> Principal:
        if user_id not in self.users:
            raise UserError(230, f"用户 '{user_id}' 不在用户目录 {self.path} 中", f"user '{user_id}' is not in the user directory {self.path}",
                            closest(user_id, self.users))
        return self.users[user_id]

    def by_email(self, email: str | None) -> Principal | None:
        """The user an OIDC login maps to (e-mail, case-insensitive)."""
        wanted = (email or "").strip().lower()
        return next((p for p in self.users.values() if wanted and (p.email or "").lower() == wanted), None)


def users_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get("CHATBI_USERS"):
        return Path(env["CHATBI_USERS"]).expanduser()
    home = Path(env.get("CHATBI_HOME") or Path.home() / ".chatbi").expanduser() / "users.yaml"
    return home if home.is_file() else DEMO_USERS


def load_directory(catalog: Catalog, path: str | Path | None = None) -> Directory:
    """Read and check the user directory; every problem is reported with its line."""
    file = Path(path) if path else users_path()
    if not file.is_file():
        raise UserError(231, f"找不到用户目录 {file}", f"user directory {file} not found", ["CHATBI_USERS"])
    located, issues = read_yaml(file.read_text(encoding="utf-8"), str(file))
    parsed = validate_located(located, UsersFile, issues) if located is not None else None
    if parsed is not None and located is not None:
        issues += list(_check(parsed, catalog, located))
    if parsed is None or issues:
        raise CatalogError(232, f"用户目录 {file} 有 {len(issues)} 个错误", f"user directory {file} has {len(issues)} error(s)",
                           issues=issues)
    users = {u.id: Principal(u.id, u.role, u.name, {k: tuple(v) for k, v in u.attributes.items()}, u.email)
             for u in parsed.users}
    return Directory(users, file)


def _check(parsed: UsersFile, catalog: Catalog, located) -> list[Issue]:  # type: ignore[no-untyped-def]
    """Roles exist; ids unique; attribute values are values of the rule dimension (or "*")."""
    policy = catalog.policy
    issues: list[Issue] = []
    known: dict[str, set[str]] = {}
    for rule in policy.row_rules:
        if rule.user_attribute and rule.dimension:
            values = {v.value for v in catalog.find_dimension(rule.dimension).values}
            if values:
                known[rule.user_attribute] = values | {ALL}
    seen: set[str] = set()
    for i, user in enumerate(parsed.users):
        def issue(code: int, zh: str, en: str, field: str) -> None:
            issues.append(Issue("error", code, zh, en, located.file, located.line_of(("users", i, field)), f"users[{i}].{field}"))
        if user.id in seen:
            issue(233, f"用户 '{user.id}' 重复", f"user '{user.id}' is listed twice", "id")
        seen.add(user.id)
        if user.role not in policy.roles:
            hint = ", ".join(closest(user.role, policy.roles))
            issue(234, f"角色 '{user.role}' 未在 access.yaml 中定义; 可用: {', '.join(policy.roles)}",
                  f"role '{user.role}' is not defined in access.yaml; defined: {', '.join(policy.roles)}"
                  + (f"; did you mean {hint}?" if hint else ""), "role")
        for attr, values in user.attributes.items():
            bad = [v for v in values if attr in known and v not in known[attr]]
            if bad:
                issue(235, f"属性 {attr} 的取值 {', '.join(bad)} 无效; 可用: {', '.join(sorted(known[attr]))}",
                      f"attribute {attr} has unknown value(s) {', '.join(bad)}; valid: {', '.join(sorted(known[attr]))}",
                      "attributes")
    return issues


def operator() -> Principal:
    """The person running the CLI on their own machine: a local administrator."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "local"
    return Principal.local(name)


def resolve_user(catalog: Catalog, user_id: str | None, *, users_file: str | Path | None = None) -> Principal:
    """``--user ID`` from the directory, or the local operator when none is given."""
    if not user_id:
        return operator()
    return load_directory(catalog, users_file).get(user_id)
