"""Predictive CLV: transaction summaries, BG/NBD + Gamma-Gamma fit, discounted value.

The pipeline is ``summarise_transactions`` (raw rows → x, t_x, T, z̄ per
customer) → ``fit_clv_models`` (BG/NBD in ``metrics.bgnbd``, Gamma-Gamma in
``metrics.gamma_gamma``) → ``score_customers`` (expected purchases, P(alive),
expected spend, CLV per customer).

Time units. Model time is in weeks (1 week = 7 days) or days. Horizons are
given in months and a month is 30 days in both units (30/7 weeks), so a forecast
does not depend on the unit chosen. ``lifetimes``' ``customer_lifetime_value``
also uses 30 days for daily data (its weekly factor, 4.345 weeks, is 30.4 days).
The discount rate is annual; it is applied monthly as (1+d)^(1/12) − 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from metrics.bgnbd import BGNBDParams, expected_purchases, fit_bgnbd, probability_alive
from metrics.gamma_gamma import GammaGammaParams, expected_spend, fit_gamma_gamma
from semantic_layer.errors import UserError, closest

Unit = Literal["week", "day"]
DAYS_PER_UNIT: dict[str, float] = {"week": 7.0, "day": 1.0}
DAYS_PER_MONTH = 30.0

SUMMARY_COLUMNS = (
    "customer", "x", "t_x", "T", "zbar", "revenue", "first_purchase", "last_purchase",
    "x_holdout", "revenue_holdout",
)


class CLVInputError(UserError):
    """Transactions or options the CLV models cannot use (codes 4xx).

    401 missing column, 402 unparseable dates, 403 bad amounts or customer ids,
    404 bad option, 405 no customers in the calibration period, 406 no repeat
    buyers, 407 non-positive repeat spend, 408 unreadable or unwritable file,
    409 any other model precondition the data violates.
    """


@dataclass(frozen=True)
class CLVModels:
    """Both fitted models; together they price a customer."""

    bgnbd: BGNBDParams
    gamma_gamma: GammaGammaParams


def _check_unit(unit: str) -> float:
    if unit not in DAYS_PER_UNIT:
        raise CLVInputError(
            404, f"时间单位必须是 week 或 day,收到 {unit!r}。",
            f"unit must be 'week' or 'day', got {unit!r}.",
        )
    return DAYS_PER_UNIT[unit]


def _check_horizon(horizon_months: int, discount_rate: float) -> None:
    if int(horizon_months) != horizon_months or horizon_months < 1:
        raise CLVInputError(
            404, f"预测期(月)必须是正整数,收到 {horizon_months}。",
            f"horizon_months must be a positive whole number, got {horizon_months}.",
        )
    if not np.isfinite(discount_rate) or discount_rate < 0:
        raise CLVInputError(
            404, f"年折现率必须 ≥ 0,收到 {discount_rate}。",
            f"discount_rate (annual) must be >= 0, got {discount_rate}.",
        )


def _parse_dates(raw: pd.Series, column: str, date_format: str | None) -> pd.Series:
    """Dates to day precision; every unparseable value is an error, not a NaT."""
    if pd.api.types.is_datetime64_any_dtype(raw):
        parsed = raw
    else:
        text = raw.astype("string").str.strip()
        parsed = pd.to_datetime(text, format=date_format, errors="coerce")
    bad = parsed.isna()
    if bad.any():
        examples = ", ".join(repr(v) for v in raw[bad].astype("string").unique()[:3])
        fmt = date_format or "自动识别/auto"
        raise CLVInputError(
            402,
            f"日期列 {column!r} 有 {int(bad.sum())} 个值无法解析(格式 {fmt}),例如 {examples}。"
            "请用 --date-format 指定格式(如 %Y%m%d)或清理这些行。",
            f"date column {column!r} has {int(bad.sum())} value(s) that do not parse "
            f"(format {date_format or 'auto'}), e.g. {examples}. Pass --date-format "
            "(e.g. %Y%m%d) or clean those rows.",
            suggestions=["--date-format %Y%m%d", "--date-format %Y-%m-%d"],
        )
    return parsed.dt.normalize()


def parse_calibration_end(value: object, date_format: str | None = None) -> pd.Timestamp:
    """The calibration end as a day: ISO text, a date, or text in ``date_format``."""
    try:
        ts = pd.Timestamp(value)  # type: ignore[arg-type]
    except (ValueError, TypeError):
        ts = pd.NaT
    if pd.isna(ts) and date_format and isinstance(value, str):
        ts = pd.to_datetime(value, format=date_format, errors="coerce")
    if pd.isna(ts):
        raise CLVInputError(
            404, f"无法解析校准期截止日期 {value!r},请用 YYYY-MM-DD。",
            f"cannot parse the calibration end {value!r}; use YYYY-MM-DD.",
        )
    return pd.Timestamp(ts).normalize()


def summarise_transactions(
    df: pd.DataFrame,
    customer_col: str,
    date_col: str,
    amount_col: str,
    calibration_end: object,
    unit: Unit = "week",
    *,
    date_format: str | None = None,
) -> pd.DataFrame:
    """One row per customer: the (x, t_x, T, z̄) the models take, plus money totals.

    Purchases are aggregated per customer-day first (several orders on one day
    are one purchase occasion, as in FHL's CDNOW data). Within the calibration
    period (up to and including ``calibration_end``): x = purchase-days after the
    first; t_x = (last − first purchase-day) in days / 7 for weeks (not rounded
    down); T = (calibration_end − first purchase-day) / 7; z̄ = mean value of
    the repeat purchase-days (first excluded; 0.0 when x = 0). ``revenue`` is
    the calibration total including the first day; ``x_holdout`` and
    ``revenue_holdout`` count purchase-days after ``calibration_end``. Customers
    whose first purchase is after ``calibration_end`` are not yet acquired and
    are left out.

    >>> tx = pd.DataFrame({"c": [1, 1, 1, 2], "d": ["2024-01-01", "2024-01-01",
    ...                    "2024-01-15", "2024-01-08"], "v": [5.0, 5.0, 20.0, 7.0]})
    >>> s = summarise_transactions(tx, "c", "d", "v", "2024-01-29")
    >>> print(s[["customer", "x", "t_x", "T", "zbar", "revenue"]].to_string(index=False))
     customer  x  t_x   T  zbar  revenue
            1  1  2.0 4.0  20.0     30.0
            2  0  0.0 3.0   0.0      7.0
    """
    days_per_unit = _check_unit(unit)
    missing = [c for c in (customer_col, date_col, amount_col) if c not in df.columns]
    if missing:
        cols = [str(c) for c in df.columns]
        hints = sorted({h for m in missing for h in closest(str(m), cols)})
        raise CLVInputError(
            401,
            f"找不到列 {', '.join(map(repr, missing))};现有列:{', '.join(cols)}。",
            f"column(s) {', '.join(map(repr, missing))} not found; available: {', '.join(cols)}.",
            suggestions=hints,
        )
    cal_end = parse_calibration_end(calibration_end, date_format)

    customers = df[customer_col]
    if customers.isna().any():
        raise CLVInputError(
            403, f"客户列 {customer_col!r} 有 {int(customers.isna().sum())} 个空值。",
            f"customer column {customer_col!r} has {int(customers.isna().sum())} empty value(s).",
        )
    amount = pd.to_numeric(df[amount_col], errors="coerce")
    bad = amount.isna() | ~np.isfinite(amount.astype("float64"))
    if bad.any():
        examples = ", ".join(repr(v) for v in df.loc[bad, amount_col].astype("string").unique()[:3])
        raise CLVInputError(
            403,
            f"金额列 {amount_col!r} 有 {int(bad.sum())} 个非数值,例如 {examples}。",
            f"amount column {amount_col!r} has {int(bad.sum())} non-numeric value(s), "
            f"e.g. {examples}.",
        )
    day = _parse_dates(df[date_col], date_col, date_format)

    daily = (
        pd.DataFrame({"customer": customers.to_numpy(), "day": day.to_numpy(),
                      "amount": amount.astype("float64").to_numpy()})
        .groupby(["customer", "day"], sort=True, as_index=False)["amount"].sum()
    )
    in_cal = daily["day"] <= cal_end
    cal, hold = daily[in_cal], daily[~in_cal]
    if cal.empty:
        raise CLVInputError(
            405, f"校准期截止日 {cal_end.date()} 之前没有任何交易。",
            f"no transactions on or before the calibration end {cal_end.date()}.",
        )

    g = cal.groupby("customer", sort=True)
    first_day = g["day"].min()
    last_day = g["day"].max()
    n_days = g["day"].size()
    revenue = g["amount"].sum()
    # Mean of the repeat days: drop each customer's first day (rows are sorted).
    repeats = cal[cal.duplicated("customer", keep="first")]
    zbar = repeats.groupby("customer")["amount"].mean().reindex(first_day.index, fill_value=0.0)
    hold = hold[hold["customer"].isin(first_day.index)].groupby("customer")["amount"]

    out = pd.DataFrame({
        "customer": first_day.index.to_numpy(),
        "x": (n_days - 1).to_numpy(dtype=np.int64),
        "t_x": ((last_day - first_day).dt.days / days_per_unit).to_numpy(),
        "T": ((cal_end - first_day).dt.days / days_per_unit).to_numpy(),
        "zbar": zbar.to_numpy(dtype=np.float64),
        "revenue": revenue.to_numpy(dtype=np.float64),
        "first_purchase": first_day.to_numpy(),
        "last_purchase": last_day.to_numpy(),
        "x_holdout": hold.size().reindex(first_day.index, fill_value=0).to_numpy(dtype=np.int64),
        "revenue_holdout": hold.sum().reindex(first_day.index, fill_value=0.0).to_numpy(np.float64),
    })
    return out.loc[:, list(SUMMARY_COLUMNS)]


def fit_clv_models(summary: pd.DataFrame) -> CLVModels:
    """Fit BG/NBD on every customer and Gamma-Gamma on the repeat buyers.

    Raises ``CLVInputError`` for the data problems an analyst can fix: no
    repeat buyer at all (neither model is identified) or repeat buyers whose
    mean spend is not positive (refunds netted to zero or below).
    """
    x = summary["x"].to_numpy(np.float64)
    zbar = summary["zbar"].to_numpy(np.float64)
    repeat = x > 0
    if not repeat.any():
        raise CLVInputError(
            406,
            f"{len(summary)} 个客户在校准期内都没有复购,无法拟合模型;请延后校准期截止日或提供更长的交易历史。",
            f"none of the {len(summary)} customers bought again within the calibration "
            "period, so neither model can be fitted; move the calibration end later or "
            "supply a longer transaction history.",
        )
    nonpos = repeat & (zbar <= 0)
    if nonpos.any():
        ids = ", ".join(map(str, summary.loc[nonpos, "customer"].head(3)))
        raise CLVInputError(
            407,
            f"{int(nonpos.sum())} 个复购客户的平均复购金额 ≤ 0(如 {ids});请剔除退款或零金额行。",
            f"{int(nonpos.sum())} repeat buyer(s) have a mean repeat spend <= 0 (e.g. {ids}); "
            "remove refunds or zero-amount rows.",
        )
    bg = fit_bgnbd(x, summary["t_x"], summary["T"])
    gg = fit_gamma_gamma(x, zbar)
    return CLVModels(bgnbd=bg, gamma_gamma=gg)


def customer_lifetime_value(
    models: CLVModels,
    x: ArrayLike, t_x: ArrayLike, T: ArrayLike, zbar: ArrayLike,
    *,
    horizon_months: int = 12,
    discount_rate: float = 0.10,
    unit: Unit = "week",
) -> NDArray[np.float64]:
    """Expected discounted revenue over the next ``horizon_months`` (DCF).

    CLV = E[Z | x, z̄] · Σ_{m=1..H} (E[Y(m·L)] − E[Y((m−1)·L)]) / (1 + d_m)^m,
    with E[Y(t)] from FHL eq. 10, E[Z] the Gamma-Gamma conditional mean,
    L = one month (30 days) in model units and d_m = (1 + d)^(1/12) − 1 the
    monthly rate of the annual ``discount_rate`` d. Purchases within a month are
    discounted as if at its end, as ``lifetimes`` does.
    """
    month = DAYS_PER_MONTH / _check_unit(unit)
    _check_horizon(horizon_months, discount_rate)
    monthly = (1.0 + discount_rate) ** (1.0 / 12.0) - 1.0
    spend = expected_spend(models.gamma_gamma, x, zbar)
    total = np.zeros(np.broadcast(np.asarray(x), np.asarray(t_x), np.asarray(T)).shape)
    previous = np.zeros_like(total)
    for m in range(1, int(horizon_months) + 1):
        cumulative = expected_purchases(models.bgnbd, m * month, x, t_x, T)
        total += (cumulative - previous) / (1.0 + monthly) ** m
        previous = cumulative
    return np.asarray(total * spend, dtype=np.float64)


def score_customers(
    summary: pd.DataFrame,
    models: CLVModels,
    *,
    horizon_months: int = 12,
    discount_rate: float = 0.10,
    unit: Unit = "week",
) -> pd.DataFrame:
    """Per-customer predictions over the horizon, beside the summary columns.

    ``expected_purchases`` is E[Y(H months)] (eq. 10, undiscounted), ``p_alive``
    is P(alive at the calibration end), ``expected_spend`` is E[Z | x, z̄] and
    ``clv`` the discounted value from ``customer_lifetime_value``.
    """
    _check_horizon(horizon_months, discount_rate)
    x, t_x, T, zbar = (summary[c].to_numpy(np.float64) for c in ("x", "t_x", "T", "zbar"))
    horizon = horizon_months * DAYS_PER_MONTH / _check_unit(unit)
    out = summary.loc[:, ["customer", "x", "t_x", "T", "zbar", "revenue"]].copy()
    out["expected_purchases"] = expected_purchases(models.bgnbd, horizon, x, t_x, T)
    out["p_alive"] = probability_alive(models.bgnbd, x, t_x, T)
    out["expected_spend"] = expected_spend(models.gamma_gamma, x, zbar)
    out["clv"] = customer_lifetime_value(
        models, x, t_x, T, zbar,
        horizon_months=horizon_months, discount_rate=discount_rate, unit=unit,
    )
    return out
