-- case: return_rate__by_region
-- dialect: snowflake
-- as_of: 2025-12-31
-- query: {"dimensions": ["region"], "metrics": ["return_rate"], "time": {"end": "2025-12-31", "start": "2025-01-01"}}
WITH q1 AS (
  SELECT
    customers.region AS region,
    COUNT(*) AS returned_orders
  FROM orders AS orders
  LEFT JOIN customers AS customers
    ON orders.customer_id = customers.customer_id
  WHERE
    orders.status = 'returned'
    AND orders.order_date >= CAST('2025-01-01' AS DATE)
    AND orders.order_date <= CAST('2025-12-31' AS DATE)
  GROUP BY
    customers.region
), q2 AS (
  SELECT
    customers.region AS region,
    COUNT(*) AS settled_orders
  FROM orders AS orders
  LEFT JOIN customers AS customers
    ON orders.customer_id = customers.customer_id
  WHERE
    orders.status IN ('completed', 'returned')
    AND orders.order_date >= CAST('2025-01-01' AS DATE)
    AND orders.order_date <= CAST('2025-12-31' AS DATE)
  GROUP BY
    customers.region
), all_keys AS (
  SELECT
    region
  FROM q1
  UNION
  SELECT
    region
  FROM q2
)
SELECT
  all_keys.region AS region,
  CAST(q1.returned_orders AS DOUBLE) / NULLIF(q2.settled_orders, 0) AS return_rate
FROM all_keys
LEFT JOIN q1
  ON all_keys.region IS NOT DISTINCT FROM q1.region
LEFT JOIN q2
  ON all_keys.region IS NOT DISTINCT FROM q2.region
ORDER BY
  return_rate DESC NULLS LAST,
  region
