"""``chatbi clv fit``: fit BG/NBD + Gamma-Gamma on a transactions file.

The lead mounts ``clv_app`` on the main CLI with ``app.add_typer(clv_app,
name="clv")``. Input problems (missing column, unparseable dates, no repeat
buyers…) exit with code 2 and a bilingual message on stderr, never a traceback.
"""

from __future__ import annotations

import json
import math
import unicodedata
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import numpy as np
import pandas as pd
import typer

from metrics.clv import (
    CLVInputError,
    CLVModels,
    fit_clv_models,
    parse_calibration_end,
    score_customers,
    summarise_transactions,
)

clv_app = typer.Typer(
    help="客户终身价值 (BG/NBD + Gamma-Gamma) / Customer lifetime value models.",
    no_args_is_help=True,
    add_completion=False,
)

# --sep aliases: CDNOW-style files are space-aligned, which one literal space
# would split into empty columns; "whitespace" means any run of blanks.
_SEP_ALIASES = {"whitespace": r"\s+", "space": r"\s+", "tab": "\t", r"\t": "\t"}


class TimeUnit(str, Enum):
    """Model time unit; horizons are converted with 1 month = 30 days."""

    week = "week"
    day = "day"


@clv_app.callback()
def clv() -> None:
    """客户终身价值 / Customer lifetime value (BG/NBD + Gamma-Gamma)."""


def _read_transactions(path: Path, sep: str, names: str | None) -> pd.DataFrame:
    """Read every column as text: ids keep leading zeros, dates parse later."""
    column_names = [n.strip() for n in names.split(",")] if names else None
    try:
        return pd.read_csv(
            path, sep=_SEP_ALIASES.get(sep, sep), dtype=str, names=column_names,
            header=None if column_names else "infer", skipinitialspace=True,
        )
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise CLVInputError(
            408,
            f"无法读取交易文件 {str(path)!r}:{exc}。请检查路径、分隔符 (--sep) 和编码 (UTF-8)。",
            f"cannot read the transactions file {str(path)!r}: {exc}. Check the path, "
            "the separator (--sep) and the encoding (UTF-8).",
        ) from exc


def _pad(text: str, width: int) -> str:
    """Left-justify by display width: CJK characters take two terminal cells."""
    cells = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(width - cells, 0)


def _params_json(models: CLVModels, customers: int) -> str:
    bg, gg = models.bgnbd, models.gamma_gamma
    return json.dumps({
        "bgnbd": {"r": bg.r, "alpha": bg.alpha, "a": bg.a, "b": bg.b, "loglik": bg.loglik},
        "gamma_gamma": {"p": gg.p, "q": gg.q, "gamma": gg.gamma, "loglik": gg.loglik},
        "customers": customers,
    })


def _summary_text(
    models: CLVModels, scored: pd.DataFrame, unit: str, cal_end: str,
    horizon_months: int, discount_rate: float,
) -> str:
    bg, gg = models.bgnbd, models.gamma_gamma
    repeat = scored["x"] > 0
    rows = [
        "CLV 模型拟合结果 / CLV model fit",
        f"  客户数 / customers: {len(scored)}    复购客户 / repeat buyers: {int(repeat.sum())}",
        f"  时间单位 / time unit: {unit}    校准期截止 / calibration end: {cal_end}",
        "",
        "BG/NBD — 购买次数与存活概率 / purchase count and P(alive)",
        f"  {_pad('参数 / parameter', 30)}{'估计值 / estimate'}",
        *(f"  {_pad(k, 30)}{v:>12.4f}" for k, v in
          (("r", bg.r), ("alpha", bg.alpha), ("a", bg.a), ("b", bg.b))),
        f"  {_pad('对数似然 / log-likelihood', 30)}{bg.loglik:>12.3f}",
        "",
        "Gamma-Gamma — 每次消费金额 / spend per purchase",
        f"  {_pad('参数 / parameter', 30)}{'估计值 / estimate'}",
        *(f"  {_pad(k, 30)}{v:>12.4f}" for k, v in
          (("p", gg.p), ("q", gg.q), ("gamma", gg.gamma))),
        f"  {_pad('对数似然 / log-likelihood', 30)}{gg.loglik:>12.3f}",
        "",
        f"未来 {horizon_months} 个月预测(年折现率 {discount_rate:.1%})/ "
        f"next {horizon_months} months (annual discount {discount_rate:.1%})",
        f"  预期购买次数合计 / expected purchases, total: {scored['expected_purchases'].sum():,.1f}",
        f"  平均存活概率 / mean P(alive): {scored['p_alive'].mean():.3f}",
        f"  平均预期单次消费 / mean expected spend: {scored['expected_spend'].mean():,.2f}",
        f"  CLV 合计 / total CLV: {scored['clv'].sum():,.2f}    "
        f"平均 / mean: {scored['clv'].mean():,.2f}",
    ]
    # Gamma-Gamma assumes spend is independent of frequency; say so when it is not.
    if repeat.sum() > 2:
        corr = float(np.corrcoef(scored.loc[repeat, "x"], scored.loc[repeat, "zbar"])[0, 1])
        if math.isfinite(corr) and abs(corr) > 0.3:
            rows += [
                "",
                f"  注意:复购次数与平均消费的相关系数为 {corr:+.2f},Gamma-Gamma 假设二者独立。",
                f"  Note: frequency and mean spend correlate at {corr:+.2f}; "
                "Gamma-Gamma assumes they are independent.",
            ]
    return "\n".join(rows)


def _fail(exc: CLVInputError) -> typer.Exit:
    lines = [f"错误 [{exc.code}]:{exc.message_zh}", f"Error [{exc.code}]: {exc.message_en}"]
    if exc.suggestions:
        lines.append("建议 / suggestions: " + ", ".join(exc.suggestions))
    typer.echo("\n".join(lines), err=True)
    return typer.Exit(code=2)


@clv_app.command("fit")
def fit(
    transactions: Annotated[Path, typer.Argument(
        help="交易文件 (CSV 等) / transactions file, one row per order line.")],
    customer_col: Annotated[str, typer.Option(help="客户 ID 列 / customer id column.")],
    date_col: Annotated[str, typer.Option(help="交易日期列 / transaction date column.")],
    amount_col: Annotated[str, typer.Option(help="交易金额列 / transaction amount column.")],
    calibration_end: Annotated[str, typer.Option(
        help="校准期最后一天 (含) / last day of the calibration period, YYYY-MM-DD.")],
    unit: Annotated[TimeUnit, typer.Option(
        help="模型时间单位 / model time unit (1 month = 30 days).")] = TimeUnit.week,
    date_format: Annotated[Optional[str], typer.Option(
        help="日期格式 / date format, e.g. %Y%m%d; default: inferred.")] = None,
    sep: Annotated[str, typer.Option(
        help="分隔符 / field separator; 'whitespace' for space-aligned files, 'tab'.")] = ",",
    names: Annotated[Optional[str], typer.Option(
        help="无表头文件的列名,逗号分隔 / column names for a file without header, "
             "comma-separated.")] = None,
    horizon_months: Annotated[int, typer.Option(
        min=1, help="预测期(月)/ forecast horizon in months.")] = 12,
    discount_rate: Annotated[float, typer.Option(
        min=0.0, help="年折现率 / annual discount rate.")] = 0.10,
    json_output: Annotated[bool, typer.Option(
        "--json", help="以 JSON 输出参数 / print the fitted parameters as JSON.")] = False,
    out: Annotated[Optional[Path], typer.Option(
        help="写出每个客户的预测 (CSV) / write per-customer predictions to this CSV.")] = None,
) -> None:
    """拟合 BG/NBD 与 Gamma-Gamma 模型并预测 CLV / Fit BG/NBD + Gamma-Gamma and predict CLV.

    Purchases are aggregated per customer-day; x, t_x and T are measured in
    ``--unit`` from each customer's first purchase to ``--calibration-end``.
    """
    try:
        frame = _read_transactions(transactions, sep, names)
        summary = summarise_transactions(
            frame, customer_col, date_col, amount_col, calibration_end,
            unit=unit.value, date_format=date_format,
        )
        models = fit_clv_models(summary)
        scored = None
        if out is not None or not json_output:
            scored = score_customers(
                summary, models, horizon_months=horizon_months,
                discount_rate=discount_rate, unit=unit.value,
            )
        if out is not None and scored is not None:
            try:
                scored.rename(columns={"customer": customer_col}).to_csv(out, index=False)
            except OSError as exc:
                raise CLVInputError(
                    408, f"无法写入 {str(out)!r}:{exc}", f"cannot write {str(out)!r}: {exc}",
                ) from exc
    except CLVInputError as exc:
        raise _fail(exc) from None
    except ValueError as exc:  # a model precondition the checks above did not foresee
        raise _fail(CLVInputError(
            409, f"数据无法用于 CLV 模型:{exc}", f"the data cannot be used by the CLV models: {exc}",
        )) from None

    if json_output:
        typer.echo(_params_json(models, len(summary)))
    else:
        assert scored is not None
        cal_end = parse_calibration_end(calibration_end, date_format).date()
        typer.echo(_summary_text(models, scored, unit.value, str(cal_end),
                                 horizon_months, discount_rate))
        if out is not None:
            typer.echo(f"\n已写出 / written: {out} ({len(scored)} 行 / rows)")
