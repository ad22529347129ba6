"""Audit log: record and search, the rate-limit count, retention, masking, concurrent writers."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from assistant.audit import AuditEntry, AuditLog, audit_path
from semantic_layer.errors import InternalError, UserError

REPO = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2025, 6, 30, 12, 0, tzinfo=dt.UTC)
QUERY = {"metrics": ["revenue"], "dimensions": ["region"], "time_range": {"start": "2025-01-01", "end": "2025-12-31"},
         "filters": [{"field": "region", "op": "in", "values": ["East", "华东"]}], "limit": 10}


def entry(user: str = "alice", question: str = "2025年各地区的销售额", status: str = "ok", *,
          ago: dt.timedelta = dt.timedelta(0), **kw) -> AuditEntry:
    return AuditEntry(user_id=user, role="business", question=question, status=status, ts=NOW - ago, **kw)


@pytest.fixture
def log(tmp_path: Path) -> AuditLog:
    return AuditLog(tmp_path / "audit.sqlite")


def test_record_and_search_newest_first(log):
    log.record(entry(question="q1", ago=dt.timedelta(minutes=2)))
    log.record(entry(question="q2", status="clarify", ago=dt.timedelta(minutes=1), session_id="s1", lang="en",
                     planner="llm", duration_ms=12.5))
    log.record(entry(user="bob", question="q3", status="error", error_code=502, message="timeout"))
    got = log.search()
    assert list(got["question"]) == ["q3", "q2", "q1"]
    assert got["ts"].iloc[0] == NOW
    second = got.iloc[1]
    assert (second["status"], second["session_id"], second["lang"], second["planner"]) == ("clarify", "s1", "en", "llm")
    assert second["duration_ms"] == 12.5 and pd_isna(second["error_code"])
    assert got.iloc[0]["error_code"] == 502 and got.iloc[0]["message"] == "timeout"
    assert log.users() == ["alice", "bob"]


def pd_isna(value) -> bool:
    import pandas as pd

    return bool(pd.isna(value))


def test_search_filters_combine(log):
    log.record(entry(question="revenue by region", ago=dt.timedelta(days=3)))
    log.record(entry(question="CAC by channel", status="refused", ago=dt.timedelta(days=1)))
    log.record(entry(user="bob", question="Revenue by month", sql="SELECT SUM(amount) FROM orders"))
    assert list(log.search(user_id="alice")["question"]) == ["CAC by channel", "revenue by region"]
    assert list(log.search(status="refused")["question"]) == ["CAC by channel"]
    assert list(log.search(text="REVENUE")["question"]) == ["Revenue by month", "revenue by region"]
    assert list(log.search(text="sum(amount)")["question"]) == ["Revenue by month"], "the SQL is searched too"
    assert list(log.search(since=NOW - dt.timedelta(days=2), until=NOW)["question"]) == ["CAC by channel"]
    assert list(log.search(user_id="alice", text="revenue")["question"]) == ["revenue by region"]
    assert len(log.search(limit=2)) == 2
    assert log.search(user_id="nobody").empty and list(log.search(user_id="nobody").columns) == list(log.search().columns)


def test_text_search_is_literal(log):
    log.record(entry(question="50% off"))
    log.record(entry(question="5000 off"))
    assert list(log.search(text="50%")["question"]) == ["50% off"]
    assert log.search(text="_").empty


def test_count_since_is_per_user_and_window(log):
    for minutes in (0, 0.5, 2, 30):
        log.record(entry(ago=dt.timedelta(minutes=minutes)))
    log.record(entry(user="bob"))
    assert log.count_since("alice", 60, now=NOW) == 2
    assert log.count_since("alice", 3600, now=NOW) == 4
    assert log.count_since("bob", 60, now=NOW) == 1
    assert log.count_since("carol", 60, now=NOW) == 0


def test_count_since_defaults_to_now(log):
    log.record(AuditEntry("alice", "business", "q", "ok"))
    assert log.count_since("alice", 60) == 1


def test_purge_drops_rows_older_than_retention(tmp_path):
    log = AuditLog(tmp_path / "audit.sqlite", retention_days=30)
    log.record(entry(question="old", ago=dt.timedelta(days=31)))
    log.record(entry(question="recent", ago=dt.timedelta(days=29)))
    assert log.purge(now=NOW) == 1
    assert list(log.search()["question"]) == ["recent"]
    assert log.purge(now=NOW) == 0


def test_opening_a_log_purges_expired_rows(tmp_path):
    path = tmp_path / "audit.sqlite"
    AuditLog(path, retention_days=0).record(entry(question="ancient", ago=dt.timedelta(days=10_000)))
    assert len(AuditLog(path, retention_days=0).search()) == 1, "0 keeps rows forever"
    assert AuditLog(path, retention_days=-1).purge() == 0
    assert AuditLog(path, retention_days=180).search().empty


def test_record_purges_every_so_often(tmp_path, monkeypatch):
    from assistant import audit

    monkeypatch.setattr(audit, "PURGE_EVERY", 3)
    log = AuditLog(tmp_path / "audit.sqlite", retention_days=1)
    log.record(entry(question="old", ago=dt.timedelta(days=10_000)))
    log.record(AuditEntry("alice", "business", "new1", "ok"))  # now, not NOW
    assert len(log.search()) == 2
    log.record(AuditEntry("alice", "business", "new2", "ok"))
    assert sorted(log.search()["question"]) == ["new1", "new2"]


def test_pii_in_questions_is_stored_masked(log):
    log.record(entry(question="客户 13812345678 (zhang.san@corp.com, 身份证 11010119900307123X) 的订单",
                     message="no customer 138-1234-5678", sql="SELECT * FROM orders WHERE phone = '13812345678'",
                     semantic_query={**QUERY, "filters": [{"field": "phone", "op": "=", "values": ["13812345678"]}]}))
    with sqlite3.connect(log.path) as con:
        raw = " ".join(str(v) for v in con.execute("SELECT * FROM audit").fetchone())
    for secret in ("13812345678", "1234-5678", "zhang.san", "19900307"):
        assert secret not in raw
    row = log.search().iloc[0]
    assert row["question"] == "客户 138****5678 (z***@corp.com, 身份证 110101********123X) 的订单"
    assert row["message"] == "no customer 138****5678"
    assert row["semantic_query"]["filters"][0]["values"] == ["138****5678"]
    assert list(log.search(text="13812345678")["question"]) == [row["question"]], "a full number finds its mask"


def test_semantic_query_round_trips_as_json(log):
    log.record(entry(semantic_query=QUERY))
    log.record(entry(question="clarify me", status="clarify"))
    got = log.search()
    assert got.iloc[1]["semantic_query"] == QUERY
    assert got.iloc[0]["semantic_query"] is None


def test_unknown_status_is_a_bug(log):
    with pytest.raises(InternalError):
        log.record(entry(status="maybe"))


def test_default_path_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("CHATBI_AUDIT", raising=False)
    monkeypatch.setenv("CHATBI_HOME", str(tmp_path / "home"))
    assert audit_path() == tmp_path / "home" / "audit.sqlite"
    monkeypatch.setenv("CHATBI_AUDIT", str(tmp_path / "elsewhere.sqlite"))
    log = AuditLog()
    assert log.path == tmp_path / "elsewhere.sqlite" and log.path.exists()
    assert not (tmp_path / "home").exists()


def test_file_is_private_and_in_wal_mode(log):
    assert log.path.stat().st_mode & 0o077 == 0
    with sqlite3.connect(log.path) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_an_unusable_file_is_a_bilingual_user_error(tmp_path):
    bad = tmp_path / "audit.sqlite"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(UserError) as err:
        AuditLog(bad)
    assert err.value.code == 240 and "审计日志" in err.value.message("zh") and "audit log" in err.value.message("en")


def test_threads_write_concurrently(log):
    threads, per_thread = 8, 40

    def work(i: int) -> None:
        for j in range(per_thread):
            log.record(entry(user=f"t{i}", question=f"q{j}"))

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    got = log.search(limit=10_000)
    assert len(got) == threads * per_thread
    assert all(log.count_since(f"t{i}", 60, now=NOW) == per_thread for i in range(threads))


WRITER = """
import sys
from assistant.audit import AuditEntry, AuditLog
log = AuditLog(sys.argv[1])
for j in range(int(sys.argv[3])):
    log.record(AuditEntry(user_id=sys.argv[2], role="business", question=f"q{j}", status="ok"))
"""


def test_processes_write_concurrently_to_a_fresh_file(tmp_path):
    """Two processes (the CLI and the server) creating and writing the same new log at once."""
    path, procs, per_proc = tmp_path / "audit.sqlite", 3, 150
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    running = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), f"p{i}", str(per_proc)], cwd=REPO, env=env,
                                stderr=subprocess.PIPE, text=True) for i in range(procs)]
    for proc in running:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    log = AuditLog(path)
    assert len(log.search(limit=10_000)) == procs * per_proc
    assert log.users() == [f"p{i}" for i in range(procs)]
    assert all(log.count_since(f"p{i}", 600) == per_proc for i in range(procs))
