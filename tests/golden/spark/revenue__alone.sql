-- case: revenue__alone
-- dialect: spark
-- as_of: 2025-12-31
-- query: {"metrics": ["revenue"]}
WITH q1 AS (
  SELECT
    SUM(orders.amount) AS revenue
  FROM orders AS orders
  WHERE
    orders.status = 'completed'
)
SELECT
  q1.revenue AS revenue
FROM q1
