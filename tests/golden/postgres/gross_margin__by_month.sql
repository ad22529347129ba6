-- case: gross_margin__by_month
-- dialect: postgres
-- as_of: 2025-12-31
-- query: {"metrics": ["gross_margin"], "time": {"grain": "month", "relative": "this_year"}}
WITH q1 AS (
  SELECT
    CAST(DATE_TRUNC('MONTH', orders.order_date) AS DATE) AS month,
    SUM(orders.amount - orders.cost_amount) AS gross_profit,
    SUM(orders.amount) AS revenue
  FROM orders AS orders
  WHERE
    orders.status = 'completed'
    AND orders.order_date >= CAST('2025-01-01' AS DATE)
    AND orders.order_date <= CAST('2025-12-31' AS DATE)
  GROUP BY
    CAST(DATE_TRUNC('MONTH', orders.order_date) AS DATE)
)
SELECT
  q1.month AS month,
  CAST(q1.gross_profit AS DOUBLE PRECISION) / NULLIF(q1.revenue, 0) AS gross_margin
FROM q1
ORDER BY
  month ASC
