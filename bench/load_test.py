"""Load test: one shared ``ChatBI`` serving concurrent sessions, plus a runaway query.

    python bench/load_test.py                       # 20 sessions, 120 s, 1M orders (scale 5)
    python bench/load_test.py --sessions 4 --duration 15 --scale 1 --json out.json

One service per process, as the Streamlit server shares one: ``--sessions`` threads
ask the golden-suite questions back to back for ``--duration`` seconds. Each
session shuffles the conversations with its own seed and keeps a conversation's
follow-ups in order in a fresh ``Session`` (as ``chatbi eval`` does). Meanwhile one
"runaway" session sends a self cross join over ``orders`` through the real path
(``guard_sql`` with the service's schema, then ``engine.execute``) again and again;
each attempt should end with EngineError 502 at the per-query time limit while
the others keep answering.

Before the load, one serial pass over the suite warms the service (imports,
customer models) and records each answer as the reference; under load every
answer is compared with it, so a race shows up as a "wrong answer", not only as an
exception (an answer that hit an engine limit, 502/504, counts as an error, not as
wrong). ``--cold`` takes the reference on a separate service instead, so the load
starts before any customer model is built. The planner is offline (``llm=False``):
no endpoint is called. The per-user rate limit is lifted for the run and the audit
log, when ChatBI keeps one, goes to a temporary directory (see ``make_service``).

Reported: questions by status, program errors (exceptions; must be 0), wrong
answers, latency percentiles (all and ok), throughput, peak RSS (VmHWM and a
sampled timeline), the runaway attempts and whether any normal question failed
while one ran. The exit code is 1 if there was a program error or a wrong answer.
Latency is wall time of ``ask`` in a thread, so it includes waiting for the GIL
and for DuckDB's worker threads. Figures are recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import inspect
import json
import math
import os
import platform
import random
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout

import duckdb  # noqa: E402
import yaml  # noqa: E402

from assistant.evaluate import load_suite  # noqa: E402
from assistant.service import Answer, ChatBI  # noqa: E402
from assistant.session import Session  # noqa: E402
from semantic_layer.errors import EngineError  # noqa: E402
from semantic_layer.guard import guard_sql  # noqa: E402
from semantic_layer.loader import load_catalog  # noqa: E402

# Pairs of orders within 1 yuan of each other: n² rows with per-row work (a plain
# count(*) over a cross join is nearly free in DuckDB). About 1.5e9 pairs/s here, so
# ~30 s at scale 1 and ~10 min at scale 5 — far past any sensible limit.
RUNAWAY_SQL = "SELECT count(*) AS close_pairs FROM orders AS a CROSS JOIN orders AS b WHERE abs(a.amount - b.amount) < 1"
STATUSES = ("ok", "clarify", "refused", "error")
LIMIT_CODES = (502, 504)  # EngineError: time limit, memory limit


@dataclass(frozen=True)
class Asked:
    """One question asked under load; times are seconds since the load started."""

    session: int
    case: str
    turn: int
    start: float
    end: float
    status: str  # an Answer status, or "exception"
    error_code: int | None = None
    matches_reference: bool | None = None  # None: no reference (--no-warmup)
    exception: str | None = None

    @property
    def seconds(self) -> float:
        return self.end - self.start

    @property
    def wrong(self) -> bool:
        """Answered unlike the serial reference; hitting an engine limit under load (502, 504) is an error instead."""
        return self.matches_reference is False and not (self.status == "error" and self.error_code in LIMIT_CODES)


@dataclass(frozen=True)
class Attempt:
    """One runaway query: how it ended and when."""

    start: float
    end: float
    outcome: str  # "502" (time limit), another EngineError code, "completed" or "exception"
    message: str = ""
    guard_s: float = 0.0  # of which guard_sql (the rest is engine.execute)

    @property
    def seconds(self) -> float:
        return self.end - self.start


# --- warehouse and service -------------------------------------------------------


def warehouse_path(scale: float, seed: int, cache_dir: Path) -> Path:
    """The demo warehouse for (scale, seed, generator source), built once in a subprocess.

    The file name carries a hash of ``warehouse/*.py`` so an edited generator builds
    anew; the build runs in a child process so this process's peak RSS is the
    service's own, not the generator's.
    """
    source = hashlib.sha256(b"".join(p.read_bytes() for p in sorted((ROOT / "warehouse").glob("*.py"))))
    path = cache_dir / f"demo_scale{scale:g}_seed{seed}_{source.hexdigest()[:10]}.duckdb"
    if not path.is_file():
        cache_dir.mkdir(parents=True, exist_ok=True)
        code = f"from warehouse.demo import build_demo; print(build_demo({str(path)!r}, scale={scale!r}, seed={seed}))"
        print(f"building {path} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    return path


@dataclass
class Service:
    """The shared ChatBI and how it was configured for the run."""

    bi: ChatBI
    limit_s: float  # the engine's effective per-query limit
    limit_via: str  # how the requested limit reached the engine, or "" when it did not
    audit_path: Path | None  # the run's own audit log, when ChatBI keeps one


def make_service(db: Path, query_timeout_s: float, workdir: Path) -> Service:
    """One ChatBI, offline planner, configured the way a deployment would be.

    The per-query limit goes where ChatBI reads it: the catalog's ``access.yaml``
    (``limits.query_seconds``), overridden in memory as the admin preview does
    (``load_catalog(overrides=...)``); a catalog without that policy leaves the
    engine's default in force, and the report says so. The same override lifts
    the per-user rate limit (``questions_per_minute: 0``): a load test asks far
    faster than a person, on purpose. The audit log, when ChatBI keeps one, goes
    to ``workdir``.
    """
    kwargs: dict[str, Any] = {"llm": False}
    catalog = load_catalog()
    limits = getattr(getattr(catalog, "policy", None), "limits", None)
    via = ""
    if hasattr(limits, "query_seconds"):
        access_file = catalog.root / "access.yaml"
        access = yaml.safe_load(access_file.read_text(encoding="utf-8")) if access_file.is_file() else {}
        access.setdefault("limits", {}).update(query_seconds=query_timeout_s, questions_per_minute=0)
        catalog = load_catalog(overrides={"access.yaml": yaml.safe_dump(access, allow_unicode=True, sort_keys=False)})
        via = "access.yaml limits.query_seconds"
    audit_path = None
    if "audit" in inspect.signature(ChatBI).parameters:
        from assistant.audit import AuditLog

        audit_path = workdir / "audit.sqlite"
        kwargs["audit"] = AuditLog(audit_path)
    bi = ChatBI(db, catalog=catalog, **kwargs)
    limit_s = bi.engine.max_execution_time_ms / 1000
    return Service(bi, limit_s, via if math.isclose(limit_s, query_timeout_s) else "", audit_path)


def audit_rows(path: Path | None) -> int | None:
    """Rows in the run's audit log (one per question asked, if every write landed)."""
    if path is None:
        return None
    with contextlib.closing(sqlite3.connect(path)) as con:
        return int(con.execute("SELECT count(*) FROM audit").fetchone()[0])


def principal(bi: ChatBI, user_id: str) -> Any:
    """``--user ID`` as ``ask`` wants it: a Principal from the user directory when there is one."""
    try:
        from assistant.identity import resolve_user
    except ImportError:
        return user_id
    return resolve_user(bi.catalog, user_id)


def conversations(suite: Path) -> list[tuple[str, list[str]]]:
    """(case id, questions in order) for every case of a golden suite."""
    return [(c.id, [t.question for t in c.conversation()]) for c in load_suite(suite).cases]


# --- answers and references ------------------------------------------------------


def fingerprint(answer: Answer) -> str:
    """What must not change under load: status, code, SQL, columns, rows (as a bag), narrative.

    Numbers to 6 significant digits, so a parallel float sum's last bits do not count.
    """
    def norm(v: Any) -> str:
        return f"{v:.6g}" if isinstance(v, float) else repr(v)

    rows = sorted(repr([norm(v) for v in row]) for row in answer.rows)
    text = json.dumps([answer.status, answer.error_code, answer.sql, answer.columns, rows, answer.narrative],
                      ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def reference_pass(bi: ChatBI, convs: list[tuple[str, list[str]]], ask_kwargs: dict[str, Any]) -> dict[tuple[str, int], str]:
    """Every conversation once, serially, in a fresh session: the expected fingerprints."""
    reference = {}
    for case, questions in convs:
        session = Session(f"ref-{case}")
        for turn, question in enumerate(questions):
            reference[(case, turn)] = fingerprint(bi.ask(question, session=session, **ask_kwargs))
    return reference


# --- the load --------------------------------------------------------------------


def run_session(index: int, bi: ChatBI, convs: list[tuple[str, list[str]]], seed: int, t0: float,
                deadline: float, reference: dict[tuple[str, int], str] | None, ask_kwargs: dict[str, Any],
                out: list[Asked]) -> None:
    """Ask conversations back to back until the deadline; every exception is recorded, none raised."""
    rng = random.Random(seed * 1000 + index)
    order = list(convs)
    while True:
        rng.shuffle(order)
        for case, questions in order:
            session = Session(f"load-{index}-{case}")
            for turn, question in enumerate(questions):
                if time.perf_counter() >= deadline:
                    return
                start = time.perf_counter()
                try:
                    answer = bi.ask(question, session=session, **ask_kwargs)
                except Exception as exc:  # noqa: BLE001 - a program error: counted, never hidden
                    out.append(Asked(index, case, turn, start - t0, time.perf_counter() - t0, "exception",
                                     exception="".join(traceback.format_exception(exc)[-3:]).strip()))
                    break  # the conversation's state is unknown now; start the next one
                end = time.perf_counter()
                expected = reference.get((case, turn)) if reference is not None else None
                out.append(Asked(index, case, turn, start - t0, end - t0, answer.status, answer.error_code,
                                 None if expected is None else fingerprint(answer) == expected))


def run_runaway(bi: ChatBI, t0: float, deadline: float, out: list[Attempt]) -> None:
    """Send the runaway query, guarded like any other, until the deadline (the last attempt may pass it)."""
    while time.perf_counter() < deadline:
        start = guarded_at = time.perf_counter()
        try:
            guarded = guard_sql(RUNAWAY_SQL, bi.schema, max_rows=bi.catalog.project.max_rows)
            guarded_at = time.perf_counter()
            bi.engine.execute(guarded)
            outcome, message = "completed", ""
        except EngineError as err:
            outcome, message = str(err.code), err.message_en
        except Exception as exc:  # noqa: BLE001 - recorded as a program error
            outcome, message = "exception", f"{type(exc).__name__}: {exc}"
        out.append(Attempt(start - t0, time.perf_counter() - t0, outcome, message, guarded_at - start))


class RssSampler(threading.Thread):
    """Resident memory every ``interval`` seconds (MB since the load started)."""

    def __init__(self, t0: float, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.t0, self.interval = t0, interval
        self.samples: list[tuple[float, float]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.samples.append((round(time.perf_counter() - self.t0, 2), rss_mb("VmRSS")))
            self.stop.wait(self.interval)


def rss_mb(field: str) -> float:
    """VmRSS / VmHWM of this process in MB (/proc), or the getrusage peak elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# --- report ----------------------------------------------------------------------


def percentiles(values: list[float]) -> dict[str, float | None]:
    """Nearest-rank p50 / p95 / p99 / max in milliseconds."""
    ordered = sorted(values)

    def rank(p: float) -> float | None:
        return round(ordered[max(math.ceil(p * len(ordered)) - 1, 0)] * 1000, 1) if ordered else None

    return {"n": len(ordered), "p50_ms": rank(0.50), "p95_ms": rank(0.95), "p99_ms": rank(0.99), "max_ms": rank(1.0)}


def summarize(asked: list[Asked], attempts: list[Attempt], window: float, limit_s: float) -> dict[str, Any]:
    def overlaps(a: Asked) -> bool:
        return any(a.start < r.end and r.start < a.end for r in attempts)

    def failed(a: Asked) -> bool:
        return a.status == "exception" or a.matches_reference is False or (
            a.status == "error" and a.error_code is not None and a.error_code >= 500)

    during = [a for a in asked if overlaps(a)]
    outside = [a for a in asked if not overlaps(a)]
    stopped = [r for r in attempts if r.outcome == "502"]
    return {
        "questions": len(asked),
        "by_status": {s: sum(a.status == s for a in asked) for s in (*STATUSES, "exception")},
        "program_errors": sum(a.status == "exception" for a in asked) + sum(r.outcome == "exception" for r in attempts),
        "program_error_samples": [a.exception for a in asked if a.exception][:5],
        "error_codes": dict(Counter(str(a.error_code) for a in asked if a.status == "error")),
        "checked_against_reference": sum(a.matches_reference is not None for a in asked),
        "wrong_answers": sum(a.wrong for a in asked),
        "wrong_answer_samples": [f"{a.case} turn {a.turn} ({a.status})" for a in asked if a.wrong][:10],
        "latency_all": percentiles([a.seconds for a in asked]),
        "latency_ok": percentiles([a.seconds for a in asked if a.status == "ok"]),
        "latency_while_runaway": percentiles([a.seconds for a in during]),
        "latency_without_runaway": percentiles([a.seconds for a in outside]),
        "window_s": round(window, 2),
        "throughput_qps": round(len(asked) / window, 2) if window else 0.0,
        "runaway": {
            "attempts": [{"outcome": r.outcome, "seconds": round(r.seconds, 2), "guard_s": round(r.guard_s, 3),
                          "message": r.message} for r in attempts],
            "stopped_by_time_limit": len(stopped),
            "seconds_min": round(min(r.seconds for r in stopped), 2) if stopped else None,
            "seconds_max": round(max(r.seconds for r in stopped), 2) if stopped else None,
            "guard_s_max": round(max(r.guard_s for r in attempts), 3) if attempts else None,
            "limit_s": limit_s,
            "questions_while_running": len(during),
            "questions_failed_while_running": sum(failed(a) for a in during),
        },
    }


def render(report: dict[str, Any]) -> str:
    cfg, s, run = report["config"], report["summary"], report["summary"]["runaway"]
    limit = f"{cfg['query_timeout_effective_s']:g} s " + (
        f"(via {cfg['query_timeout_via']})" if cfg["query_timeout_via"]
        else f"(NOT the requested {cfg['query_timeout_s']:g} s: ChatBI offered no way to set it)")
    data = f"scale {cfg['scale']:g}" if cfg["scale"] else Path(cfg["db"]).name
    lines = [
        (f"{data} ({cfg['orders']:,} orders), "
         f"{cfg['sessions']} sessions"
         f"{' + 1 runaway' if cfg['runaway_sql'] else ''}, {cfg['duration_s']:g} s, per-query limit {limit}"),
        (f"machine: {cfg['cpus']} CPUs, load average before {cfg['load_average_before']} "
         f"after {cfg['load_average_after']}, "
         f"python {cfg['python']}, duckdb {cfg['duckdb']}"),
        ("no warm-up, answers not checked" if cfg["warmup_s"] is None else
         f"reference pass on a separate service: {cfg['warmup_s']} s; the load started cold" if cfg["cold"] else
         f"warm-up / reference pass: {cfg['warmup_s']} s"),
        "",
        "| measure | value |",
        "|---|---:|",
        f"| questions | {s['questions']:,} |",
        *(f"| {status} | {n:,} |" for status, n in s["by_status"].items()),
        f"| program errors (exceptions) | {s['program_errors']} |",
        f"| wrong answers (vs serial reference, of {s['checked_against_reference']:,} checked) | {s['wrong_answers']} |",
        f"| throughput (questions/s) | {s['throughput_qps']} |",
        f"| audit rows written / expected | {s['audit_rows']} / {s['audit_rows_expected']} |",
        f"| peak RSS, VmHWM (MB) | {report['memory']['peak_rss_mb']:.0f} |",
        (f"| RSS at load start / max during load (MB) | {report['memory']['rss_load_start_mb']:.0f} / "
         f"{report['memory']['rss_load_max_mb']:.0f} |"),
        "",
        "| latency | n | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in ("all", "ok", "while_runaway", "without_runaway"):
        p = s[f"latency_{name}"]
        if not p["n"] and name.endswith("runaway"):
            continue
        lines.append(f"| {name.replace('_', ' ')} | {p['n']:,} | {p['p50_ms']} | {p['p95_ms']} | {p['p99_ms']} | {p['max_ms']} |")
    outcomes = Counter(a["outcome"] for a in run["attempts"])
    if cfg["runaway_sql"]:
        lines += [
            "",
            (f"runaway: {len(run['attempts'])} attempts, outcomes {dict(outcomes)}; stopped by the time limit "
             f"after {run['seconds_min']}–{run['seconds_max']} s (limit {run['limit_s']:g} s; "
             f"guard_sql at most {run['guard_s_max']} s of that)"),
            (f"normal questions while the runaway ran: {run['questions_while_running']:,}, "
             f"failed {run['questions_failed_while_running']}"),
        ]
    if s["error_codes"]:
        lines.append(f"error answers by code: {s['error_codes']}")
    lines += [f"PROGRAM ERROR: {e}" for e in s["program_error_samples"]]
    lines += [f"WRONG ANSWER: {w}" for w in s["wrong_answer_samples"]]
    return "\n".join(lines)


# --- main ------------------------------------------------------------------------


def _load_average() -> list[float] | None:
    """1, 5 and 15 minute load averages: the machine is shared, so say how busy it was."""
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=5.0, help="demo warehouse scale (5 ≈ 1M orders)")
    parser.add_argument("--seed", type=int, default=7, help="demo warehouse seed (also seeds the session shuffles)")
    parser.add_argument("--db", type=Path, help="use this warehouse file instead of a cached demo build")
    parser.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "chatbi-bench",
                        help="where demo builds are cached by scale")
    parser.add_argument("--suite", type=Path, default=ROOT / "tests/eval/suite.yaml")
    parser.add_argument("--sessions", type=int, default=20, help="concurrent sessions (threads)")
    parser.add_argument("--duration", type=float, default=120.0, help="seconds of load")
    parser.add_argument("--query-timeout", type=float, default=5.0, help="per-query time limit in seconds")
    parser.add_argument("--no-runaway", action="store_true", help="leave out the runaway session")
    parser.add_argument("--no-warmup", action="store_true", help="skip the serial warm-up/reference pass")
    parser.add_argument("--cold", action="store_true",
                        help="take the reference on a separate service; the load starts cold (models not yet built)")
    parser.add_argument("--user", help="passed as ask(..., user=...) when ChatBI.ask accepts it")
    parser.add_argument("--json", type=Path, help="also write the full report (with the RSS timeline) here")
    args = parser.parse_args(argv)
    if args.user is not None and "user" not in inspect.signature(ChatBI.ask).parameters:
        parser.error("--user: this ChatBI.ask takes no user keyword")
    if args.sessions < 1 or args.duration <= 0 or args.query_timeout <= 0:
        parser.error("--sessions, --duration and --query-timeout must be positive")
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the load test and print the table; return the full report (also for tests)."""
    args = parse_args(argv)
    db = args.db or warehouse_path(args.scale, args.seed, args.cache_dir)
    convs = conversations(args.suite)
    load_before = _load_average()
    with tempfile.TemporaryDirectory(prefix="chatbi-load-") as workdir:
        reference, warmup_s = None, None
        if args.cold and not args.no_warmup:  # the reference from a service of its own, closed before the load
            warm = time.perf_counter()
            reference = reference_pass_on_own_service(db, args, convs, Path(workdir) / "reference")
            warmup_s = round(time.perf_counter() - warm, 1)
        service = make_service(db, args.query_timeout, Path(workdir))
        bi = service.bi
        if not service.limit_via:
            print(f"warning: --query-timeout {args.query_timeout:g} could not be applied; the engine's limit is "
                  f"{service.limit_s:g} s", file=sys.stderr)
        try:
            ask_kwargs = {"user": principal(bi, args.user)} if args.user is not None else {}
            if not args.cold and not args.no_warmup:
                warm = time.perf_counter()
                reference = reference_pass(bi, convs, ask_kwargs)
                warmup_s = round(time.perf_counter() - warm, 1)
            asked, attempts, window, sampler, rss_start = run_load(bi, convs, args, reference, ask_kwargs)
            orders = bi.engine.table_counts().get("orders", 0)
        finally:
            bi.engine.close()
        logged = audit_rows(service.audit_path)

    warm_questions = 0 if args.no_warmup or args.cold else sum(len(q) for _, q in convs)
    summary = summarize(asked, attempts, window, service.limit_s)
    summary["audit_rows"] = logged
    summary["audit_rows_expected"] = None if logged is None else warm_questions + sum(a.exception is None for a in asked)
    report = {
        "config": {
            "scale": None if args.db else args.scale, "db": str(db), "cold": args.cold, "orders": orders, "sessions": args.sessions,
            "duration_s": args.duration, "query_timeout_s": args.query_timeout,
            "query_timeout_effective_s": service.limit_s, "query_timeout_via": service.limit_via,
            "runaway_sql": None if args.no_runaway else RUNAWAY_SQL, "conversations": len(convs),
            "questions_per_pass": sum(len(q) for _, q in convs), "user": args.user, "warmup_s": warmup_s,
            "cpus": os.cpu_count(), "load_average_before": load_before, "load_average_after": _load_average(),
            "python": platform.python_version(), "duckdb": duckdb.__version__,
        },
        "summary": summary,
        "memory": {
            "peak_rss_mb": round(rss_mb("VmHWM"), 1),
            "rss_load_start_mb": round(rss_start, 1),
            "rss_load_max_mb": round(max((mb for _, mb in sampler.samples), default=rss_start), 1),
            "timeline": sampler.samples,
        },
        "questions": [asdict(a) for a in asked] if args.json else None,
    }
    print(render(report))
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    return report


def reference_pass_on_own_service(db: Path, args: argparse.Namespace, convs: list[tuple[str, list[str]]],
                                  workdir: Path) -> dict[tuple[str, int], str]:
    """``--cold``: the reference answers from a separate service, so the load starts on a cold one."""
    workdir.mkdir()
    bi = make_service(db, args.query_timeout, workdir).bi
    try:
        return reference_pass(bi, convs, {"user": principal(bi, args.user)} if args.user is not None else {})
    finally:
        bi.engine.close()


def run_load(bi: ChatBI, convs: list[tuple[str, list[str]]], args: argparse.Namespace,
             reference: dict[tuple[str, int], str] | None, ask_kwargs: dict[str, Any],
             ) -> tuple[list[Asked], list[Attempt], float, RssSampler, float]:
    """Start the sessions (and the runaway) together; the window ends when the last session stops."""
    asked: list[Asked] = []  # list.append is atomic under the GIL
    attempts: list[Attempt] = []
    t0 = time.perf_counter()
    deadline = t0 + args.duration
    rss_start = rss_mb("VmRSS")
    sampler = RssSampler(t0)
    sampler.start()
    sessions = [threading.Thread(target=run_session, name=f"session-{i}",
                                 args=(i, bi, convs, args.seed, t0, deadline, reference, ask_kwargs, asked))
                for i in range(args.sessions)]
    runaway = [] if args.no_runaway else [
        threading.Thread(target=run_runaway, name="runaway", args=(bi, t0, deadline, attempts))]
    for thread in sessions + runaway:
        thread.start()
    for thread in sessions:
        thread.join()
    window = time.perf_counter() - t0
    for thread in runaway:
        thread.join()  # its last attempt may outlast the window by up to the time limit
    sampler.stop.set()
    sampler.join()
    return asked, attempts, window, sampler, rss_start


if __name__ == "__main__":
    result = main()
    sys.exit(1 if result["summary"]["program_errors"] or result["summary"]["wrong_answers"] else 0)
