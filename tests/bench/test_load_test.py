"""Smoke test of bench/load_test.py: a few seconds of load on the test warehouse.

Two sessions for 3 s over a small slice of the golden suite (so the serial
reference pass takes well under a second), with a 1 s per-query limit so the
runaway session's cross join is stopped several times. Figures are not asserted
(tests never assert timings); only that nothing raised, something was answered
and the time limit stopped the runaway.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from bench import load_test

SUITE = Path(__file__).resolve().parents[1] / "eval" / "suite.yaml"


def small_suite(path: Path) -> Path:
    """Four one-question cases (one refused) and one follow-up conversation from the golden suite."""
    cases = yaml.safe_load(SUITE.read_text(encoding="utf-8"))["cases"]
    singles = [c for c in cases if "question" in c and "check_sql" in c][:3]
    refused = [c for c in cases if c.get("expect_status") == "refused"][:1]
    conversation = [c for c in cases if "turns" in c][:1]
    path.write_text(yaml.safe_dump({"cases": singles + refused + conversation}, allow_unicode=True), encoding="utf-8")
    return path


def test_load_test_smoke(demo_db: Path, tmp_path: Path) -> None:
    report = load_test.main([
        "--db", str(demo_db), "--suite", str(small_suite(tmp_path / "suite.yaml")),
        "--sessions", "2", "--duration", "3", "--query-timeout", "1",
    ])
    summary = report["summary"]
    assert summary["program_errors"] == 0, summary["program_error_samples"]
    assert summary["by_status"]["ok"] >= 1
    assert report["config"]["query_timeout_effective_s"] == 1
    outcomes = [a["outcome"] for a in summary["runaway"]["attempts"]]
    assert "502" in outcomes, outcomes
