-- case: order_count__by_month
-- dialect: snowflake
-- as_of: 2025-12-31
-- query: {"metrics": ["order_count"], "time": {"grain": "month", "relative": "this_year"}}
WITH q1 AS (
  SELECT
    CAST(DATE_TRUNC('MONTH', orders.order_date) AS DATE) AS month,
    COUNT(*) AS order_count
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
  q1.order_count AS order_count
FROM q1
ORDER BY
  month ASC
