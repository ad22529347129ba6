"""Correctness of the CLV models against published fits, numerics and simulation.

Reference data: tests/fixtures/cdnow (the CDNOW sample of Fader, Hardie & Lee
2005; see the README there). Published values are quoted where they are asserted.
"""

from __future__ import annotations

import doctest
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, special, stats

from metrics import bgnbd, clv, gamma_gamma
from metrics.bgnbd import (
    BGNBDParams,
    bgnbd_loglik,
    expected_purchases,
    expected_purchases_new_customer,
    fit_bgnbd,
    probability_alive,
    simulate_bgnbd,
)
from metrics.clv import (
    CLVInputError,
    CLVModels,
    customer_lifetime_value,
    fit_clv_models,
    score_customers,
    summarise_transactions,
)
from metrics.gamma_gamma import (
    GammaGammaParams,
    expected_spend,
    fit_gamma_gamma,
    gamma_gamma_loglik,
    simulate_spend,
)

CDNOW = Path(__file__).resolve().parent.parent / "fixtures" / "cdnow"

# Exact maximum-likelihood optimum on CDNOW (fixtures README) and the rounded
# values published by Fader, Hardie & Lee (2005).
BGNBD_EXACT = {"r": 0.24259, "alpha": 4.41360, "a": 0.79292, "b": 2.42589}
BGNBD_LL_EXACT = -9582.429
BGNBD_PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
GG_EXACT = {"p": 6.2488, "q": 3.7446, "gamma": 15.4478}
GG_PUBLISHED = {"p": 6.25, "q": 3.74, "gamma": 15.44}
GG_LL_PUBLISHED = -4055.92


def read_cdnow_raw() -> pd.DataFrame:
    return pd.read_csv(
        CDNOW / "CDNOW_sample.txt", sep=r"\s+", header=None, dtype=str,
        names=["master_id", "customer", "date", "cds", "amount"],
    )


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    return read_cdnow_raw()


@pytest.fixture(scope="module")
def summary(raw: pd.DataFrame) -> pd.DataFrame:
    return summarise_transactions(
        raw, "customer", "date", "amount", "1997-09-30", unit="week", date_format="%Y%m%d"
    )


@pytest.fixture(scope="module")
def published_summary() -> pd.DataFrame:
    return pd.read_csv(CDNOW / "cdnow_customers_summary_with_transactions.csv")


@pytest.fixture(scope="module")
def fitted(summary: pd.DataFrame) -> CLVModels:
    return fit_clv_models(summary)


def round_half_up(values: pd.Series, decimals: int = 2) -> np.ndarray:
    """Round as the published files do (half up on the decimal value).

    z̄ = 22.345 is stored as 22.3449999…; np.round gives 22.34, the file 22.35.
    The nudge is far below any real difference at 2 decimals.
    """
    scale = 10.0**decimals
    return np.floor(values.to_numpy(np.float64) * scale + 0.5 + 1e-7) / scale


# --- summaries from raw transactions ---------------------------------------------


def test_summary_recomputes_published_cdnow_files(
    summary: pd.DataFrame, published_summary: pd.DataFrame
) -> None:
    ref = published_summary
    assert len(summary) == len(ref) == 2357
    assert summary["customer"].astype(int).tolist() == ref["ID"].tolist()
    assert summary["x"].tolist() == ref["x"].tolist()
    for col in ("t_x", "T", "zbar"):
        np.testing.assert_array_equal(round_half_up(summary[col]), ref[col].to_numpy(), err_msg=col)
    short = pd.read_csv(CDNOW / "cdnow_customers_summary.csv")
    assert summary["x"].tolist() == short["frequency"].tolist()
    np.testing.assert_array_equal(round_half_up(summary["t_x"]), short["recency"].to_numpy())
    np.testing.assert_array_equal(round_half_up(summary["T"]), short["T"].to_numpy())


def test_summary_aggregates_customer_days_and_splits_holdout(summary: pd.DataFrame) -> None:
    # 6,919 rows, 223 of which repeat a customer-day (fixtures README).
    raw = read_cdnow_raw()
    assert len(raw) == 6919
    assert len(raw.drop_duplicates(["customer", "date"])) == 6919 - 223
    first = summary.iloc[0]  # customer 0001: 1997-01-01, 01-18, 08-02 | 12-12
    assert first["x"] == 2 and first["x_holdout"] == 1
    assert first["t_x"] == pytest.approx(213 / 7) and first["T"] == pytest.approx(272 / 7)
    assert first["zbar"] == pytest.approx((29.73 + 14.96) / 2)
    assert first["revenue"] == pytest.approx(29.33 + 29.73 + 14.96)
    assert first["revenue_holdout"] == pytest.approx(26.48)
    total = raw["amount"].astype(float).sum()
    assert summary["revenue"].sum() + summary["revenue_holdout"].sum() == pytest.approx(total)


def test_summary_in_days_is_weeks_times_seven(raw: pd.DataFrame, summary: pd.DataFrame) -> None:
    days = summarise_transactions(raw, "customer", "date", "amount", "1997-09-30",
                                  unit="day", date_format="%Y%m%d")
    np.testing.assert_allclose(days["t_x"], summary["t_x"] * 7)
    np.testing.assert_allclose(days["T"], summary["T"] * 7)
    assert (days["t_x"] == days["t_x"].round()).all()


def test_summary_drops_customers_acquired_after_calibration_end() -> None:
    tx = pd.DataFrame({"c": ["a", "a", "b"], "d": ["2024-01-01", "2024-02-01", "2024-03-01"],
                       "v": [1.0, 2.0, 3.0]})
    s = summarise_transactions(tx, "c", "d", "v", "2024-02-01", unit="day")
    assert s["customer"].tolist() == ["a"]
    assert s[["x", "t_x", "T", "zbar"]].iloc[0].tolist() == [1, 31.0, 31.0, 2.0]


# --- published maximum-likelihood estimates ----------------------------------------


def test_bgnbd_reproduces_published_cdnow_estimates(summary: pd.DataFrame) -> None:
    fit = fit_bgnbd(summary["x"], summary["t_x"], summary["T"])
    for name, exact in BGNBD_EXACT.items():
        assert getattr(fit, name) == pytest.approx(exact, rel=1e-3), name
        assert getattr(fit, name) == pytest.approx(BGNBD_PUBLISHED[name], abs=5e-4), name
    assert fit.loglik == pytest.approx(BGNBD_LL_EXACT, rel=1e-3)
    assert fit.loglik == pytest.approx(BGNBD_LL_EXACT, abs=2e-3)  # in fact to 3 decimals
    assert fit.n == 2357


def test_bgnbd_on_published_rounded_summary_matches_too() -> None:
    short = pd.read_csv(CDNOW / "cdnow_customers_summary.csv")
    fit = fit_bgnbd(short["frequency"], short["recency"], short["T"])
    for name, exact in BGNBD_EXACT.items():
        assert getattr(fit, name) == pytest.approx(exact, rel=1e-3), name
    assert fit.loglik == pytest.approx(BGNBD_LL_EXACT, rel=1e-3)
    assert fit.loglik == pytest.approx(bgnbd_loglik(fit, short["frequency"], short["recency"],
                                                    short["T"]))


def test_bgnbd_optimum_is_a_maximum(summary: pd.DataFrame) -> None:
    fit = fit_bgnbd(summary["x"], summary["t_x"], summary["T"])
    args = (summary["x"], summary["t_x"], summary["T"])
    for name in ("r", "alpha", "a", "b"):
        for step in (0.999, 1.001):
            moved = BGNBDParams(**{k: getattr(fit, k) for k in ("r", "alpha", "a", "b")}
                                | {name: getattr(fit, name) * step})
            assert bgnbd_loglik(moved, *args) < fit.loglik


def test_gamma_gamma_reproduces_published_cdnow_estimates(
    published_summary: pd.DataFrame,
) -> None:
    fit = fit_gamma_gamma(published_summary["x"], published_summary["zbar"])
    assert fit.n == 946
    for name, exact in GG_EXACT.items():
        assert getattr(fit, name) == pytest.approx(exact, rel=1e-3), name
        # printed to 2 decimals (γ's 15.44 is 0.008 below the exact 15.4478)
        assert getattr(fit, name) == pytest.approx(GG_PUBLISHED[name], abs=0.01), name
    assert fit.loglik == pytest.approx(GG_LL_PUBLISHED, abs=0.005)
    repeat = published_summary["x"] > 0
    assert fit.loglik == pytest.approx(gamma_gamma_loglik(
        fit, published_summary.loc[repeat, "x"], published_summary.loc[repeat, "zbar"]))


def test_gamma_gamma_on_unrounded_raw_zbar_stays_within_tolerance(fitted: CLVModels) -> None:
    # The published fit used z̄ rounded to cents; on exact means it moves < 3e-4.
    for name, exact in GG_EXACT.items():
        assert getattr(fitted.gamma_gamma, name) == pytest.approx(exact, rel=1e-3), name
    assert fitted.gamma_gamma.loglik == pytest.approx(GG_LL_PUBLISHED, rel=1e-5)


def test_weights_equal_expanded_rows(published_summary: pd.DataFrame) -> None:
    s = published_summary
    grouped = s.groupby(["x", "t_x", "T"], as_index=False).size()
    assert len(grouped) < len(s)
    a = fit_bgnbd(s["x"], s["t_x"], s["T"])
    b = fit_bgnbd(grouped["x"], grouped["t_x"], grouped["T"], weights=grouped["size"])
    for name in ("r", "alpha", "a", "b", "loglik"):
        assert getattr(b, name) == pytest.approx(getattr(a, name), rel=1e-6), name
    assert b.n == a.n


# --- conditional expectations -------------------------------------------------------

PUB = BGNBDParams(**BGNBD_EXACT)


def test_paper_example_customer() -> None:
    # FHL (2005): x = 2, t_x = 30.43, T = 38.86 expects 1.226 purchases in the
    # next 39 weeks.
    assert float(expected_purchases(PUB, 39, 2, 30.43, 38.86)) == pytest.approx(1.226, abs=5e-4)


def test_lifetimes_quickstart_top_customers() -> None:
    # lifetimes Quickstart (same CDNOW MLE): next-week expected purchases.
    x = [18, 19, 17, 29, 26]
    t_x = [35.14, 34.00, 28.43, 37.71, 30.86]
    T = [35.86, 34.14, 28.86, 38.00, 31.00]
    published = [0.424877, 0.474738, 0.486526, 0.662396, 0.710623]
    np.testing.assert_allclose(expected_purchases(PUB, 1, x, t_x, T), published, rtol=1e-4)


def test_p_alive_is_one_without_repeat_purchases() -> None:
    assert (probability_alive(PUB, [0, 0, 0], [0, 0, 0], [0.0, 5.0, 500.0]) == 1.0).all()
    p = probability_alive(PUB, [1, 5, 50], [1.0, 10.0, 20.0], [40.0, 40.0, 40.0])
    assert ((p > 0) & (p < 1)).all()


def _beta_integral(p: BGNBDParams, t: float, x: int, t_x: float, T: float) -> float:
    """E[Y(t)] by quadrature, not through 2F1: P(alive) · E_p[(1 − (c/(c+pt))^(r+x))/p],

    p ~ Beta(a, b+x), c = α+T — the posterior of an alive customer, with λ
    integrated out analytically. Integrating this in closed form gives eq. 10.
    """
    c = p.alpha + T
    dens = stats.beta(p.a, p.b + x).pdf
    value, _ = integrate.quad(lambda q: -np.expm1((p.r + x) * np.log1p(-q * t / (c + q * t))) / q
                              * dens(q), 0.0, 1.0, limit=200, points=[1e-8, 1e-4, 1e-2])
    return value * float(probability_alive(p, x, t_x, T))


@pytest.mark.parametrize("x,t_x,T", [(0, 0.0, 38.86), (0, 0.0, 0.0), (2, 30.43, 38.86),
                                     (5, 2.0, 60.0), (20, 99.0, 100.0), (200, 99.0, 100.0),
                                     (1000, 99.0, 100.0)])
@pytest.mark.parametrize("t", [0.5, 39.0, 520.0, 5200.0])
def test_conditional_expectation_matches_quadrature(x: int, t_x: float, T: float, t: float) -> None:
    ours = float(expected_purchases(PUB, t, x, t_x, T))
    assert ours == pytest.approx(_beta_integral(PUB, t, x, t_x, T), rel=1e-6, abs=1e-300)


def test_paper_form_of_eq10_agrees_where_it_converges_and_ours_survives_where_not() -> None:
    def paper(t: float, x: int, t_x: float, T: float) -> float:
        p = PUB
        z = t / (p.alpha + T + t)
        head = (p.a + p.b + x - 1) / (p.a - 1)
        body = 1 - ((p.alpha + T) / (p.alpha + T + t)) ** (p.r + x) * special.hyp2f1(
            p.r + x, p.b + x, p.a + p.b + x - 1, z)
        return head * body * float(probability_alive(p, x, t_x, T))

    for t, x, t_x, T in [(39, 2, 30.43, 38.86), (52, 0, 0, 20), (1, 29, 37.71, 38.0)]:
        assert float(expected_purchases(PUB, t, x, t_x, T)) == pytest.approx(paper(t, x, t_x, T),
                                                                             rel=1e-9)
    # A heavy buyer over ten years: the literal eq. 10 gives inf·0 = nan.
    with np.errstate(all="ignore"):
        assert not np.isfinite(paper(5200, 200, 99.0, 100.0))
    ours = float(expected_purchases(PUB, 5200, 200, 99.0, 100.0))
    assert np.isfinite(ours) and ours == pytest.approx(_beta_integral(PUB, 5200, 200, 99.0, 100.0),
                                                       rel=1e-6)


def test_new_customer_expectation_is_eq9() -> None:
    t = np.array([1.0, 39.0, 78.0])
    p = PUB
    z = t / (p.alpha + t)
    eq9 = (p.a + p.b - 1) / (p.a - 1) * (
        1 - (p.alpha / (p.alpha + t)) ** p.r * special.hyp2f1(p.r, p.b, p.a + p.b - 1, z))
    np.testing.assert_allclose(expected_purchases_new_customer(p, t), eq9, rtol=1e-10)


def test_expectation_is_continuous_at_a_equal_one() -> None:
    at = [BGNBDParams(0.5, 4.0, a, 2.4) for a in (1 - 1e-4, 1.0, 1 + 1e-4)]
    vals = [float(expected_purchases(p, 39, 3, 20.0, 30.0)) for p in at]
    assert np.isfinite(vals).all()
    assert vals[1] == pytest.approx((vals[0] + vals[2]) / 2, rel=1e-6)


def test_monotonicity() -> None:
    T = 40.0
    t_x = np.linspace(0.5, 40.0, 50)
    alive = probability_alive(PUB, 3, t_x, T)
    assert (np.diff(alive) > 0).all()  # a more recent last purchase → more likely alive
    ages = np.linspace(10.0, 200.0, 50)
    assert (np.diff(probability_alive(PUB, 3, 10.0, ages)) < 0).all()  # silence since → less
    horizons = np.linspace(1, 500, 50)
    assert (np.diff(expected_purchases(PUB, horizons, 3, 20.0, T)) > 0).all()
    assert (np.diff(expected_purchases(PUB, 39, 3, t_x, T)) > 0).all()
    assert (np.diff(expected_purchases(PUB, 39, 0, 0.0, ages)) < 0).all()  # never came back
    x = np.arange(0, 30)
    assert (np.diff(expected_purchases(PUB, 39, x, np.where(x > 0, T, 0.0), T)) > 0).all()
    assert float(expected_purchases(PUB, 0.0, 4, 20.0, T)) == 0.0


def _simulate_holdout(p: BGNBDParams, T: np.ndarray, t: float, rng: np.random.Generator):
    """Forward-simulate calibration (0, T] and holdout (T, T+t] of the BG/NBD process.

    Poisson increments on disjoint intervals are independent, so the two counts
    of purchase opportunities are drawn separately; the customer dies at their
    G-th repeat purchase.
    """
    lam = rng.gamma(p.r, 1 / p.alpha, T.shape)
    drop = np.clip(rng.beta(p.a, p.b, T.shape), 1e-12, 1)
    g = rng.geometric(drop)
    n_cal = rng.poisson(lam * T)
    n_hold = rng.poisson(lam * t)
    x = np.minimum(n_cal, g)
    t_x = np.zeros(T.shape)
    pos = x > 0
    t_x[pos] = T[pos] * rng.beta(x[pos], n_cal[pos] - x[pos] + 1)
    hold = np.where(g > n_cal, np.minimum(n_hold, g - n_cal), 0)
    return x, t_x, hold


def test_conditional_expectation_agrees_with_monte_carlo() -> None:
    # For any grouping of the calibration data, the mean simulated holdout count
    # must equal the mean of eq. 10 over the group (tower property).
    rng = np.random.default_rng(20050301)
    n, t = 400_000, 39.0
    T = rng.uniform(10.0, 52.0, n)
    x, t_x, hold = _simulate_holdout(PUB, T, t, rng)
    pred = expected_purchases(PUB, t, x, t_x, T)
    groups = np.select([x == 0, x == 1, x == 2, x <= 5, x <= 15], [0, 1, 2, 3, 4], 5)
    recent = t_x > 0.8 * T
    for gid in range(6):
        for flag in (True, False):
            m = (groups == gid) & (recent == flag)
            if m.sum() < 500:
                continue
            se = hold[m].std() / np.sqrt(m.sum())
            assert abs(hold[m].mean() - pred[m].mean()) < 4 * se + 1e-3, (gid, flag)


def test_single_customer_expectation_agrees_with_importance_sampling() -> None:
    # Posterior of (λ, p, alive) for x=2, t_x=30.43, T=38.86 by weighting prior
    # draws with the individual-level likelihood L(λ, p | x, t_x, T) of FHL section 3
    # — the alive and the dropped-after-t_x branches — then simulating 39 weeks.
    rng = np.random.default_rng(7)
    n, x, t_x, T, t = 2_000_000, 2, 30.43, 38.86, 39.0
    p = PUB
    lam = rng.gamma(p.r, 1 / p.alpha, n)
    drop = np.clip(rng.beta(p.a, p.b, n), 1e-12, 1)
    l_alive = (1 - drop) ** x * lam**x * np.exp(-lam * T)
    l_dead = drop * (1 - drop) ** (x - 1) * lam**x * np.exp(-lam * t_x)
    w = l_alive + l_dead
    alive = rng.random(n) < l_alive / w
    count = np.where(alive, np.minimum(rng.poisson(lam * t), rng.geometric(drop)), 0)
    w = w / w.sum()
    mean = float(w @ count)
    se = float(np.sqrt(w**2 @ (count - mean) ** 2))
    expected = float(expected_purchases(p, t, x, t_x, T))
    assert abs(mean - expected) < 4 * se
    assert float(w @ alive) == pytest.approx(float(probability_alive(p, x, t_x, T)), abs=0.01)


# --- simulation and parameter recovery ----------------------------------------------


def test_simulator_matches_eq9() -> None:
    rng = np.random.default_rng(3)
    T = np.full(300_000, 52.0)
    x, t_x = simulate_bgnbd(PUB, T, rng)
    assert ((t_x >= 0) & (t_x <= T) & ((x > 0) | (t_x == 0))).all()
    se = x.std() / np.sqrt(x.size)
    assert abs(x.mean() - float(expected_purchases_new_customer(PUB, 52.0))) < 4 * se


def _hessian_se(fit: BGNBDParams, x, t_x, T) -> np.ndarray:
    """Standard errors of the log-parameters from a finite-difference Hessian."""
    theta = np.log([fit.r, fit.alpha, fit.a, fit.b])

    def ll(th: np.ndarray) -> float:
        return bgnbd_loglik(BGNBDParams(*np.exp(th)), x, t_x, T)

    h, eye = 1e-4, np.eye(4)
    hess = np.array([[(ll(theta + h * (eye[i] + eye[j])) - ll(theta + h * (eye[i] - eye[j]))
                       - ll(theta - h * (eye[i] - eye[j])) + ll(theta - h * (eye[i] + eye[j])))
                      / (4 * h * h) for j in range(4)] for i in range(4)])
    return np.sqrt(np.diag(np.linalg.inv(-hess)))


def test_bgnbd_recovers_simulated_parameters() -> None:
    true = BGNBDParams(r=0.5, alpha=6.0, a=0.8, b=2.5)
    rng = np.random.default_rng(42)
    T = rng.uniform(26.0, 78.0, 5_000)
    x, t_x = simulate_bgnbd(true, T, rng)
    fit = fit_bgnbd(x, t_x, T)
    se = _hessian_se(fit, x, t_x, T)
    est = np.log([fit.r, fit.alpha, fit.a, fit.b])
    z = (est - np.log([true.r, true.alpha, true.a, true.b])) / se
    assert (np.abs(z) < 4).all(), z
    for name in ("r", "alpha", "a", "b"):
        assert getattr(fit, name) == pytest.approx(getattr(true, name), rel=0.3), name
    assert fit.loglik >= bgnbd_loglik(true, x, t_x, T)


def test_gamma_gamma_recovers_simulated_parameters() -> None:
    true = GammaGammaParams(p=6.0, q=4.0, gamma=15.0)
    rng = np.random.default_rng(11)
    x = rng.integers(1, 15, 5_000).astype(float)
    zbar = simulate_spend(true, x, rng)
    fit = fit_gamma_gamma(x, zbar)
    for name in ("p", "q", "gamma"):
        assert getattr(fit, name) == pytest.approx(getattr(true, name), rel=0.15), name
    assert fit.loglik >= gamma_gamma_loglik(true, x, zbar)
    pop = fit.p * fit.gamma / (fit.q - 1)
    assert pop == pytest.approx(true.p * true.gamma / (true.q - 1), rel=0.05)


# --- expected spend and CLV ---------------------------------------------------------


def test_expected_spend_matches_lifetimes_quickstart(published_summary: pd.DataFrame) -> None:
    s = published_summary
    fit = fit_gamma_gamma(s["x"], s["zbar"])
    published = [24.658619, 18.911489, 35.170981, 35.170981, 35.170981, 71.462843,
                 18.911489, 35.170981, 27.282408, 35.170981]
    np.testing.assert_allclose(expected_spend(fit, s["x"][:10], s["zbar"][:10]), published,
                               rtol=1e-6)
    assert float(expected_spend(fit, s["x"], s["zbar"]).mean()) == pytest.approx(35.2529588256,
                                                                                rel=1e-6)


def test_expected_spend_shrinks_towards_population_mean() -> None:
    gg = GammaGammaParams(p=6.25, q=3.74, gamma=15.44)
    pop = gg.p * gg.gamma / (gg.q - 1)
    assert float(expected_spend(gg, 0, 999.0)) == pytest.approx(pop)
    x = np.arange(1, 200)
    e = expected_spend(gg, x, 100.0)
    assert ((e > pop) & (e < 100.0)).all() and (np.diff(e) > 0).all()
    assert float(expected_spend(gg, 10**7, 100.0)) == pytest.approx(100.0, rel=1e-5)


def test_clv_matches_lifetimes_dcf(published_summary: pd.DataFrame) -> None:
    # lifetimes Quickstart: time=12 months, discount_rate=0.01 a month, default
    # freq="D" — i.e. the weekly CDNOW times read as days. Same DCF sum.
    s = published_summary
    models = CLVModels(fit_bgnbd(s["x"], s["t_x"], s["T"]), fit_gamma_gamma(s["x"], s["zbar"]))
    value = customer_lifetime_value(models, s["x"][:10], s["t_x"][:10], s["T"][:10],
                                    s["zbar"][:10], horizon_months=12,
                                    discount_rate=1.01**12 - 1, unit="day")
    published = [140.096211, 18.943467, 38.180574, 38.180574, 38.180574, 1003.868107,
                 28.109683, 38.180574, 167.418216, 38.180574]
    np.testing.assert_allclose(value, published, rtol=1e-6)


def test_clv_without_discount_is_spend_times_purchases(
    summary: pd.DataFrame, fitted: CLVModels
) -> None:
    s = summary.head(50)
    args = (s["x"], s["t_x"], s["T"], s["zbar"])
    flat = customer_lifetime_value(fitted, *args, horizon_months=6, discount_rate=0.0)
    purchases = expected_purchases(fitted.bgnbd, 6 * 30 / 7, s["x"], s["t_x"], s["T"])
    spend = expected_spend(fitted.gamma_gamma, s["x"], s["zbar"])
    np.testing.assert_allclose(flat, purchases * spend, rtol=1e-12)
    base = customer_lifetime_value(fitted, *args)
    assert (customer_lifetime_value(fitted, *args, discount_rate=0.3) < base).all()
    assert (customer_lifetime_value(fitted, *args, horizon_months=24) > base).all()
    assert (flat > 0).all()


def test_clv_is_invariant_to_time_unit(raw: pd.DataFrame, summary: pd.DataFrame,
                                       fitted: CLVModels) -> None:
    days = summarise_transactions(raw, "customer", "date", "amount", "1997-09-30",
                                  unit="day", date_format="%Y%m%d")
    in_days = fit_clv_models(days)
    assert in_days.bgnbd.alpha == pytest.approx(7 * fitted.bgnbd.alpha, rel=1e-5)
    for name in ("r", "a", "b"):
        assert getattr(in_days.bgnbd, name) == pytest.approx(getattr(fitted.bgnbd, name), rel=1e-5)
    weekly = score_customers(summary, fitted)
    daily = score_customers(days, in_days, unit="day")
    for col in ("expected_purchases", "p_alive", "expected_spend", "clv"):
        np.testing.assert_allclose(daily[col], weekly[col], rtol=1e-5, err_msg=col)


def test_score_customers_columns(summary: pd.DataFrame, fitted: CLVModels) -> None:
    scored = score_customers(summary, fitted, horizon_months=12, discount_rate=0.1)
    assert list(scored.columns) == ["customer", "x", "t_x", "T", "zbar", "revenue",
                                    "expected_purchases", "p_alive", "expected_spend", "clv"]
    assert len(scored) == 2357 and np.isfinite(scored.select_dtypes("number")).all().all()
    assert scored["customer"].tolist() == summary["customer"].tolist()
    horizon = 12 * 30 / 7
    np.testing.assert_allclose(scored["expected_purchases"], expected_purchases(
        fitted.bgnbd, horizon, summary["x"], summary["t_x"], summary["T"]))
    assert ((scored["p_alive"] > 0) & (scored["p_alive"] <= 1)).all()
    assert (scored["clv"] < scored["expected_purchases"] * scored["expected_spend"]).all()


# --- input errors -----------------------------------------------------------------


def test_missing_column_names_closest(raw: pd.DataFrame) -> None:
    with pytest.raises(CLVInputError) as err:
        summarise_transactions(raw, "custmer", "date", "amount", "1997-09-30")
    assert err.value.code == 401 and "custmer" in err.value.message_en
    assert "customer" in err.value.suggestions and "custmer" in err.value.message_zh


def test_unparseable_dates_and_amounts(raw: pd.DataFrame) -> None:
    with pytest.raises(CLVInputError) as err:
        summarise_transactions(raw, "customer", "date", "amount", "1997-09-30",
                               date_format="%Y-%m-%d")
    assert err.value.code == 402 and "--date-format" in err.value.message_en
    bad = raw.copy()
    bad.loc[3, "amount"] = "n/a"
    with pytest.raises(CLVInputError) as err:
        summarise_transactions(bad, "customer", "date", "amount", "1997-09-30",
                               date_format="%Y%m%d")
    assert err.value.code == 403 and "'n/a'" in err.value.message_en
    with pytest.raises(CLVInputError) as err:
        summarise_transactions(raw, "customer", "date", "amount", "not a date",
                               date_format="%Y%m%d")
    assert err.value.code == 404


def test_no_repeat_buyers_and_refunds() -> None:
    once = pd.DataFrame({"c": [1, 2], "d": ["2024-01-01", "2024-01-02"], "v": [5.0, 6.0]})
    s = summarise_transactions(once, "c", "d", "v", "2024-03-01")
    with pytest.raises(CLVInputError) as err:
        fit_clv_models(s)
    assert err.value.code == 406
    refund = pd.DataFrame({"c": [1, 1, 2, 2], "d": ["2024-01-01", "2024-01-05"] * 2,
                           "v": [5.0, -5.0, 6.0, 7.0]})
    with pytest.raises(CLVInputError) as err:
        fit_clv_models(summarise_transactions(refund, "c", "d", "v", "2024-03-01"))
    assert err.value.code == 407


def test_bad_options(summary: pd.DataFrame, fitted: CLVModels) -> None:
    for kwargs in ({"horizon_months": 0}, {"horizon_months": 1.5}, {"discount_rate": -0.1},
                   {"unit": "month"}):
        with pytest.raises(CLVInputError) as err:
            score_customers(summary.head(3), fitted, **kwargs)  # type: ignore[arg-type]
        assert err.value.code == 404, kwargs


def test_model_preconditions() -> None:
    with pytest.raises(ValueError):
        fit_bgnbd([0, 0], [0.0, 0.0], [5.0, 6.0])
    with pytest.raises(ValueError):
        fit_bgnbd([1], [7.0], [5.0])  # t_x > T
    with pytest.raises(ValueError):
        fit_gamma_gamma([0, 0], [0.0, 0.0])
    with pytest.raises(ValueError):
        expected_spend(GammaGammaParams(1.0, 0.9, 1.0), 1, 10.0)


# --- docs ---------------------------------------------------------------------------


@pytest.mark.parametrize("module", [bgnbd, gamma_gamma, clv], ids=lambda m: m.__name__)
def test_docstring_examples_run(module: object) -> None:
    result = doctest.testmod(module, verbose=False)  # type: ignore[arg-type]
    assert result.attempted > 0 and result.failed == 0
