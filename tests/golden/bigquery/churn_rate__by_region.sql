-- case: churn_rate__by_region
-- dialect: bigquery
-- as_of: 2025-12-31
-- query: {"dimensions": ["region"], "metrics": ["churn_rate"], "time": {"end": "2025-12-31", "start": "2025-01-01"}}
WITH q1_active AS (
  SELECT DISTINCT
    customers.region AS region,
    orders.customer_id AS entity_id,
    CAST(DATE_TRUNC(orders.order_date, MONTH) AS DATE) AS period
  FROM orders AS orders
  LEFT JOIN customers AS customers
    ON orders.customer_id = customers.customer_id
  WHERE
    orders.status = 'completed'
    AND orders.order_date >= CAST('2024-12-01' AS DATE)
    AND orders.order_date <= CAST('2025-12-31' AS DATE)
), q1 AS (
  SELECT
    prev.region AS region,
    COUNT(*) AS churn_rate__base,
    COUNT(*) - COUNT(cur.entity_id) AS churn_rate__churned
  FROM q1_active AS prev
  LEFT JOIN q1_active AS cur
    ON cur.entity_id = prev.entity_id
    AND cur.period = CAST(prev.period + INTERVAL '1' MONTH AS DATE)
    AND cur.region IS NOT DISTINCT FROM prev.region
  WHERE
    CAST(prev.period + INTERVAL '1' MONTH AS DATE) <= CAST('2025-12-01' AS DATE)
    AND CAST(prev.period + INTERVAL '1' MONTH AS DATE) >= CAST('2025-01-01' AS DATE)
  GROUP BY
    prev.region
)
SELECT
  q1.region AS region,
  CAST(q1.churn_rate__churned AS FLOAT64) / NULLIF(q1.churn_rate__base, 0) AS churn_rate
FROM q1
ORDER BY
  churn_rate DESC,
  region NULLS LAST
