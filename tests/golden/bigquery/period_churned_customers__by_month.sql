-- case: period_churned_customers__by_month
-- dialect: bigquery
-- as_of: 2025-12-31
-- query: {"metrics": ["period_churned_customers"], "time": {"grain": "month", "relative": "this_year"}}
WITH q1_active AS (
  SELECT DISTINCT
    orders.customer_id AS entity_id,
    CAST(DATE_TRUNC(orders.order_date, MONTH) AS DATE) AS period
  FROM orders AS orders
  WHERE
    orders.status = 'completed'
    AND orders.order_date >= CAST('2024-12-01' AS DATE)
    AND orders.order_date <= CAST('2025-12-31' AS DATE)
), q1 AS (
  SELECT
    CAST(prev.period + INTERVAL '1' MONTH AS DATE) AS month,
    COUNT(*) AS period_churned_customers__base,
    COUNT(*) - COUNT(cur.entity_id) AS period_churned_customers__churned
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
  q1.period_churned_customers__churned AS period_churned_customers
FROM q1
ORDER BY
  month ASC NULLS LAST
