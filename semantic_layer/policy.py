"""Who may see which rows and columns: roles, row rules and limits (``access.yaml``).

Row rules are *grants*: a protected model shows a role only the rows some rule
grants it, so a protected model with no rule for a role shows nothing (default
deny). A rule grants either all rows or the rows whose value of one dimension
(``customers.region``) is among the user's attribute values (``regions``);
a user without the attribute is granted nothing by that rule, ``"*"`` grants
every value. The compiler applies the grants to every source it reads
(see ``expressions.Scope.source``), so follow-ups, customer-level models and
analyses are filtered the same way as plain metrics.

Identity is resolved on the server side into a ``Principal``; nothing in a
question can change it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from pydantic import Field, model_validator

from .schema import FieldRef, Name, Strict, Text

ALL = "*"  # an attribute value granting every value of the rule's dimension


class RoleSpec(Strict):
    label: Text
    #: ``masked``: PII columns come back masked (张*, 138****5678); ``visible``: as stored.
    pii: Literal["visible", "masked"] = "masked"
    #: ``bypass``: row rules do not apply (administrators).
    row_rules: Literal["apply", "bypass"] = "apply"
    #: May open the Admin and Audit pages and edit the catalog.
    admin: bool = False


class RowRule(Strict):
    """Grants ``roles`` rows of ``models``: all of them, or those matching the user's attribute."""

    name: Name
    label: Text
    roles: list[Name] = Field(min_length=1)
    models: list[Name] = Field(min_length=1)
    all_rows: bool = False
    dimension: FieldRef | None = None
    user_attribute: Name | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> RowRule:
        by_attribute = self.dimension is not None and self.user_attribute is not None
        if self.all_rows == by_attribute:
            raise ValueError("a row rule sets either all_rows: true, or both dimension and user_attribute")
        return self


class Limits(Strict):
    max_question_chars: int = Field(default=500, gt=0)
    #: Questions one user may ask per minute (0: unlimited).
    questions_per_minute: int = Field(default=30, ge=0)
    #: Wall time of one query before the engine stops it.
    query_seconds: float = Field(default=30.0, gt=0)
    #: DuckDB memory limit for the engine (shared by concurrent queries).
    memory: str = Field(default="2GB", pattern=r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$")


class AuditSettings(Strict):
    #: Days audit rows are kept; 0 keeps them forever.
    retention_days: int = Field(default=180, ge=0)


def _default_roles() -> dict[str, RoleSpec]:
    return {
        "admin": RoleSpec(label=Text(zh="管理员", en="Admin"), pii="visible", row_rules="bypass", admin=True),
        "manager": RoleSpec(label=Text(zh="经理", en="Manager")),
        "business": RoleSpec(label=Text(zh="业务人员", en="Business user")),
    }


class AccessPolicy(Strict):
    roles: dict[Name, RoleSpec] = Field(default_factory=_default_roles)
    #: Models whose rows only row rules grant.
    protected_models: list[Name] = []
    row_rules: list[RowRule] = []
    limits: Limits = Limits()
    audit: AuditSettings = AuditSettings()

    def role(self, name: str) -> RoleSpec | None:
        return self.roles.get(name)


@dataclass(frozen=True)
class Principal:
    """A signed-in user as the server knows them; never built from a question."""

    id: str
    role: str
    name: str = ""
    #: attribute → allowed values; ``("*",)`` means all.
    attributes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    email: str | None = None
    #: The operator of a local install, who holds the warehouse file anyway: not rate-limited.
    is_local: bool = False

    @classmethod
    def local(cls, user: str = "local") -> Principal:
        """The operator of a local install (CLI on one's own machine): an administrator."""
        return cls(id=user, role="admin", name=user, is_local=True)

    def label(self) -> str:
        return f"{self.name or self.id} ({self.role})"


@dataclass(frozen=True)
class Grant:
    """Rows whose ``dimension`` value is in ``values``; ``values=None`` grants all rows."""

    rule: str
    dimension: str | None = None
    values: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Access:
    """A principal's effective rights under a policy, as the compiler applies them.

    ``grants[model]`` lists what a protected model shows: empty means nothing
    (default deny); a model absent from ``grants`` is unrestricted.
    """

    principal: Principal
    see_pii: bool
    is_admin: bool
    grants: Mapping[str, tuple[Grant, ...]]

    @property
    def restricted(self) -> bool:
        return any(not any(g.values is None for g in gs) for gs in self.grants.values())

    def model_grants(self, model: str) -> tuple[Grant, ...] | None:
        """None: every row; otherwise the grants (empty: no rows)."""
        grants = self.grants.get(model)
        if grants is None or any(g.values is None for g in grants):
            return None
        return grants

    def allowed_values(self) -> dict[str, set[str]]:
        """Dimension → values the user may see, over all restricted models."""
        out: dict[str, set[str]] = {}
        for model in self.grants:
            for g in self.model_grants(model) or ():
                if g.dimension is not None and g.values is not None:
                    out.setdefault(g.dimension, set()).update(g.values)
        return out


#: Full rights and no restrictions: the compiler's behaviour without a principal.
def unrestricted(principal: Principal | None = None) -> Access:
    return Access(principal or Principal.local(), see_pii=True, is_admin=True, grants={})


def resolve_access(policy: AccessPolicy, principal: Principal) -> Access:
    """Apply the policy to a principal; an unknown role gets no rows and no PII."""
    role = policy.role(principal.role)
    if role is None:
        return Access(principal, see_pii=False, is_admin=False,
                      grants={m: () for m in policy.protected_models})
    if role.row_rules == "bypass":
        return Access(principal, see_pii=role.pii == "visible", is_admin=role.admin, grants={})
    grants: dict[str, tuple[Grant, ...]] = {}
    for model in policy.protected_models:
        found: list[Grant] = []
        for rule in policy.row_rules:
            if principal.role not in rule.roles or model not in rule.models:
                continue
            if rule.all_rows:
                found.append(Grant(rule.name))
                continue
            values = tuple(principal.attributes.get(rule.user_attribute or "", ()))
            if ALL in values:
                found.append(Grant(rule.name))
            elif values:
                found.append(Grant(rule.name, rule.dimension, values))
        grants[model] = tuple(found)
    return Access(principal, see_pii=role.pii == "visible", is_admin=role.admin, grants=grants)
