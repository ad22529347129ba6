-- case: gross_margin__alone
-- dialect: bigquery
-- as_of: 2025-12-31
-- query: {"metrics": ["gross_margin"]}
WITH q1 AS (
  SELECT
    SUM(orders.amount - orders.cost_amount) AS gross_profit,
    SUM(orders.amount) AS revenue
  FROM orders AS orders
  WHERE
    orders.status = 'completed'
)
SELECT
  CAST(q1.gross_profit AS FLOAT64) / NULLIF(q1.revenue, 0) AS gross_margin
FROM q1
