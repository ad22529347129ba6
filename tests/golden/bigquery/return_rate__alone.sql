-- case: return_rate__alone
-- dialect: bigquery
-- as_of: 2025-12-31
-- query: {"metrics": ["return_rate"]}
WITH q1 AS (
  SELECT
    COUNT(*) AS returned_orders
  FROM orders AS orders
  WHERE
    orders.status = 'returned'
), q2 AS (
  SELECT
    COUNT(*) AS settled_orders
  FROM orders AS orders
  WHERE
    orders.status IN ('completed', 'returned')
)
SELECT
  CAST(q1.returned_orders AS FLOAT64) / NULLIF(q2.settled_orders, 0) AS return_rate
FROM q1
CROSS JOIN q2
