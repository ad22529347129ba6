-- case: return_rate__by_month
-- dialect: spark
-- as_of: 2025-12-31
-- query: {"metrics": ["return_rate"], "time": {"grain": "month", "relative": "this_year"}}
WITH q1 AS (
  SELECT
    CAST(TRUNC(orders.order_date, 'MONTH') AS DATE) AS month,
    COUNT(*) AS returned_orders
  FROM orders AS orders
  WHERE
    orders.status = 'returned'
    AND orders.order_date >= CAST('2025-01-01' AS DATE)
    AND orders.order_date <= CAST('2025-12-31' AS DATE)
  GROUP BY
    CAST(TRUNC(orders.order_date, 'MONTH') AS DATE)
), q2 AS (
  SELECT
    CAST(TRUNC(orders.order_date, 'MONTH') AS DATE) AS month,
    COUNT(*) AS settled_orders
  FROM orders AS orders
  WHERE
    orders.status IN ('completed', 'returned')
    AND orders.order_date >= CAST('2025-01-01' AS DATE)
    AND orders.order_date <= CAST('2025-12-31' AS DATE)
  GROUP BY
    CAST(TRUNC(orders.order_date, 'MONTH') AS DATE)
), all_keys AS (
  SELECT
    month
  FROM q1
  UNION
  SELECT
    month
  FROM q2
)
SELECT
  all_keys.month AS month,
  CAST(q1.returned_orders AS DOUBLE) / NULLIF(q2.settled_orders, 0) AS return_rate
FROM all_keys
LEFT JOIN q1
  ON all_keys.month IS NOT DISTINCT FROM q1.month
LEFT JOIN q2
  ON all_keys.month IS NOT DISTINCT FROM q2.month
ORDER BY
  month ASC NULLS LAST
