-- case: revenue_per_buyer__by_region
-- dialect: postgres
-- as_of: 2025-12-31
-- query: {"dimensions": ["region"], "metrics": ["revenue_per_buyer"], "time": {"end": "2025-12-31", "start": "2025-01-01"}}
WITH q1 AS (
  SELECT
    customers.region AS region,
    SUM(orders.amount) AS revenue,
    COUNT(DISTINCT orders.customer_id) AS buyers
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
  CAST(q1.revenue AS DOUBLE PRECISION) / NULLIF(q1.buyers, 0) AS revenue_per_buyer
FROM q1
ORDER BY
  revenue_per_buyer DESC NULLS LAST,
  region
