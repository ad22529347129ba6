"""Gamma-Gamma spend model: maximum-likelihood fit and expected spend per purchase.

Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value", after
Colombo & Jiang (1999). A customer's purchase values are i.i.d.
Gamma(p, ν); the rate ν varies across customers as Gamma(q, γ). The mean z̄ of x
purchases is then Gamma(px, νx), and integrating ν out gives the marginal density
the fit maximises:

    f(z̄ | p, q, γ; x) = Γ(px+q) / (Γ(px) Γ(q)) · γ^q · x^(px) · z̄^(px−1) / (γ + x·z̄)^(px+q).

Only repeat purchases are used (x ≥ 1, z̄ = mean value of the repeat purchases),
as in the note, because the first purchase is often atypical. The model assumes
spend is independent of purchase frequency; check their correlation first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special

FloatArray = NDArray[np.float64]

_LOG_BOUND = 20.0


@dataclass(frozen=True)
class GammaGammaParams:
    """Gamma-Gamma parameters: ``p`` (shape of spend per purchase), ``q, gamma``
    (shape and rate of the Gamma over customers' ν). ``loglik`` and ``n`` (repeat
    buyers fitted on) default to "not fitted"."""

    p: float
    q: float
    gamma: float
    loglik: float = float("nan")
    n: int = 0


def _check_spend(x: ArrayLike, zbar: ArrayLike) -> tuple[FloatArray, FloatArray]:
    xa, za = np.broadcast_arrays(np.asarray(x, np.float64), np.asarray(zbar, np.float64))
    if not (np.isfinite(xa).all() and np.isfinite(za).all()):
        raise ValueError("x and zbar must be finite")
    if (xa < 0).any() or (xa != np.round(xa)).any():
        raise ValueError("x (repeat purchases) must be a non-negative integer")
    return xa, za


def _gg_objective(
    theta: FloatArray, x: FloatArray, zbar: FloatArray, w: FloatArray, w_total: float
) -> tuple[float, FloatArray]:
    """Mean negative log of the marginal density above, and its gradient in log θ."""
    p, q, g = np.exp(theta)
    px = p * x
    ln_gxz = np.log(g + x * zbar)
    ll_i = (
        special.gammaln(px + q) - special.gammaln(px) - special.gammaln(q)
        + q * np.log(g) + (px - 1.0) * np.log(zbar) + px * np.log(x)
        - (px + q) * ln_gxz
    )
    dig_pxq = special.digamma(px + q)
    d_p = x * (dig_pxq - special.digamma(px) + np.log(zbar) + np.log(x) - ln_gxz)
    d_q = dig_pxq - special.digamma(q) + np.log(g) - ln_gxz
    d_g = q / g - (px + q) / (g + x * zbar)
    grad = np.array([w @ d_p * p, w @ d_q * q, w @ d_g * g])
    return -float(w @ ll_i) / w_total, -grad / w_total


def gamma_gamma_loglik(
    params: GammaGammaParams, x: ArrayLike, zbar: ArrayLike,
    weights: ArrayLike | None = None,
) -> float:
    """Total log-likelihood of repeat buyers' (x ≥ 1, z̄ > 0) mean spend."""
    xa, za = _check_spend(x, zbar)
    xa, za = xa.ravel(), za.ravel()
    if (xa < 1).any() or (za <= 0).any():
        raise ValueError("the Gamma-Gamma likelihood takes repeat buyers: x >= 1, zbar > 0")
    w = np.ones_like(xa) if weights is None else np.asarray(weights, np.float64).ravel()
    theta = np.log([params.p, params.q, params.gamma])
    nll, _ = _gg_objective(theta, xa, za, w, float(w.sum()))
    return -nll * float(w.sum())


def fit_gamma_gamma(
    x: ArrayLike, zbar: ArrayLike, weights: ArrayLike | None = None
) -> GammaGammaParams:
    """Maximum-likelihood Gamma-Gamma fit on repeat buyers only.

    Pass every customer: rows with x = 0 (no repeat purchase, z̄ undefined) are
    dropped here. z̄ must be positive for the others — a zero or negative mean
    (refunds) has no Gamma density. Optimises log-parameters with L-BFGS-B on the
    analytic gradient, Nelder-Mead only as a fallback.
    """
    xa, za = _check_spend(x, zbar)
    xa, za = xa.ravel(), za.ravel()
    w = np.ones_like(xa) if weights is None else np.asarray(weights, np.float64).ravel()
    keep = xa >= 1
    xa, za, w = xa[keep], za[keep], w[keep]
    if (za <= 0).any():
        raise ValueError("zbar must be positive for every repeat buyer (x >= 1)")
    if not (w > 0).any():
        raise ValueError("Gamma-Gamma needs at least one repeat buyer (x >= 1)")
    w_total = float(w.sum())
    args = (xa, za, w, w_total)
    # Start at p = 1, q = 2 (finite population mean) with the mean matching data.
    mean_z = float(w @ za) / w_total
    theta0 = np.log([1.0, 2.0, mean_z])
    res = optimize.minimize(
        _gg_objective, theta0, args=args, jac=True, method="L-BFGS-B",
        bounds=[(-_LOG_BOUND, _LOG_BOUND)] * 3,
        options={"maxiter": 1000, "ftol": 1e-15, "gtol": 1e-10},
    )
    theta = res.x
    if not res.success:
        nm = optimize.minimize(
            lambda th: _gg_objective(th, *args)[0], theta, method="Nelder-Mead",
            options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 20000},
        )
        if nm.fun < res.fun:
            theta = nm.x
    nll, _ = _gg_objective(theta, *args)
    p, q, g = (float(v) for v in np.exp(theta))
    return GammaGammaParams(p=p, q=q, gamma=g, loglik=-nll * w_total, n=int(round(w_total)))


def expected_spend(params: GammaGammaParams, x: ArrayLike, zbar: ArrayLike) -> FloatArray:
    """E[Z | x, z̄]: expected value of a future purchase given the history.

    E[Z | p, q, γ, x, z̄] = p(γ + x·z̄) / (px + q − 1)
                        = (q−1)/(px+q−1) · pγ/(q−1) + px/(px+q−1) · z̄,
    a weighted average of the population mean pγ/(q−1) and the customer's own z̄,
    the weight on z̄ growing with x. For x = 0 it is the population mean (z̄ is
    ignored), which needs q > 1.

    >>> gg = GammaGammaParams(p=6.25, q=3.74, gamma=15.44)
    >>> print(f"{float(expected_spend(gg, 2, 22.35)):.2f}")
    24.66
    """
    xa, za = _check_spend(x, zbar)
    p = params
    if p.q <= 1.0:
        raise ValueError("expected spend is infinite when q <= 1")
    za = np.where(xa > 0, za, 0.0)
    return np.asarray(p.p * (p.gamma + xa * za) / (p.p * xa + p.q - 1.0), dtype=np.float64)


def simulate_spend(
    params: GammaGammaParams, x: ArrayLike, rng: np.random.Generator
) -> FloatArray:
    """Draw z̄ for customers with ``x`` repeat purchases (0.0 where x = 0).

    ν ~ Gamma(q, rate γ); the mean of x Gamma(p, rate ν) values is Gamma(px, rate νx).
    """
    xa = np.asarray(x, dtype=np.float64)
    nu = rng.gamma(params.q, 1.0 / params.gamma, size=xa.shape)
    pos = xa > 0
    zbar = np.zeros(xa.shape)
    zbar[pos] = rng.gamma(params.p * xa[pos], 1.0 / (nu[pos] * xa[pos]))
    return zbar
