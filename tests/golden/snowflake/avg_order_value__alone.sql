-- case: avg_order_value__alone
-- dialect: snowflake
-- as_of: 2025-12-31
-- query: {"metrics": ["avg_order_value"]}
WITH q1 AS (
  SELECT
    SUM(orders.amount) AS revenue,
    COUNT(*) AS order_count
  FROM orders AS orders
  WHERE
    orders.status = 'completed'
)
SELECT
  CAST(q1.revenue AS DOUBLE) / NULLIF(q1.order_count, 0) AS avg_order_value
FROM q1
