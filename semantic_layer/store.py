"""Versioned, validated saves of catalog files: what the admin page edits through.

A file's *version* is the hash of its bytes. ``save(rel, text, expected_version)``
is a compare-and-swap: it refuses when the file changed since the editor loaded
it (``StaleVersionError``), validates the whole catalog with the edit in place
(``load_catalog(root, overrides={rel: text})`` plus any extra validator, e.g. the
playbook's) and never writes an invalid file (``CatalogError`` with every issue).
Writes are atomic (temp file + fsync + ``os.replace``) under a lock file, and
every version written — plus the one it replaced — is kept under
``<root>/.history/<rel>/`` as ``<UTC timestamp>_<version>.yaml``, so
``restore(rel, version, expected_version)`` can bring any of them back (through
the same validation). Who saved or restored a version (``author``, when the
caller says) is appended to ``<UTC timestamp>_<version>.log`` beside it, one
JSON line per save or restore.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .catalog import Catalog
from .errors import CatalogError, Issue, UserError
from .loader import DEFAULT_CATALOG, load_catalog

#: Extra check for one file (the playbook): (catalog with the edit, file text, file path) -> issues.
Validator = Callable[[Catalog, str, str], list[Issue]]

MISSING = "missing"  # the version of a file that does not exist yet
HISTORY = ".history"
#: Files an admin may edit: the project, one model or metric area per file, the playbook.
_EDITABLE = re.compile(r"^(project\.yaml|playbook\.yaml|access\.yaml|(models|metrics)/[a-z][a-z0-9_]*\.yaml)$")


def version_of(text: str) -> str:
    """The content hash an editor remembers when it loads a file.

    >>> version_of("a: 1\\n")
    '37b128c59f1f5097'
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class StaleVersionError(UserError):
    """The file changed after the editor loaded it; saving would overwrite someone's edit."""


@dataclass(frozen=True)
class HistoryEntry:
    rel: str
    version: str
    saved_at: dt.datetime  # UTC
    path: Path
    #: Who last made this version current, how (``save`` | ``restore``) and when (UTC); None when not recorded.
    author: str | None = None
    action: str | None = None
    changed_at: dt.datetime | None = None

    def read(self) -> str:
        return self.path.read_text(encoding="utf-8")


@dataclass(frozen=True)
class CheckResult:
    """Every issue found for an edit; ``ok`` when none is an error."""

    issues: tuple[Issue, ...]
    catalog: Catalog | None

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.level == "error"]

    @property
    def ok(self) -> bool:
        return not self.errors and self.catalog is not None


class CatalogStore:
    """Read, validate, save, list history of and restore the files of one catalog folder."""

    def __init__(self, root: str | Path | None = None, *, validators: Mapping[str, Validator] | None = None) -> None:
        self.root = Path(root or DEFAULT_CATALOG).resolve()
        self.validators = dict(validators or {})

    # --- reading ------------------------------------------------------------------

    def files(self) -> list[str]:
        """Editable files, relative to the root: project first, then models, metrics, playbook, access."""
        found = [f for f in ("project.yaml",) if (self.root / f).exists()]
        for folder in ("models", "metrics"):
            found += sorted(f"{folder}/{p.name}" for p in (self.root / folder).glob("*.yaml"))
        found += [f for f in ("playbook.yaml", "access.yaml") if (self.root / f).exists()]
        return [f for f in found if _EDITABLE.match(f)]

    def path(self, rel: str) -> Path:
        if not _EDITABLE.match(rel):
            raise UserError(160, f"不能编辑文件 '{rel}'(只允许 project.yaml、playbook.yaml、access.yaml、models/*.yaml、metrics/*.yaml)",
                            f"cannot edit '{rel}' (only project.yaml, playbook.yaml, access.yaml, models/*.yaml, "
                            "metrics/*.yaml)")
        return self.root / rel

    def read(self, rel: str) -> tuple[str, str]:
        """The file's text and version (``("", MISSING)`` for a file not created yet)."""
        path = self.path(rel)
        if not path.exists():
            return "", MISSING
        text = path.read_text(encoding="utf-8")
        return text, version_of(text)

    def version(self, rel: str) -> str:
        return self.read(rel)[1]

    def catalog_version(self) -> str:
        """One hash over every editable file: changes whenever any of them does."""
        digest = hashlib.sha256()
        for rel in self.files():
            digest.update(f"{rel}:{self.version(rel)};".encode())
        return digest.hexdigest()[:16]

    # --- validation -----------------------------------------------------------------

    def check(self, rel: str, text: str) -> CheckResult:
        """Validate the catalog as it would be with ``text`` saved at ``rel``."""
        self.path(rel)
        issues: list[Issue] = []
        try:
            catalog: Catalog | None = load_catalog(self.root, overrides={rel: text})
        except CatalogError as exc:
            return CheckResult(tuple(exc.issues) or (_issue(exc),), None)
        assert catalog is not None
        issues += catalog.warnings
        for other, validator in self.validators.items():
            other_text = text if other == rel else self.read(other)[0]
            if other == rel or self.path(other).exists():
                issues += validator(catalog, other_text, str(self.root / other))
        return CheckResult(tuple(issues), catalog)

    # --- writing --------------------------------------------------------------------

    def save(self, rel: str, text: str, expected_version: str, *, author: str | None = None) -> str:
        """Validate and write ``text``; return its new version. ``author`` is recorded in the history.

        Raises ``StaleVersionError`` when the file is no longer at ``expected_version``
        and ``CatalogError`` (every issue) when the edit does not validate.
        """
        return self._save(rel, text, expected_version, author, "save")

    def _save(self, rel: str, text: str, expected_version: str, author: str | None, action: str) -> str:
        path = self.path(rel)
        with self._locked():
            current_text, current = self.read(rel)
            if current != expected_version:
                raise StaleVersionError(
                    161, f"{rel} 在您打开后已被修改(当前版本 {current}, 您编辑的是 {expected_version})。"
                         "为避免覆盖他人的修改, 未保存。请重新加载后再合并您的修改。",
                    f"{rel} changed after you opened it (now {current}, you edited {expected_version}). "
                    "Not saved, so nobody's edit is overwritten: reload and re-apply your change.")
            result = self.check(rel, text)
            if not result.ok:
                errors = result.errors
                raise CatalogError(162, f"{rel} 有 {len(errors)} 个错误, 未保存",
                                   f"{rel} has {len(errors)} error(s); not saved", issues=errors)
            new_version = version_of(text)
            if current != MISSING:
                self._remember(rel, current_text, current)
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, text)
            self._remember(rel, text, new_version, author, action)
            return new_version

    def history(self, rel: str) -> list[HistoryEntry]:
        """Saved versions of ``rel``, newest first."""
        folder = self._history_dir(rel)
        entries = []
        for p in folder.glob("*.yaml") if folder.exists() else []:
            stamp, _, version = p.stem.partition("_")
            try:
                saved = dt.datetime.strptime(stamp, "%Y%m%dT%H%M%S%fZ").replace(tzinfo=dt.UTC)
            except ValueError:
                continue
            entries.append(HistoryEntry(rel, version, saved, p, *_last_event(p.with_suffix(".log"))))
        return sorted(entries, key=lambda e: e.saved_at, reverse=True)

    def restore(self, rel: str, version: str, expected_version: str, *, author: str | None = None) -> str:
        """Save an earlier version again (validated like any edit); return the new current version."""
        entry = next((e for e in self.history(rel) if e.version == version), None)
        if entry is None:
            raise UserError(163, f"{rel} 没有版本 {version}", f"{rel} has no saved version {version}")
        return self._save(rel, entry.read(), expected_version, author, "restore")

    def _history_dir(self, rel: str) -> Path:
        self.path(rel)
        return self.root / HISTORY / rel

    def _remember(self, rel: str, text: str, version: str, author: str | None = None,
                  action: str = "save") -> None:
        folder = self._history_dir(rel)
        folder.mkdir(parents=True, exist_ok=True)
        now = dt.datetime.now(dt.UTC)
        found = next(iter(sorted(folder.glob(f"*_{version}.yaml"))), None)
        if found is None:
            found = folder / f"{now.strftime('%Y%m%dT%H%M%S%fZ')}_{version}.yaml"
            write_atomic(found, text)
        if author:
            event = {"ts": now.isoformat(timespec="seconds"), "author": author, "action": action}
            with found.with_suffix(".log").open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(event, ensure_ascii=False) + "\n")

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """One writer at a time across processes (two app servers on one catalog)."""
        lock_dir = self.root / HISTORY
        lock_dir.mkdir(parents=True, exist_ok=True)
        with open(lock_dir / ".lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)


def write_atomic(path: Path, text: str) -> None:
    """Temp file in the same folder, fsync, rename over ``path``, fsync the folder."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _last_event(log: Path) -> tuple[str | None, str | None, dt.datetime | None]:
    """(author, action, time) of the last line of a version's event log; Nones when there is none."""
    try:
        lines = log.read_text(encoding="utf-8").splitlines()
        event = json.loads(lines[-1])
        return str(event["author"]), str(event.get("action") or "save"), dt.datetime.fromisoformat(event["ts"])
    except (OSError, IndexError, KeyError, ValueError, TypeError):
        return None, None, None


def _issue(exc: CatalogError) -> Issue:
    return Issue("error", exc.code, exc.message_zh, exc.message_en)
