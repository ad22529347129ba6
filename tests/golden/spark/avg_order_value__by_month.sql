-- case: avg_order_value__by_month
-- dialect: spark
-- as_of: 2025-12-31
-- query: {"metrics": ["avg_order_value"], "time": {"grain": "month", "relative": "this_year"}}
WITH q1 AS (
  SELECT
    CAST(TRUNC(orders.order_date, 'MONTH') AS DATE) AS month,
    SUM(orders.amount) AS revenue,
    COUNT(*) AS order_count
  FROM orders AS orders
  WHERE
    orders.status = 'completed'
    AND orders.order_date >= CAST('2025-01-01' AS DATE)
    AND orders.order_date <= CAST('2025-12-31' AS DATE)
  GROUP BY
    CAST(TRUNC(orders.order_date, 'MONTH') AS DATE)
)
SELECT
  q1.month AS month,
  CAST(q1.revenue AS DOUBLE) / NULLIF(q1.order_count, 0) AS avg_order_value
FROM q1
ORDER BY
  month ASC NULLS LAST
