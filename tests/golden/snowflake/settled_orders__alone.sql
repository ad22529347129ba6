-- case: settled_orders__alone
-- dialect: snowflake
-- as_of: 2025-12-31
-- query: {"metrics": ["settled_orders"]}
WITH q1 AS (
  SELECT
    COUNT(*) AS settled_orders
  FROM orders AS orders
  WHERE
    orders.status IN ('completed', 'returned')
)
SELECT
  q1.settled_orders AS settled_orders
FROM q1
