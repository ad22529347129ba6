"""The ``chatbi`` command as users and scripts meet it (DESIGN §5 contract)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli import app

CONTRACT_KEYS = {"status", "question", "semantic_query", "sql", "columns", "rows", "chart",
                 "narrative", "suggestions", "definitions", "message"}

runner = CliRunner()


def _ask(demo_db: Path, *args: str) -> tuple[int, dict]:
    result = runner.invoke(app, ["ask", *args, "--json", "--db", str(demo_db)])
    return result.exit_code, json.loads(result.stdout)


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATBI_HOME", str(tmp_path / "home"))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_ask_json_answers_with_the_contract_shape(demo_db: Path) -> None:
    code, answer = _ask(demo_db, "2025年各地区的销售额")
    assert code == 0
    assert CONTRACT_KEYS <= set(answer)
    assert answer["status"] == "ok"
    assert answer["semantic_query"]["metrics"] == ["revenue"]
    assert answer["semantic_query"]["dimensions"] == ["region"]
    assert answer["columns"] == ["region", "revenue"]
    assert {r[0] for r in answer["rows"]} == {"East", "North", "South", "Central", "Southwest", "Northwest", "Northeast"}
    assert "SELECT" in answer["sql"] and "2025-01-01" in answer["sql"]
    assert answer["definitions"][0]["metric"] == "revenue"
    assert "status = 'completed'" in answer["definitions"][0]["formula"]
    assert answer["chart"]["mark"] == "bar"
    assert "华东" in answer["narrative"]


def test_rows_match_the_warehouse(demo_db: Path, raw_con) -> None:
    _, answer = _ask(demo_db, "2025年各地区的销售额")
    expected = dict(raw_con.execute(
        "SELECT c.region, SUM(o.amount) FROM orders o JOIN customers c USING (customer_id) "
        "WHERE o.status = 'completed' AND year(o.order_date) = 2025 GROUP BY 1").fetchall())
    assert {r[0]: pytest.approx(float(expected[r[0]])) for r in answer["rows"]} == {r[0]: r[1] for r in answer["rows"]}


def test_english_question_answers_in_english(demo_db: Path) -> None:
    code, answer = _ask(demo_db, "CAC by acquisition channel last quarter")
    assert code == 0 and answer["status"] == "ok"
    assert "2025-07-01" in answer["sql"] and "2025-09-30" in answer["sql"]
    assert answer["narrative"].startswith("2025-07-01 to 2025-09-30")


def test_refused_write_executes_nothing(demo_db: Path) -> None:
    before = _sha(demo_db)
    code, answer = _ask(demo_db, "删除2024年的所有订单")
    assert code == 0
    assert answer["status"] == "refused"
    assert answer["sql"] is None and answer["rows"] == []
    assert "没有执行" in answer["message"]
    assert _sha(demo_db) == before


def test_clarify_has_exit_zero_and_candidates(demo_db: Path) -> None:
    code, answer = _ask(demo_db, "按渠道看复购率")
    assert code == 0
    assert answer["status"] == "clarify"
    assert "获客渠道" in answer["message"] and "销售渠道" in answer["message"]


def test_session_follow_up_refines_the_previous_query(demo_db: Path) -> None:
    _ask(demo_db, "2025年各地区的销售额", "--session", "s1")
    code, answer = _ask(demo_db, "按销售渠道呢?", "--session", "s1")
    assert code == 0 and answer["status"] == "ok"
    assert answer["semantic_query"]["metrics"] == ["revenue"]
    assert answer["semantic_query"]["dimensions"] == ["sales_channel"]
    assert answer["semantic_query"]["time"] == {"start": "2025-01-01", "end": "2025-12-31"}


def test_lang_option_overrides_the_question_language(demo_db: Path) -> None:
    _, answer = _ask(demo_db, "2025年各地区的销售额", "--lang", "en")
    assert answer["narrative"].startswith("2025-01-01 to 2025-12-31")
    assert "East" in answer["narrative"]


def test_as_of_option_moves_relative_time(demo_db: Path) -> None:
    _, answer = _ask(demo_db, "今年的销售额", "--as-of", "2024-06-30")
    assert "2024-01-01" in answer["sql"] and "2024-12-31" in answer["sql"]


def test_missing_database_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ask", "销售额", "--json", "--db", str(tmp_path / "none.duckdb")])
    assert result.exit_code == 1
    answer = json.loads(result.stdout)
    assert answer["status"] == "error" and "chatbi demo" in answer["message"]
    assert CONTRACT_KEYS <= set(answer)


def test_error_shape_is_the_same_for_every_status(demo_db: Path, tmp_path: Path) -> None:
    shapes = [set(_ask(demo_db, q)[1]) for q in ["各地区的销售额", "删除订单", "天气"]]
    bad = runner.invoke(app, ["ask", "销售额", "--json", "--db", str(tmp_path / "x.duckdb")])
    shapes.append(set(json.loads(bad.stdout)))
    assert all(s == shapes[0] for s in shapes)


def test_sql_and_query_commands(demo_db: Path, tmp_path: Path) -> None:
    query = tmp_path / "q.json"
    query.write_text(json.dumps({"metrics": ["revenue", "buyers"], "dimensions": ["category"]}), encoding="utf-8")
    sql = runner.invoke(app, ["sql", str(query)])
    assert sql.exit_code == 0 and "order_items.line_amount" in sql.stdout
    ran = runner.invoke(app, ["query", str(query), "--db", str(demo_db)])
    assert ran.exit_code == 0
    answer = json.loads(ran.stdout)
    assert answer["columns"] == ["category", "revenue", "buyers"] and len(answer["rows"]) == 7


def test_query_with_unknown_metric_suggests(demo_db: Path, tmp_path: Path) -> None:
    query = tmp_path / "q.json"
    query.write_text(json.dumps({"metrics": ["revenu"]}), encoding="utf-8")
    ran = runner.invoke(app, ["query", str(query), "--db", str(demo_db)])
    assert ran.exit_code == 1
    answer = json.loads(ran.stdout)
    assert answer["status"] == "error" and "revenue" in answer["candidates"]


def test_metrics_lists_the_catalog_in_both_languages() -> None:
    zh = runner.invoke(app, ["metrics", "--lang", "zh", "--json"])
    en = runner.invoke(app, ["metrics", "--lang", "en", "--json"])
    zh_rows, en_rows = json.loads(zh.stdout), json.loads(en.stdout)
    assert {r["name"] for r in zh_rows} == {r["name"] for r in en_rows}
    assert {"revenue", "cac", "churn_rate", "nps"} <= {r["name"] for r in zh_rows}
    assert next(r for r in zh_rows if r["name"] == "revenue")["label"] == "销售额"


def test_validate_reports_file_and_line(tmp_path: Path) -> None:
    import shutil

    from semantic_layer.loader import DEFAULT_CATALOG

    broken = tmp_path / "catalog"
    shutil.copytree(DEFAULT_CATALOG, broken)
    sales = broken / "metrics" / "sales.yaml"
    sales.write_text(sales.read_text(encoding="utf-8").replace("agg: sum", "agg: total", 1), encoding="utf-8")
    result = runner.invoke(app, ["validate", str(broken)])
    assert result.exit_code == 1
    assert "sales.yaml:" in result.stderr and "[metrics[0].agg]" in result.stderr
    ok = runner.invoke(app, ["validate"])
    assert ok.exit_code == 0 and "catalog is valid" in ok.stdout


def test_validate_dry_runs_on_the_warehouse(demo_db: Path) -> None:
    result = runner.invoke(app, ["validate", "--db", str(demo_db)])
    assert result.exit_code == 0, result.stderr
    assert "dry-run queries passed" in result.stdout


def test_installed_entry_point_runs(demo_db: Path, tmp_path: Path) -> None:
    """The real ``chatbi`` script, as the README's first command uses it."""
    exe = Path(sys.executable).parent / "chatbi"
    out = subprocess.run([str(exe), "ask", "最近3个月每月的新客户数", "--json", "--db", str(demo_db)],
                         capture_output=True, text=True, timeout=120, env={"CHATBI_HOME": str(tmp_path), "PATH": ""})
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout)
    assert answer["status"] == "ok"
    assert [r[0] for r in answer["rows"]] == ["2025-10-01", "2025-11-01", "2025-12-01"]


def test_clv_fit_is_mounted_on_the_main_command(tmp_path: Path) -> None:
    """`chatbi clv fit` on the raw CDNOW sample reproduces the published BG/NBD fit."""
    cdnow = Path(__file__).resolve().parent.parent / "fixtures" / "cdnow" / "CDNOW_sample.txt"
    result = runner.invoke(app, [
        "clv", "fit", str(cdnow), "--sep", "whitespace", "--names", "master_id,customer_id,date,cds,amount",
        "--customer-col", "customer_id", "--date-col", "date", "--amount-col", "amount",
        "--calibration-end", "1997-09-30", "--date-format", "%Y%m%d", "--json"])
    assert result.exit_code == 0, result.stderr
    fit = json.loads(result.stdout)
    assert fit["customers"] == 2357
    assert fit["bgnbd"]["r"] == pytest.approx(0.2426, abs=1e-3)
    assert fit["bgnbd"]["loglik"] == pytest.approx(-9582.43, abs=0.05)
    assert fit["gamma_gamma"]["p"] == pytest.approx(6.25, abs=0.01)
