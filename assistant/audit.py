"""Audit log: who asked what, how it was answered, in one SQLite table.

The CLI and the Streamlit server may write at the same time, from several
threads and processes: every call opens its own connection (nothing shared
between threads), the database runs in WAL mode (readers never block the
writer) and waits up to ``BUSY_TIMEOUT_S`` for the write lock instead of
failing. Each write is one statement, so it is its own transaction.

Text is stored masked (``semantic_layer.masking.mask_text``): a phone number,
email or ID-card number typed into a question never reaches the log, nor the
semantic query or SQL built from it. Rows older than the retention period
are purged when a log is opened and every ``PURGE_EVERY`` records.

Path: ``$CHATBI_AUDIT``, else ``$CHATBI_HOME/audit.sqlite``. Retention is the
caller's (the catalog's access policy); 0 or less keeps rows forever.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from semantic_layer.errors import InternalError, UserError
from semantic_layer.masking import mask_text

from .session import chatbi_home

STATUSES = ("ok", "clarify", "refused", "error")
DEFAULT_RETENTION_DAYS = 180
PURGE_EVERY = 500
BUSY_TIMEOUT_S = 15.0
#: Fixed width, UTC, so timestamps compare and sort as text: 2025-01-02T03:04:05.000006Z.
TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts TEXT NOT NULL,
    user_id TEXT NOT NULL,
    role TEXT NOT NULL,
    session_id TEXT,
    lang TEXT NOT NULL,
    planner TEXT NOT NULL,
    status TEXT NOT NULL,
    question TEXT NOT NULL,
    semantic_query TEXT,
    sql TEXT,
    rows_returned INTEGER NOT NULL DEFAULT 0,
    duration_ms REAL NOT NULL DEFAULT 0,
    error_code INTEGER,
    message TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS audit_user_ts ON audit (user_id, ts);
CREATE INDEX IF NOT EXISTS audit_ts ON audit (ts);
"""
COLUMNS = ("id", "ts", "user_id", "role", "session_id", "lang", "planner", "status", "question", "semantic_query",
           "sql", "rows_returned", "duration_ms", "error_code", "message")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class AuditEntry:
    """One question and its outcome (``status``: ok | clarify | refused | error)."""

    user_id: str
    role: str
    question: str
    status: str
    lang: str = "zh"
    session_id: str | None = None
    planner: str = "offline"
    semantic_query: dict[str, Any] | None = None
    sql: str | None = None
    rows_returned: int = 0
    duration_ms: float = 0.0
    error_code: int | None = None
    message: str = ""
    ts: dt.datetime = field(default_factory=_now)


def audit_path() -> Path:
    return Path(os.environ.get("CHATBI_AUDIT") or chatbi_home() / "audit.sqlite").expanduser()


def format_ts(ts: dt.datetime) -> str:
    """UTC text that sorts as time does; a naive datetime is taken as UTC.

    >>> format_ts(dt.datetime(2025, 1, 2, 11, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=8))))
    '2025-01-02T03:04:05.000000Z'
    """
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=dt.UTC)
    return ts.astimezone(dt.UTC).strftime(TS_FORMAT)


class AuditLog:
    """The audit table at ``path``; safe to share between threads and to open from several processes."""

    def __init__(self, path: str | Path | None = None, *, retention_days: int = DEFAULT_RETENTION_DAYS) -> None:
        self.path = Path(path).expanduser() if path is not None else audit_path()
        self.retention_days = retention_days
        self._lock = threading.Lock()  # guards only the purge counter; SQLite serialises the writes
        self._since_purge = 0
        self._create()
        self.purge()

    # --- writing ----------------------------------------------------------------------------

    def record(self, entry: AuditEntry) -> None:
        """Append ``entry`` (its text masked); every ``PURGE_EVERY`` records, drop expired rows."""
        if entry.status not in STATUSES:
            raise InternalError(f"audit status must be one of {STATUSES}, not {entry.status!r}")
        query = json.dumps(_mask_strings(entry.semantic_query), ensure_ascii=False, sort_keys=True) \
            if entry.semantic_query is not None else None
        row = (format_ts(entry.ts), entry.user_id, entry.role, entry.session_id, entry.lang, entry.planner,
               entry.status, mask_text(entry.question), query, mask_text(entry.sql) if entry.sql else entry.sql,
               int(entry.rows_returned), float(entry.duration_ms), entry.error_code, mask_text(entry.message))
        with self._connect() as con:
            con.execute(f"INSERT INTO audit ({', '.join(COLUMNS[1:])}) VALUES ({', '.join('?' * len(row))})", row)
        with self._lock:
            self._since_purge += 1
            due = self._since_purge >= PURGE_EVERY
            if due:
                self._since_purge = 0
        if due:
            self.purge()

    def purge(self, *, now: dt.datetime | None = None) -> int:
        """Delete rows older than the retention period; the number deleted (0 when kept forever)."""
        if self.retention_days <= 0:
            return 0
        cutoff = format_ts((now or _now()) - dt.timedelta(days=self.retention_days))
        with self._connect() as con:
            return con.execute("DELETE FROM audit WHERE ts < ?", (cutoff,)).rowcount

    # --- reading ----------------------------------------------------------------------------

    def count_since(self, user_id: str, seconds: float, *, now: dt.datetime | None = None) -> int:
        """How many questions ``user_id`` asked in the last ``seconds`` (the per-user rate limit)."""
        start = format_ts((now or _now()) - dt.timedelta(seconds=seconds))
        with self._connect() as con:
            (n,) = con.execute("SELECT COUNT(*) FROM audit WHERE user_id = ? AND ts >= ?", (user_id, start)).fetchone()
        return int(n)

    def search(self, *, user_id: str | None = None, status: str | None = None, since: dt.datetime | None = None,
               until: dt.datetime | None = None, text: str | None = None, limit: int = 1000) -> pd.DataFrame:
        """Entries matching every filter given, newest first, at most ``limit``.

        ``since <= ts < until``; ``text`` is a case-insensitive substring of the
        question, message, SQL or semantic query, masked like the stored text
        (so searching a full phone number finds its masked rows).
        """
        where, params = [], []
        if user_id:
            where.append("user_id = ?")
            params.append(user_id)
        if status:
            where.append("status = ?")
            params.append(status)
        if since is not None:
            where.append("ts >= ?")
            params.append(format_ts(since))
        if until is not None:
            where.append("ts < ?")
            params.append(format_ts(until))
        if text:
            pattern = "%" + _escape_like(mask_text(text)) + "%"
            where.append("(" + " OR ".join(f"{c} LIKE ? ESCAPE '\\'" for c in
                                           ("question", "message", "sql", "semantic_query")) + ")")
            params += [pattern] * 4
        sql = f"SELECT {', '.join(COLUMNS)} FROM audit"
        sql += f" WHERE {' AND '.join(where)}" if where else ""
        sql += " ORDER BY ts DESC, id DESC LIMIT ?"
        with self._connect() as con:
            rows = con.execute(sql, (*params, max(0, int(limit)))).fetchall()
        return _frame(rows)

    def users(self) -> list[str]:
        """Every user with an entry, sorted."""
        with self._connect() as con:
            return [u for (u,) in con.execute("SELECT DISTINCT user_id FROM audit ORDER BY user_id")]

    # --- connection -------------------------------------------------------------------------

    def _create(self) -> None:
        """Create the file (owner-only: it holds users' questions), switch it to WAL, create the table."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        except OSError as exc:
            raise _unavailable(self.path, exc) from exc
        with self._connect() as con:
            # Persistent in the file; switching needs a moment alone with it, so only when not yet done.
            if con.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                con.execute("PRAGMA journal_mode=WAL")
            con.executescript(SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A fresh connection in autocommit mode, closed after use; SQLite errors become a ``UserError``."""
        con: sqlite3.Connection | None = None
        try:
            con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            con.execute("PRAGMA synchronous=NORMAL")  # durable enough in WAL; a crash loses at most the last write
            yield con
        except sqlite3.Error as exc:
            raise _unavailable(self.path, exc) from exc
        finally:
            if con is not None:
                con.close()


def _unavailable(path: Path, exc: Exception) -> UserError:
    return UserError(240, f"审计日志不可用({path}): {exc}", f"the audit log is unavailable ({path}): {exc}",
                     ["检查 CHATBI_AUDIT 指向的文件可写 / check that the file CHATBI_AUDIT names is writable"])


def _mask_strings(value: Any) -> Any:
    """Every string inside a JSON value masked (a filter value may be the phone number asked about)."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: _mask_strings(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_mask_strings(v) for v in value]
    return value


def _escape_like(text: str) -> str:
    r"""``text`` matched literally by LIKE ... ESCAPE '\'.

    >>> _escape_like("50%_off")
    '50\\%\\_off'
    """
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _frame(rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    """Rows as a frame: ``ts`` a UTC datetime, ``semantic_query`` a dict again (or None), ``error_code`` Int64."""
    at = COLUMNS.index("semantic_query")
    queries = [json.loads(r[at]) if r[at] else None for r in rows]  # before pandas turns None into NaN
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True, format="ISO8601")
    frame["semantic_query"] = pd.Series(queries, index=frame.index, dtype=object)
    frame["error_code"] = frame["error_code"].astype("Int64")
    frame["rows_returned"] = frame["rows_returned"].astype("int64")
    frame["duration_ms"] = frame["duration_ms"].astype("float64")
    return frame
