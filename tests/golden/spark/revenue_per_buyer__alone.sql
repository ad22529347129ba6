-- case: revenue_per_buyer__alone
-- dialect: spark
-- as_of: 2025-12-31
-- query: {"metrics": ["revenue_per_buyer"]}
WITH q1 AS (
  SELECT
    SUM(orders.amount) AS revenue,
    COUNT(DISTINCT orders.customer_id) AS buyers
  FROM orders AS orders
  WHERE
    orders.status = 'completed'
)
SELECT
  CAST(q1.revenue AS DOUBLE) / NULLIF(q1.buyers, 0) AS revenue_per_buyer
FROM q1
