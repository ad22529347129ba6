-- case: avg_order_value__by_region
-- dialect: bigquery
-- as_of: 2025-12-31
-- query: {"dimensions": ["region"], "metrics": ["avg_order_value"], "time": {"end": "2025-12-31", "start": "2025-01-01"}}
WITH q1 AS (
  SELECT
    customers.region AS region,
    SUM(orders.amount) AS revenue,
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
  CAST(q1.revenue AS FLOAT64) / NULLIF(q1.order_count, 0) AS avg_order_value
FROM q1
ORDER BY
  avg_order_value DESC,
  region NULLS LAST
