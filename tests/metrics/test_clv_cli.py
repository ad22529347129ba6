"""End-to-end tests of ``chatbi clv fit`` on the raw CDNOW sample and on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner, Result

from metrics.clv import fit_clv_models, score_customers, summarise_transactions
from metrics.clv_cli import clv_app

CDNOW = Path(__file__).resolve().parent.parent / "fixtures" / "cdnow"
RAW = CDNOW / "CDNOW_sample.txt"
CDNOW_ARGS = [
    "--sep", "whitespace", "--names", "master_id,customer_id,date,cds,amount",
    "--customer-col", "customer_id", "--date-col", "date", "--amount-col", "amount",
    "--calibration-end", "1997-09-30", "--unit", "week", "--date-format", "%Y%m%d",
]

# Mounted the way the lead mounts it on the main CLI.
app = typer.Typer()
app.add_typer(clv_app, name="clv")
runner = CliRunner()


def run(*args: str | Path) -> Result:
    return runner.invoke(app, ["clv", "fit", *map(str, args)])


def test_json_reproduces_published_estimates_from_raw_cdnow() -> None:
    result = run(RAW, *CDNOW_ARGS, "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload.keys() == {"bgnbd", "gamma_gamma", "customers"}
    assert payload["bgnbd"].keys() == {"r", "alpha", "a", "b", "loglik"}
    assert payload["gamma_gamma"].keys() == {"p", "q", "gamma", "loglik"}
    assert payload["customers"] == 2357
    exact = {"r": 0.24259, "alpha": 4.41360, "a": 0.79292, "b": 2.42589, "loglik": -9582.429}
    for name, value in exact.items():
        assert payload["bgnbd"][name] == pytest.approx(value, rel=1e-3), name
    gg = {"p": 6.2488, "q": 3.7446, "gamma": 15.4478, "loglik": -4055.92}
    for name, value in gg.items():
        assert payload["gamma_gamma"][name] == pytest.approx(value, rel=1e-3), name


def test_text_summary_is_bilingual() -> None:
    result = run(RAW, *CDNOW_ARGS)
    assert result.exit_code == 0, result.output
    out = result.stdout
    for label in ("客户数 / customers: 2357", "复购客户 / repeat buyers: 946",
                  "对数似然 / log-likelihood", "未来 12 个月", "next 12 months", "CLV 合计 / total CLV"):
        assert label in out, label
    assert "0.2426" in out and "4.4136" in out and "6.2496" in out and "-9582.429" in out


def test_out_writes_per_customer_predictions(tmp_path: Path) -> None:
    target = tmp_path / "predictions.csv"
    result = run(RAW, *CDNOW_ARGS, "--horizon-months", "6", "--discount-rate", "0.2",
                 "--json", "--out", target)
    assert result.exit_code == 0, result.output
    json.loads(result.stdout)  # stdout stays pure JSON when --out is given
    written = pd.read_csv(target, dtype={"customer_id": str})
    assert list(written.columns) == ["customer_id", "x", "t_x", "T", "zbar", "revenue",
                                     "expected_purchases", "p_alive", "expected_spend", "clv"]
    assert len(written) == 2357 and written["customer_id"].iloc[0] == "0001"
    raw = pd.read_csv(RAW, sep=r"\s+", header=None, dtype=str,
                      names=["m", "customer", "date", "cds", "amount"])
    summary = summarise_transactions(raw, "customer", "date", "amount", "1997-09-30",
                                     date_format="%Y%m%d")
    expected = score_customers(summary, fit_clv_models(summary), horizon_months=6,
                               discount_rate=0.2)
    for col in ("expected_purchases", "p_alive", "expected_spend", "clv"):
        np.testing.assert_allclose(written[col], expected[col], rtol=1e-12, err_msg=col)


def test_plain_csv_with_header_and_iso_dates(tmp_path: Path) -> None:
    raw = pd.read_csv(RAW, sep=r"\s+", header=None, dtype=str,
                      names=["m", "cust", "day", "cds", "value"])
    raw["day"] = pd.to_datetime(raw["day"], format="%Y%m%d").dt.strftime("%Y-%m-%d")
    path = tmp_path / "orders.csv"
    raw[["cust", "day", "value"]].to_csv(path, index=False)
    result = runner.invoke(app, ["clv", "fit", str(path), "--customer-col", "cust",
                                 "--date-col", "day", "--amount-col", "value",
                                 "--calibration-end", "1997-09-30", "--unit", "day", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["bgnbd"]["alpha"] == pytest.approx(7 * 4.41360, rel=1e-3)  # α in days
    assert payload["bgnbd"]["r"] == pytest.approx(0.24259, rel=1e-3)


def _assert_clean_failure(result: Result, *needles: str) -> None:
    assert result.exit_code == 2
    assert result.stdout == ""
    assert isinstance(result.exception, SystemExit)  # typer.Exit, not a crash
    assert "Traceback" not in result.output
    err = result.stderr
    assert "错误" in err and "Error" in err
    for needle in needles:
        assert needle in err, (needle, err)


def test_missing_column_is_a_bilingual_error() -> None:
    args = [a if a != "customer_id" else "customer" for a in CDNOW_ARGS]
    args[args.index("--names") + 1] = "master_id,customer_id,date,cds,amount"
    result = run(RAW, *args)
    _assert_clean_failure(result, "'customer'", "找不到列", "not found", "customer_id")


def test_unparseable_dates_is_a_bilingual_error() -> None:
    args = list(CDNOW_ARGS)
    args[args.index("--date-format") + 1] = "%d/%m/%Y"
    result = run(RAW, *args)
    _assert_clean_failure(result, "'date'", "无法解析", "--date-format", "'19970101'")


def test_no_repeat_buyers_is_a_bilingual_error(tmp_path: Path) -> None:
    path = tmp_path / "once.csv"
    path.write_text("customer,date,amount\na,2024-01-01,5\nb,2024-01-02,7\n", encoding="utf-8")
    result = runner.invoke(app, ["clv", "fit", str(path), "--customer-col", "customer",
                                 "--date-col", "date", "--amount-col", "amount",
                                 "--calibration-end", "2024-03-31"])
    _assert_clean_failure(result, "复购", "bought again")


def test_unreadable_file_and_bad_amount(tmp_path: Path) -> None:
    result = run(tmp_path / "missing.csv", *CDNOW_ARGS)
    _assert_clean_failure(result, "missing.csv", "无法读取")
    path = tmp_path / "bad.csv"
    path.write_text("customer,date,amount\na,2024-01-01,5\na,2024-01-09,abc\n", encoding="utf-8")
    result = runner.invoke(app, ["clv", "fit", str(path), "--customer-col", "customer",
                                 "--date-col", "date", "--amount-col", "amount",
                                 "--calibration-end", "2024-03-31"])
    _assert_clean_failure(result, "'abc'", "金额列", "amount column")


def test_help_lists_every_option() -> None:
    result = runner.invoke(app, ["clv", "fit", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for option in ("--customer-col", "--date-col", "--amount-col", "--calibration-end",
                   "--unit", "--date-format", "--sep", "--names", "--horizon-months",
                   "--discount-rate", "--json", "--out"):
        assert option in result.output, option
