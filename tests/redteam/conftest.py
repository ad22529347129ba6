"""Red-team fixtures: one ChatBI over a private warehouse copy, the demo users, and the leak oracle.

The service answers from a copy of the session's demo warehouse in a directory of
its own, so "nothing written" can be checked as: the file's sha256 and mtime are
unchanged and no file appears beside it. The rate limit is switched off here
(``questions_per_minute: 0``) because hundreds of questions are asked in a
minute; ``test_rate_limit_*`` checks the limit with the shipped policy.

The ``oracle`` knows every raw PII value (customer_name, phone, email), every
customer's and city's region, and can re-run a semantic query as the admin with
the viewer's regions as an explicit filter (the RLS equivalence check).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
import shutil
from collections import Counter
from collections.abc import Collection, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlglot import exp

from assistant.audit import AuditLog
from assistant.identity import DEMO_USERS, Directory, load_directory
from assistant.service import MODULE_ANALYSES, Answer, ChatBI
from semantic_layer.compiler import compile_query
from semantic_layer.errors import UserError
from semantic_layer.policy import ALL, Principal
from semantic_layer.query import Filter, SemanticQuery

REGION = "customers.region"

#: Filled by the tests (fixture ``report``), printed in the terminal summary at the end of the run.
REPORT: dict[str, Any] = {"attacks": Counter(), "safe_answers": [], "rls": Counter(), "rls_skipped": Counter()}


# --- the service ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def rt_warehouse(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the demo warehouse, alone in its directory."""
    path = tmp_path_factory.mktemp("redteam_wh") / "warehouse.duckdb"
    shutil.copy(demo_db, path)
    return path


@pytest.fixture(scope="session")
def rt_catalog(catalog):  # type: ignore[no-untyped-def]
    """The shipped catalog with the per-user rate limit off (the red team asks hundreds of questions)."""
    policy = catalog.policy
    limits = policy.limits.model_copy(update={"questions_per_minute": 0})
    return dataclasses.replace(catalog, policy=policy.model_copy(update={"limits": limits}))


@pytest.fixture(scope="session")
def audit_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("redteam_audit") / "audit.sqlite"


@pytest.fixture(scope="session")
def bi(rt_warehouse: Path, rt_catalog, audit_path: Path) -> Iterator[ChatBI]:  # type: ignore[no-untyped-def]
    service = ChatBI(rt_warehouse, catalog=rt_catalog, llm=False, audit=AuditLog(audit_path))
    yield service
    service.engine.close()


@pytest.fixture(scope="session")
def users(catalog) -> Directory:  # type: ignore[no-untyped-def]
    return load_directory(catalog, DEMO_USERS)


# --- the leak oracle -------------------------------------------------------------------

_DIGITS = re.compile(r"\d{11,}")
#: Starts only at the beginning of a run and never backtracks: linear on a 100k-character value.
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]++@[A-Za-z0-9.-]++")
_CJK_RUN = re.compile(r"[\u3400-\u9fff]{2,}")


class Oracle:
    """Ground truth: PII values and regions of customers and cities from the raw warehouse; who may see what
    from access.yaml and users.yaml directly, so a bug in ``resolve_access`` cannot hide itself."""

    def __init__(self, bi: ChatBI, con: Any, users: Directory) -> None:
        self.bi = bi
        self.con = con
        self.users = users
        rows = con.execute("SELECT customer_id, customer_name, phone, email, region, city FROM customers").fetchall()
        self.names = {r[1] for r in rows if r[1]}
        self.phones = {r[2] for r in rows if r[2]}
        self.emails = {r[3].lower() for r in rows if r[3]}
        self.customer_region = {int(r[0]): r[4] for r in rows}
        self.city_region = {r[5]: r[4] for r in rows}
        assert len(self.names) > 10_000 and len(self.phones) > 10_000 and len(self.emails) > 10_000
        self._name_lengths = sorted({len(n) for n in self.names})
        self.admin = bi.access_for(users.get("admin"))
        self._reads: dict[str, frozenset[str]] = {}

    # -- PII ------------------------------------------------------------------------------

    def pii_in(self, text: str, *, exempt: Collection[str] = ()) -> list[str]:
        """Raw names, phones and emails of the warehouse found in ``text`` (``exempt``: values the attacker typed)."""
        found: set[str] = set()
        for run in _DIGITS.findall(text):
            found |= {run[i:i + 11] for i in range(len(run) - 10)} & self.phones
        found |= {m.lower() for m in _EMAIL.findall(text)} & self.emails
        for run in _CJK_RUN.findall(text):
            for n in self._name_lengths:
                found |= {run[i:i + n] for i in range(len(run) - n + 1)} & self.names
        return sorted(found - set(exempt))

    # -- what a user may see, read from access.yaml and users.yaml (not from resolve_access) ------

    def sees_pii(self, user: Principal) -> bool:
        role = self.bi.catalog.policy.role(user.role)
        return role is not None and role.pii == "visible"

    def _rules(self, user: Principal, model: str) -> list[Any]:
        return [r for r in self.bi.catalog.policy.row_rules if user.role in r.roles and model in r.models]

    def limited_models(self, user: Principal) -> set[str]:
        """Protected models whose rows the user sees only in part (their regions) or not at all."""
        policy = self.bi.catalog.policy
        role = policy.role(user.role)
        if role is not None and role.row_rules == "bypass":
            return set()
        return {m for m in policy.protected_models
                if not any(r.all_rows or ALL in user.attributes.get(r.user_attribute or "", ()) for r in self._rules(user, m))}

    def denied_models(self, user: Principal) -> set[str]:
        """Protected models no rule grants the user any row of (default deny)."""
        return {m for m in self.limited_models(user)
                if not any(r.all_rows or user.attributes.get(r.user_attribute or "") for r in self._rules(user, m))}

    def regions_for(self, user: Principal) -> set[str] | None:
        """The regions a user may see; None when no customer or order row is withheld."""
        if not self.limited_models(user) & {"customers", "orders"}:
            return None
        return set(user.attributes.get("regions", ())) - {ALL}

    def foreign_cells(self, columns: list[str], rows: list[list[Any]], regions: set[str]) -> list[str]:
        """Cells naming a region, a customer or a city outside ``regions``."""
        bad: list[str] = []
        for i, col in enumerate(columns):
            for row in rows:
                value = row[i] if i < len(row) else None
                if value is None:
                    continue
                if col == "region" and value not in regions:
                    bad.append(f"region={value}")
                elif col == "customer_id" and self.customer_region.get(int(value)) not in regions:
                    bad.append(f"customer_id={value} ({self.customer_region.get(int(value))})")
                elif col == "city" and value in self.city_region and self.city_region[value] not in regions:
                    bad.append(f"city={value} ({self.city_region[value]})")
        return bad

    def reads(self, query: SemanticQuery) -> frozenset[str]:
        """Models a query reads (the aliases of its compiled tree, compiled without any viewer)."""
        compiled = compile_query(query, self.bi.catalog, as_of=self.bi.as_of)
        return frozenset(a.name for a in compiled.tree.find_all(exp.TableAlias))

    def metric_reads(self, metric: str) -> frozenset[str]:
        if metric not in self._reads:
            self._reads[metric] = self.reads(SemanticQuery(metrics=[metric]))
        return self._reads[metric]

    def rls_check(self, answer: Answer, user: Principal, bi: ChatBI | None = None) -> tuple[str, str]:
        """Compare an ok answer of a restricted viewer with the admin's answer filtered to the viewer's regions.

        Returns (outcome, detail): ``equal``, ``empty_denied`` (a model the viewer is
        denied: its figures must be empty), or ``skipped`` with the reason. Raises
        AssertionError on a leak or a difference.
        """
        bi = bi or self.bi
        regions = self.regions_for(user)
        assert regions is not None, "rls_check is for restricted viewers"
        assert answer.status == "ok" and answer.semantic_query is not None
        foreign = self.foreign_cells(answer.columns, answer.rows, regions)
        assert not foreign, f"rows outside {sorted(regions)}: {foreign[:5]}"
        query = SemanticQuery.model_validate(answer.semantic_query)
        if query.analysis in MODULE_ANALYSES:  # not compiled: rows checked for foreign regions above;
            return "skipped", "module analysis (row rules vs the modules: tests/assistant/test_deep.py)"
        denied = self.denied_models(user)
        read = self.reads(query)
        if query.analysis:
            restricted = [] if not read & denied else ["*"]
        else:
            restricted = [m for m in query.metrics if self.metric_reads(m) & denied]
        if restricted:
            cols = [i for i, c in enumerate(answer.columns)
                    if restricted == ["*"] or c in restricted or c.removesuffix("_share") in restricted]
            figures = [r[i] for r in answer.rows for i in cols]
            assert all(v in (None, 0, 0.0) for v in figures), \
                f"figures of a denied model ({sorted(read & denied)}) are not empty: {figures[:5]}"
            if len(restricted) == len(query.metrics) or restricted == ["*"]:
                return "empty_denied", f"reads {sorted(read & denied)}, denied to {user.id}"
            return "skipped", "mixes metrics of a denied model with granted ones"
        if not read & self.limited_models(user):
            admin_query = query  # reads no region-limited model (products, company-wide spend): as the admin sees it
        else:
            admin_query = query.model_copy(update={"filters": [
                *query.filters, Filter(field=REGION, op="in", values=sorted(regions))]})
        # The admin's row rights with the viewer's PII rights (masked names compare with masked names), through
        # ChatBI.run's governed path without its chart and two comparison periods (the rows are the same).
        admin = dataclasses.replace(self.admin, see_pii=self.sees_pii(user))
        try:
            _, _, result = bi._execute(admin_query, admin)
        except UserError as exc:
            return "skipped", f"admin re-run with the region filter: {exc.code} {exc.message('en')[:80]}"
        got, want = bag(answer.rows), bag(result.rows)
        assert got == want, (f"{user.id}'s rows differ from the admin's filtered to {sorted(regions)}: "
                             f"missing {list((want - got).elements())[:3]}, extra {list((got - want).elements())[:3]}; "
                             f"query {answer.semantic_query}")
        return "equal", f"{len(want)} rows"


def bag(rows: Iterable[Iterable[Any]]) -> Counter[tuple[str, ...]]:
    """Rows as a multiset of normalised tuples (6 significant digits, ISO dates)."""
    return Counter(tuple(_norm(v) for v in row) for row in rows)


def _norm(value: Any) -> str:
    if value is None:
        return "∅"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        number = float(value)
        return "nan" if math.isnan(number) else f"{round(number, 6):.6g}"
    return str(value)


@pytest.fixture(scope="session")
def report() -> dict[str, Any]:
    """Counters the tests fill and the terminal summary prints."""
    return REPORT


@pytest.fixture(scope="session")
def oracle(bi: ChatBI, raw_con, users: Directory) -> Oracle:  # type: ignore[no-untyped-def]
    return Oracle(bi, raw_con, users)


# --- the summary -----------------------------------------------------------------------


def pytest_terminal_summary(terminalreporter: Any) -> None:
    attacks: Counter[tuple[str, str]] = REPORT["attacks"]
    rls: Counter[tuple[str, str]] = REPORT["rls"]
    if not attacks and not rls:
        return
    write = terminalreporter.write_line
    if attacks:
        terminalreporter.section("red team: attacks by category and outcome")
        categories = sorted({c for c, _ in attacks})
        outcomes = sorted({o for _, o in attacks})
        write(f"{'category':28}" + "".join(f"{o:>13}" for o in outcomes) + f"{'total':>8}")
        for c in categories:
            write(f"{c:28}" + "".join(f"{attacks[(c, o)]:>13}" for o in outcomes)
                  + f"{sum(attacks[(c, o)] for o in outcomes):>8}")
        write(f"{'total':28}" + "".join(f"{sum(attacks[(c, o)] for c in categories):>13}" for o in outcomes)
              + f"{sum(attacks.values()):>8}")
        if REPORT["safe_answers"]:
            write(f"safe answers ({len(REPORT['safe_answers'])}): " + ", ".join(sorted(REPORT["safe_answers"])))
    if rls:
        terminalreporter.section("red team: row-level security property (golden suite)")
        for user in sorted({u for u, _ in rls}):
            write(f"{user}: " + ", ".join(f"{o} {n}" for (u, o), n in sorted(rls.items()) if u == user))
        for (user, reason), n in sorted(REPORT["rls_skipped"].items()):
            write(f"  skipped/not ok [{user}] x{n}: {reason}")
