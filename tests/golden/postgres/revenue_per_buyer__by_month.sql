-- case: revenue_per_buyer__by_month
-- dialect: postgres
-- as_of: 2025-12-31
-- query: {"metrics": ["revenue_per_buyer"], "time": {"grain": "month", "relative": "this_year"}}
WITH q1 AS (
  SELECT
    CAST(DATE_TRUNC('MONTH', orders.order_date) AS DATE) AS month,
    SUM(orders.amount) AS revenue,
    COUNT(DISTINCT orders.customer_id) AS buyers
  FROM orders AS orders
  WHERE
    orders.status = 'completed'
    AND orders.order_date >= CAST('2025-01-01' AS DATE)
    AND orders.order_date <= CAST('2025-12-31' AS DATE)
  GROUP BY
    CAST(DATE_TRUNC('MONTH', orders.order_date) AS DATE)
)
SELECT
  q1.month AS month,
  CAST(q1.revenue AS DOUBLE PRECISION) / NULLIF(q1.buyers, 0) AS revenue_per_buyer
FROM q1
ORDER BY
  month ASC
