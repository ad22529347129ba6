-- case: settled_orders__by_region
-- dialect: spark
-- as_of: 2025-12-31
-- query: {"dimensions": ["region"], "metrics": ["settled_orders"], "time": {"end": "2025-12-31", "start": "2025-01-01"}}
WITH q1 AS (
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
)
SELECT
  q1.region AS region,
  q1.settled_orders AS settled_orders
FROM q1
ORDER BY
  settled_orders DESC,
  region NULLS LAST
