-- case: order_count__by_region
-- dialect: trino
-- as_of: 2025-12-31
-- query: {"dimensions": ["region"], "metrics": ["order_count"], "time": {"end": "2025-12-31", "start": "2025-01-01"}}
WITH q1 AS (
  SELECT
    customers.region AS region,
    COUNT(*) AS order_count
  FROM orders AS orders
  LEFT JOIN customers AS customers
    ON orders.customer_id = customers.customer_id
  WHERE
    orders.status = 'completed'
    AND orders.order_date >= CAST('2025-01-01' AS DATE)
    AND orders.order_date <= CAST('2025-12-31' AS DATE)
  GROUP BY
    customers.region
)
SELECT
  q1.region AS region,
  q1.order_count AS order_count
FROM q1
ORDER BY
  order_count DESC,
  region
