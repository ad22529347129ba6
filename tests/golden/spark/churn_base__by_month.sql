-- case: churn_base__by_month
-- dialect: spark
-- as_of: 2025-12-31
-- query: {"metrics": ["churn_base"], "time": {"grain": "month", "relative": "this_year"}}
WITH q1_active AS (
  SELECT DISTINCT
    orders.customer_id AS entity_id,
    CAST(TRUNC(orders.order_date, 'MONTH') AS DATE) AS period
  FROM orders AS orders
  WHERE
    orders.status = 'completed'
    AND orders.order_date >= CAST('2024-12-01' AS DATE)
    AND orders.order_date <= CAST('2025-12-31' AS DATE)
), q1 AS (
  SELECT
    CAST(prev.period + INTERVAL '1' MONTH AS DATE) AS month,
    COUNT(*) AS churn_base__base,
    COUNT(*) - COUNT(cur.entity_id) AS churn_base__churned
  FROM q1_active AS prev
  LEFT JOIN q1_active AS cur
    ON cur.entity_id = prev.entity_id
    AND cur.period = CAST(prev.period + INTERVAL '1' MONTH AS DATE)
  WHERE
    CAST(prev.period + INTERVAL '1' MONTH AS DATE) <= CAST('2025-12-01' AS DATE)
    AND CAST(prev.period + INTERVAL '1' MONTH AS DATE) >= CAST('2025-01-01' AS DATE)
  GROUP BY
    CAST(prev.period + INTERVAL '1' MONTH AS DATE)
)
SELECT
  q1.month AS month,
  q1.churn_base__base AS churn_base
FROM q1
ORDER BY
  month ASC NULLS LAST
