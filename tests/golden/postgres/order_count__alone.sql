-- case: order_count__alone
-- dialect: postgres
-- as_of: 2025-12-31
-- query: {"metrics": ["order_count"]}
WITH q1 AS (
  SELECT
    COUNT(*) AS order_count
  FROM orders AS orders
  WHERE
    orders.status = 'completed'
)
SELECT
  q1.order_count AS order_count
FROM q1
