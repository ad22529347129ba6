-- case: returned_orders__alone
-- dialect: snowflake
-- as_of: 2025-12-31
-- query: {"metrics": ["returned_orders"]}
WITH q1 AS (
  SELECT
    COUNT(*) AS returned_orders
  FROM orders AS orders
  WHERE
    orders.status = 'returned'
)
SELECT
  q1.returned_orders AS returned_orders
FROM q1
