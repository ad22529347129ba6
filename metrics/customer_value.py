"""Customer value and churn risk, one row per customer, for the semantic layer.

Purchases are summed per customer-day (the CDNOW convention), times are in
weeks, and the BG/NBD + Gamma-Gamma models are fitted on every customer with a
completed order by the as-of date. Thresholds come from the model's YAML params.
"""

from __future__ import annotations

import datetime as dt
from typing import Callable

import numpy as np
import pandas as pd

from .clv import fit_clv_models, score_customers

SUMMARY_SQL = """
WITH days AS (
  SELECT customer_id, order_date, SUM(amount) AS amount
  FROM orders
  WHERE status = 'completed' AND order_date <= DATE '{as_of}'
  GROUP BY customer_id, order_date
)
SELECT customer_id,
  COUNT(*) - 1 AS repeat_days,
  date_diff('day', MIN(order_date), MAX(order_date)) AS span_days,
  date_diff('day', MIN(order_date), DATE '{as_of}') AS age_days,
  date_diff('day', MAX(order_date), DATE '{as_of}') AS days_since_last_purchase,
  SUM(amount) AS historical_clv,
  (SUM(amount) - arg_min(amount, order_date)) / NULLIF(COUNT(*) - 1, 0) AS repeat_mean
FROM days
GROUP BY customer_id
ORDER BY customer_id
"""


def build(read: Callable[[str], pd.DataFrame], as_of: dt.date, params: dict[str, float | int | str]) -> pd.DataFrame:
    """Fit the models on the warehouse and score every customer as of ``as_of``.

    Rows come ordered by customer id: the optimiser's path (and the last digits
    of the fit) depend on row order, and a rebuild must give the same numbers.
    """
    raw = read(SUMMARY_SQL.format(as_of=as_of.isoformat()))
    summary = pd.DataFrame({
        "customer": raw["customer_id"].to_numpy(),
        "x": raw["repeat_days"].to_numpy(np.float64),
        "t_x": raw["span_days"].to_numpy(np.float64) / 7.0,
        "T": raw["age_days"].to_numpy(np.float64) / 7.0,
        "zbar": raw["repeat_mean"].fillna(0.0).to_numpy(np.float64),
        "revenue": raw["historical_clv"].to_numpy(np.float64),
    })
    models = fit_clv_models(summary)
    scored = score_customers(summary, models, horizon_months=int(params.get("horizon_months", 12)),
                             discount_rate=float(params.get("annual_discount_rate", 0.10)), unit="week")
    days = raw["days_since_last_purchase"].to_numpy()
    # Bands from the value shown, so a customer shown at 0.3 is never labelled High.
    p_alive = scored["p_alive"].to_numpy().round(6)
    high, low = float(params.get("high_risk_below_p_alive", 0.3)), float(params.get("low_risk_from_p_alive", 0.7))
    return pd.DataFrame({
        "customer_id": raw["customer_id"].to_numpy(),
        "p_alive": p_alive,
        "expected_purchases": scored["expected_purchases"].to_numpy().round(6),
        "expected_spend": scored["expected_spend"].to_numpy().round(2),
        "clv": scored["clv"].to_numpy().round(2),
        "historical_clv": raw["historical_clv"].to_numpy(np.float64).round(2),
        "days_since_last_purchase": days,
        "churn_status": np.where(days >= int(params.get("churn_days", 180)), "Churned", "Active"),
        "churn_risk": np.select([p_alive < high, p_alive < low], ["High", "Medium"], default="Low"),
    })
