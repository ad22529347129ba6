-- case: gross_margin__by_region
-- dialect: trino
-- as_of: 2025-12-31
-- query: {"dimensions": ["region"], "metrics": ["gross_margin"], "time": {"end": "2025-12-31", "start": "2025-01-01"}}
WITH q1 AS (
  SELECT
    customers.region AS region,
    SUM(orders.amount - orders.cost_amount) AS gross_profit,
    SUM(orders.amount) AS revenue
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
  CAST(q1.gross_profit AS DOUBLE) / NULLIF(q1.revenue, 0) AS gross_margin
FROM q1
ORDER BY
  gross_margin DESC,
  region
