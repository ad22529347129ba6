"""BG/NBD purchase model: maximum-likelihood fit and per-customer predictions.

Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way: An Alternative
to the Pareto/NBD Model", Marketing Science 24(2) — "FHL" below. While alive a
customer buys as a Poisson process with rate λ ~ Gamma(r, α); after every repeat
purchase they drop out with probability p ~ Beta(a, b). Inputs per customer are
the calibration summary (x, t_x, T): repeat purchases, time of the last one and
age, all measured from the first purchase in one time unit (weeks or days).

Everything is evaluated in log space with ``gammaln``/``digamma`` so that heavy
buyers (large x) neither overflow nor lose the small dropout term; the fit
optimises the log-parameters (so they stay positive) with L-BFGS-B on an analytic
gradient, and every term that depends on x alone is computed once per distinct x.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special

FloatArray = NDArray[np.float64]

# log-parameter box: e^±20 spans any plausible scale (α in days or weeks) while
# keeping the optimiser out of overflow when a direction is flat.
_LOG_BOUND = 20.0


@dataclass(frozen=True)
class BGNBDParams:
    """Fitted (or assumed) BG/NBD parameters.

    ``r, alpha`` shape and rate of the Gamma over purchase rates (α is in the
    time unit of the data); ``a, b`` the Beta over dropout probabilities.
    ``loglik`` is the maximised log-likelihood (FHL eq. 6 summed), ``n`` the
    number of customers it was fitted on; both default to "not fitted".
    """

    r: float
    alpha: float
    a: float
    b: float
    loglik: float = float("nan")
    n: int = 0


def _check_summary(
    x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Validate (x, t_x, T) as the model defines them, broadcast to one shape."""
    xa, ta, Ta = np.broadcast_arrays(
        np.asarray(x, dtype=np.float64),
        np.asarray(t_x, dtype=np.float64),
        np.asarray(T, dtype=np.float64),
    )
    if not (np.isfinite(xa).all() and np.isfinite(ta).all() and np.isfinite(Ta).all()):
        raise ValueError("x, t_x and T must be finite")
    if (xa < 0).any() or (xa != np.round(xa)).any():
        raise ValueError("x (repeat purchases) must be a non-negative integer")
    # summaries rounded to 2 decimals (as CDNOW is) may put t_x a hair above T
    if (ta < 0).any() or (ta > Ta + 1e-6).any():
        raise ValueError("need 0 <= t_x <= T for every customer")
    return xa, ta, Ta


def _bgnbd_objective(
    theta: FloatArray,
    xu: FloatArray,
    inv: NDArray[np.intp],
    w_u: FloatArray,
    t_x: FloatArray,
    T: FloatArray,
    x: FloatArray,
    w: FloatArray,
    w_total: float,
) -> tuple[float, FloatArray]:
    """Mean negative log-likelihood (FHL eq. 6) and its gradient in log-parameters.

    Eq. 6 reads L = A1·A2·(A3 + δ(x>0)·A4) with
      ln A1 = lnΓ(r+x) − lnΓ(r) + r ln α
      ln A2 = lnΓ(a+b) + lnΓ(b+x) − lnΓ(b) − lnΓ(a+b+x)
      ln A3 = −(r+x) ln(α+T)
      ln A4 = ln a − ln(b+x−1) − (r+x) ln(α+t_x).
    A1 and A2 depend on x only, so they (and their digamma derivatives) are
    evaluated on the distinct x values ``xu`` and summed with the weights per
    distinct value ``w_u``; only the A3/A4 mix needs per-customer work.
    """
    r, alpha, a, b = np.exp(theta)
    pos = xu > 0
    bx1 = np.where(pos, b + xu - 1.0, 1.0)  # b+x−1 only enters when x > 0

    ln_a1 = special.gammaln(r + xu) - special.gammaln(r) + r * np.log(alpha)
    ln_a2 = (
        special.gammaln(a + b) + special.gammaln(b + xu)
        - special.gammaln(b) - special.gammaln(a + b + xu)
    )
    ln_a4_const = np.where(pos, np.log(a) - np.log(bx1), -np.inf)

    rx = r + x
    lnaT = np.log(alpha + T)
    lnat = np.log(alpha + t_x)
    l3 = -rx * lnaT
    l4 = ln_a4_const[inv] - rx * lnat
    lse = np.logaddexp(l3, l4)
    w4 = np.exp(l4 - lse)  # share of the "dropped out after the last purchase" branch
    w3 = np.exp(l3 - lse)

    ll = float(w_u @ (ln_a1 + ln_a2) + w @ lse)

    dig_ab_x = special.digamma(a + b + xu)
    d_r_u = special.digamma(r + xu) - special.digamma(r) + np.log(alpha)
    d_a_u = special.digamma(a + b) - dig_ab_x
    d_b_u = special.digamma(a + b) + special.digamma(b + xu) - special.digamma(b) - dig_ab_x
    ww4 = w * w4
    ww4_u = np.bincount(inv, weights=ww4, minlength=xu.size)

    g_r = w_u @ d_r_u - w @ (w3 * lnaT + w4 * lnat)
    g_alpha = (r / alpha) * w_total - w @ (rx * (w3 / (alpha + T) + w4 / (alpha + t_x)))
    g_a = w_u @ d_a_u + ww4.sum() / a
    g_b = w_u @ d_b_u - ww4_u @ np.where(pos, 1.0 / bx1, 0.0)

    grad = np.array([g_r * r, g_alpha * alpha, g_a * a, g_b * b])  # chain rule to log θ
    return -ll / w_total, -grad / w_total


def bgnbd_loglik(
    params: BGNBDParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike,
    weights: ArrayLike | None = None,
) -> float:
    """Total log-likelihood of the summaries under ``params`` (FHL eq. 6, summed)."""
    xa, ta, Ta = _check_summary(x, t_x, T)
    xa, ta, Ta = xa.ravel(), ta.ravel(), Ta.ravel()
    w = np.ones_like(xa) if weights is None else np.asarray(weights, np.float64).ravel()
    xu, inv = np.unique(xa, return_inverse=True)
    w_u = np.bincount(inv, weights=w, minlength=xu.size)
    theta = np.log([params.r, params.alpha, params.a, params.b])
    nll, _ = _bgnbd_objective(theta, xu, inv, w_u, ta, Ta, xa, w, float(w.sum()))
    return -nll * float(w.sum())


def fit_bgnbd(
    x: ArrayLike, t_x: ArrayLike, T: ArrayLike, weights: ArrayLike | None = None
) -> BGNBDParams:
    """Maximum-likelihood BG/NBD fit on calibration summaries.

    ``weights`` (optional) counts how many customers share each row, so a
    summary grouped by (x, t_x, T) fits exactly like the expanded data. The
    optimiser works on log-parameters with the analytic gradient; a Nelder-Mead
    polish runs only if L-BFGS-B reports failure. Needs at least one repeat
    buyer (x > 0): without one the likelihood has no interior maximum.
    """
    xa, ta, Ta = _check_summary(x, t_x, T)
    xa, ta, Ta = xa.ravel(), ta.ravel(), Ta.ravel()
    w = np.ones_like(xa) if weights is None else np.asarray(weights, np.float64).ravel()
    if w.shape != xa.shape or (w < 0).any() or not np.isfinite(w).all():
        raise ValueError("weights must be finite, non-negative and one per customer")
    if not (w[xa > 0] > 0).any():
        raise ValueError("BG/NBD needs at least one customer with a repeat purchase")
    w_total = float(w.sum())
    xu, inv = np.unique(xa, return_inverse=True)
    w_u = np.bincount(inv, weights=w, minlength=xu.size)
    args = (xu, inv, w_u, ta, Ta, xa, w, w_total)

    # Start: r = 1 and α matching the observed purchase rate, a = b = 1.
    rate = float(w @ xa) / max(float(w @ Ta), 1e-9)
    theta0 = np.log([1.0, 1.0 / max(rate, 1e-9), 1.0, 1.0]).clip(-_LOG_BOUND, _LOG_BOUND)
    res = optimize.minimize(
        _bgnbd_objective, theta0, args=args, jac=True, method="L-BFGS-B",
        bounds=[(-_LOG_BOUND, _LOG_BOUND)] * 4,
        options={"maxiter": 1000, "ftol": 1e-15, "gtol": 1e-10},
    )
    theta = res.x
    if not res.success:
        nm = optimize.minimize(
            lambda th: _bgnbd_objective(th, *args)[0], theta, method="Nelder-Mead",
            options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 20000},
        )
        if nm.fun < res.fun:
            theta = nm.x
    nll, _ = _bgnbd_objective(theta, *args)
    r, alpha, a, b = (float(v) for v in np.exp(theta))
    return BGNBDParams(r=r, alpha=alpha, a=a, b=b, loglik=-nll * w_total, n=int(round(w_total)))


def probability_alive(
    params: BGNBDParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    """P(still active at T | x, t_x, T).

    This is 1 / (1 + δ(x>0)·a/(b+x−1)·((α+T)/(α+t_x))^(r+x)), the denominator of
    FHL eq. 10 (and of Fader, Hardie & Lee's 2008 note "Computing P(alive) Using
    the BG/NBD Model"). It is exactly 1 for x = 0: in BG/NBD a customer can only
    drop out right after a repeat purchase.
    """
    xa, ta, Ta = _check_summary(x, t_x, T)
    p = params
    pos = xa > 0
    bx1 = np.where(pos, p.b + xa - 1.0, 1.0)
    log_odds_dead = (
        np.log(p.a) - np.log(bx1)
        + (p.r + xa) * (np.log(p.alpha + Ta) - np.log(p.alpha + ta))
    )
    return np.where(pos, special.expit(-log_odds_dead), 1.0)


def _hyp_term(a: float, b: float, r: float, c: FloatArray, z: FloatArray) -> FloatArray:
    """(1−z)^(a−1) · 2F1(a+b−1−r, a−1; c; z), the Euler-transformed 2F1 of eqs. 9/10.

    The paper's form ((α+T)/(α+T+t))^(r+x) · 2F1(r+x, b+x; a+b+x−1; z) has
    c−a−b = a−1−r−x < 0, so its series converges slowly near z = 1 and blows up
    for heavy buyers while the power term underflows (Excel's #NUM!, Fader &
    Hardie 2013 note 027). Euler's identity 2F1(A,B;C;z) = (1−z)^(C−A−B)
    2F1(C−A, C−B; C; z) turns it into this product, whose 2F1 has C−A−B =
    x+r+1−a > 0 and no x in its exponents.
    """
    return np.exp((a - 1.0) * np.log1p(-z)) * special.hyp2f1(a + b - 1.0 - r, a - 1.0, c, z)


def _a_away_from_one(a: float) -> list[float]:
    """Points straddling a = 1, where eqs. 9/10 are 0/0 but continuous."""
    eps = 1e-6
    return [a - eps, a + eps] if abs(a - 1.0) < eps else [a]


def expected_purchases(
    params: BGNBDParams, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    """Expected purchases in (T, T+t] given the history (x, t_x, T): FHL eq. 10.

    E[Y(t) | x, t_x, T] = (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) ·
    2F1(r+x, b+x; a+b+x−1; t/(α+T+t))] / (1 + δ(x>0)·a/(b+x−1)·((α+T)/(α+t_x))^(r+x)),
    evaluated through the Euler-transformed 2F1 (see ``_hyp_term``). ``t`` is in
    the data's time unit and broadcasts against the customer arrays.

    >>> p = BGNBDParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> print(f"{float(expected_purchases(p, 39, 2, 30.43, 38.86)):.3f}")
    1.226
    """
    xa, ta, Ta = _check_summary(x, t_x, T)
    tt = np.asarray(t, dtype=np.float64)
    if (tt < 0).any():
        raise ValueError("the horizon t must be non-negative")
    p = params
    z = tt / (p.alpha + Ta + tt)
    alive = probability_alive(p, xa, ta, Ta)
    vals = [
        (a + p.b + xa - 1.0) / (a - 1.0) * (1.0 - _hyp_term(a, p.b, p.r, a + p.b + xa - 1.0, z))
        for a in _a_away_from_one(p.a)
    ]
    return np.asarray(np.mean(vals, axis=0) * alive, dtype=np.float64)


def expected_purchases_new_customer(params: BGNBDParams, t: ArrayLike) -> FloatArray:
    """E[X(t)]: repeat purchases in (0, t] for a customer just acquired (FHL eq. 9).

    E[X(t)] = (a+b−1)/(a−1) · [1 − (α/(α+t))^r · 2F1(r, b; a+b−1; t/(α+t))],
    the x = t_x = T = 0 case of eq. 10 (same Euler-transformed evaluation).
    """
    tt = np.asarray(t, dtype=np.float64)
    zero = np.zeros_like(tt)
    return expected_purchases(params, tt, zero, zero, zero)


def simulate_bgnbd(
    params: BGNBDParams, T: ArrayLike, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """Draw (x, t_x) for customers of ages ``T`` from the BG/NBD process itself.

    Vectorised and independent of the likelihood code: λ ~ Gamma(r, α), p ~
    Beta(a, b); the customer dies at their G-th repeat purchase, G ~ Geometric(p);
    of the N ~ Poisson(λT) purchase opportunities in (0, T] they make x =
    min(N, G), and the x-th of N uniform event times is T·Beta(x, N−x+1).
    """
    Ta = np.asarray(T, dtype=np.float64)
    n = Ta.shape
    lam = rng.gamma(params.r, 1.0 / params.alpha, size=n)
    p_drop = np.clip(rng.beta(params.a, params.b, size=n), 1e-12, 1.0)
    g = rng.geometric(p_drop)
    big_n = rng.poisson(lam * Ta)
    x = np.minimum(big_n, g)
    t_x = np.zeros(n)
    pos = x > 0
    t_x[pos] = Ta[pos] * rng.beta(x[pos], big_n[pos] - x[pos] + 1)
    return x.astype(np.float64), t_x
