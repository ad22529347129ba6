-- case: buyers__alone
-- dialect: snowflake
-- as_of: 2025-12-31
-- query: {"metrics": ["buyers"]}
WITH q1 AS (
  SELECT
    COUNT(DISTINCT orders.customer_id) AS buyers
  FROM orders AS orders
  WHERE
    orders.status = 'completed'
)
SELECT
  q1.buyers AS buyers
FROM q1
