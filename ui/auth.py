"""Who this browser session is: resolved on the server, never from a question.

The first of these that applies:

1. OIDC through Streamlit's own login when ``.streamlit/secrets.toml`` has an
   ``[auth]`` section: a sign-in screen until ``st.user.is_logged_in``, then
   ``st.user.email`` looked up in the user directory (``Directory.by_email``).
   An e-mail not there — or one the provider says is unverified — is refused.
2. ``CHATBI_USER`` (``chatbi serve --user ID``): that directory user.
3. ``CHATBI_LOCAL_OPERATOR=1`` (``chatbi serve`` on a loopback address without
   ``--user``): the local operator, an administrator.
4. Nobody: a screen saying how to sign in. No page, no chat input.

Rights come from the catalog's policy (``access.yaml``) via ``resolve_access``.
While the catalog on disk is invalid, the last catalog that loaded still
resolves users (or, if none did, ``access.yaml`` and ``users.yaml`` alone), so
an administrator can open the Admin page to fix it.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pydantic
import streamlit as st
import yaml
from streamlit.errors import StreamlitSecretNotFoundError

from assistant.identity import Directory, UsersFile, load_directory, operator, users_path
from semantic_layer.catalog import Catalog
from semantic_layer.errors import UserError
from semantic_layer.policy import Access, AccessPolicy, Principal, resolve_access
from semantic_layer.store import version_of

from . import components
from .i18n import t
from .resources import catalog_version, current_bi
from .settings import Settings

Source = Literal["oidc", "server", "local"]
#: Why nobody is signed in; each is also the i18n key of the screen's message.
Problem = Literal["signin_login", "signin_not_authorised", "signin_unknown_user", "signin_directory",
                  "signin_required", "signin_unavailable"]
#: Keys of ``[auth]`` that are settings of the default provider, not named providers.
_AUTH_SETTINGS = {"client_kwargs"}


@dataclass(frozen=True)
class SignIn:
    """The signed-in ``user`` and their ``access``, or the ``problem`` that stops the app."""

    user: Principal | None = None
    access: Access | None = None
    catalog: Catalog | None = None
    source: Source | None = None
    oidc: bool = False  # sign-in is through OIDC (offer sign-out)
    problem: Problem | None = None
    email: str = ""  # the OIDC e-mail that is not authorised
    error: UserError | None = None  # the directory's own message (unknown id, invalid file)
    policy: AccessPolicy | None = None  # role labels for the sidebar

    @property
    def is_admin(self) -> bool:
        return self.access is not None and self.access.is_admin


# --- resolving ------------------------------------------------------------------------------


def auth_section() -> Mapping[str, Any] | None:
    """The ``[auth]`` section of the secrets, or None: no section, or no secrets file at all."""
    try:
        section = st.secrets.get("auth")
    except (StreamlitSecretNotFoundError, FileNotFoundError):  # no secrets.toml: the usual local install
        return None
    return section if isinstance(section, Mapping) and len(section) else None


def providers(section: Mapping[str, Any]) -> list[str | None]:
    """The login buttons: the default provider (``[auth]`` holds ``client_id``) and each ``[auth.NAME]``.

    >>> providers({"redirect_uri": "u", "client_id": "c", "google": {"client_id": "g"}})
    [None, 'google']
    """
    named = [k for k, v in section.items() if isinstance(v, Mapping) and k not in _AUTH_SETTINGS]
    return ([None] if "client_id" in section else []) + named or [None]


@dataclass(frozen=True)
class Rights:
    """What resolves users: the catalog (its policy and dimension values), or while it does not load, the policy."""

    version: str  # cache key of the directory
    policy: AccessPolicy
    catalog: Catalog | None


@st.cache_resource(max_entries=4, show_spinner=False)
def _remembered() -> dict[str, Rights]:
    """Catalog folder → the rights of the last catalog that loaded there."""
    return {}


def rights(settings: Settings) -> Rights | None:
    """The current catalog; while it does not load, the last one that did, else ``access.yaml`` alone."""
    key = str(settings.catalog)
    try:
        catalog = current_bi(settings).catalog
        found = Rights(catalog_version(settings), catalog.policy, catalog)
    except UserError:
        return _remembered().get(key) or _policy_alone(settings.catalog)
    _remembered()[key] = found
    return found


def _policy_alone(root: Path) -> Rights | None:
    """The policy of a catalog that does not load, so an admin can still reach the Admin page to fix it.

    None when ``access.yaml`` itself is invalid: then nobody's rights are known.
    """
    path = root / "access.yaml"
    try:
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
        policy = AccessPolicy.model_validate(yaml.safe_load(text) or {})
    except (OSError, yaml.YAMLError, pydantic.ValidationError):
        return None
    return Rights(f"policy-{version_of(text)}", policy, None)


@st.cache_resource(max_entries=8, show_spinner=False)
def _directory(path: str, stamp: tuple[int, int], version: str, _rights: Rights) -> Directory:
    """The user directory, re-read when the file (``stamp``: mtime, size) or the catalog (``version``) changes."""
    if _rights.catalog is not None:
        return load_directory(_rights.catalog, path)
    return _unchecked_directory(Path(path))


def _unchecked_directory(path: Path) -> Directory:
    """``users.yaml`` parsed without the checks that need the catalog (roles, attribute values).

    Safe while the catalog is broken: an unknown role resolves to no rights, and
    nothing is answered anyway until the catalog loads again.
    """
    try:
        parsed = UsersFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    except (OSError, yaml.YAMLError, pydantic.ValidationError) as exc:
        raise UserError(232, f"用户目录 {path} 无效: {exc}", f"user directory {path} is invalid: {exc}") from exc
    users = {u.id: Principal(u.id, u.role, u.name, {k: tuple(v) for k, v in u.attributes.items()}, u.email)
             for u in parsed.users}
    return Directory(users, path)


def directory(found: Rights) -> Directory:
    path = users_path()
    stat = path.stat() if path.is_file() else None
    return _directory(str(path), (stat.st_mtime_ns, stat.st_size) if stat else (0, 0), found.version, found)


def signed_in(settings: Settings) -> SignIn:
    """Who this session is (see the module docstring for the order)."""
    found = rights(settings)
    catalog = found.catalog if found else None
    section = auth_section()
    if section is not None:
        if not st.user.get("is_logged_in"):  # absent before Streamlit has read the login cookie
            return SignIn(catalog=catalog, oidc=True, problem="signin_login")
        email = str(st.user.get("email") or "")
        if st.user.get("email_verified") is False:  # an address the provider did not check proves nothing
            return SignIn(catalog=catalog, oidc=True, problem="signin_not_authorised", email=email)
        return _from_directory(found, lambda d: d.by_email(email), "oidc", email=email)
    if settings.user:
        return _from_directory(found, lambda d: d.get(settings.user or ""), "server")
    if settings.local_operator:
        return _with_access(operator(), found, "local", oidc=False)
    return SignIn(catalog=catalog, problem="signin_required")


def _from_directory(found: Rights | None, lookup: Any, source: Source, email: str = "") -> SignIn:
    oidc = source == "oidc"
    if found is None:
        return SignIn(oidc=oidc, problem="signin_unavailable", email=email)
    try:
        user = lookup(directory(found))
    except UserError as exc:  # 230 unknown id, 231 no directory, 232 invalid directory
        problem: Problem = "signin_unknown_user" if exc.code == 230 else "signin_directory"
        return SignIn(catalog=found.catalog, oidc=oidc, problem=problem, error=exc, email=email)
    if user is None:
        return SignIn(catalog=found.catalog, oidc=oidc, problem="signin_not_authorised", email=email)
    return _with_access(user, found, source, oidc=oidc)


def _with_access(user: Principal, found: Rights | None, source: Source, *, oidc: bool) -> SignIn:
    policy = found.policy if found is not None else AccessPolicy()
    return SignIn(user, resolve_access(policy, user), found.catalog if found else None, source, oidc,
                  policy=policy)


def authlib_installed() -> bool:
    """``st.login`` needs Authlib (the ``auth`` extra); without it the login button would only raise."""
    return importlib.util.find_spec("authlib") is not None


def may_refresh(access: Access) -> bool:
    """Rebuilding customer models (Data page): administrators and managers."""
    return access.is_admin or access.principal.role == "manager"


# --- drawing --------------------------------------------------------------------------------


def require_signed_in(settings: Settings, lang: str) -> SignIn:
    """The signed-in session; otherwise draw the sign-in screen and stop the run (no page beyond it)."""
    sign = signed_in(settings)
    if sign.user is None or sign.access is None:
        screen(sign, lang)
        st.stop()
    return sign


def screen(sign: SignIn, lang: str) -> None:
    """Why nobody is signed in, and what to do: a login button, or whom to ask."""
    st.title(t("signin_title", lang))
    problem = sign.problem or "signin_required"
    if problem == "signin_login":
        st.info(t("signin_login", lang))
        section = auth_section() or {}
        if not authlib_installed():
            st.error(t("signin_authlib", lang))
            return
        for provider in providers(section):
            label = t("signin_with", lang, provider=provider) if provider else t("signin_button", lang)
            if st.button(components.md_escape(label), key=f"login_{provider or 'default'}", type="primary"):
                st.login(provider)
        return
    if problem == "signin_not_authorised":
        st.error(t("signin_not_authorised", lang, email=components.md_escape(sign.email or "?"),
                   path=components.md_escape(_users_file())))
    elif problem in ("signin_unknown_user", "signin_directory") and sign.error is not None:
        st.error(t(problem, lang))
        components.plain(sign.error.message("zh" if lang == "zh" else "en"))
        if sign.error.code == 230 and sign.error.suggestions:
            components.plain(t("did_you_mean", lang, names=", ".join(sign.error.suggestions)))
    else:
        st.error(t(problem, lang))
    if sign.oidc:
        sign_out_button(lang)


def sign_out_button(lang: str) -> None:
    if st.button(t("sign_out", lang), key="sign_out", icon=":material/logout:"):
        st.logout()


def _users_file() -> str:
    return Path(users_path()).name


def sidebar(sign: SignIn, lang: str) -> None:
    """Who is signed in: name, role label, the regions they see, and sign-out for OIDC."""
    user, access = sign.user, sign.access
    if user is None or access is None:
        return
    role = sign.policy.role(user.role) if sign.policy is not None else None
    label = role.label.get(lang) if role is not None else user.role
    who = f"{user.name or user.id} ({user.id})" if user.name and user.name != user.id else user.id
    key = "signed_in_local" if sign.source == "local" else "signed_in"
    st.caption(t(key, lang, user=components.md_escape(who), role=components.md_escape(label)))
    if access.restricted:
        scope = scope_text(access, sign.catalog, lang)
        st.caption(t("scope", lang, scope=components.md_escape(scope)) if scope else t("scope_none", lang))
    if sign.oidc:
        sign_out_button(lang)


def scope_text(access: Access, catalog: Catalog | None, lang: str) -> str:
    """The values row rules let the user see, labelled: ``地区: 华东、华北``."""
    parts = []
    for ref, values in sorted(access.allowed_values().items()):
        labels = {v: v for v in values}
        name = ref
        if catalog is not None:
            try:
                dim = catalog.find_dimension(ref)
            except UserError:
                dim = None
            if dim is not None:
                name = dim.label.get(lang) if dim.label else dim.name
                labels.update({v.value: v.label.get(lang) for v in dim.values if v.value in values})
        sep = "、" if lang == "zh" else ", "
        parts.append(f"{name}: {sep.join(labels[v] for v in sorted(values))}")
    return "; ".join(parts)
