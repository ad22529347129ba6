-- case: churn_rate__alone
-- dialect: postgres
-- as_of: 2025-12-31
-- query: {"metrics": ["churn_rate"]}
WITH q1_active AS (
  SELECT DISTINCT
    orders.customer_id AS entity_id,
    CAST(DATE_TRUNC('MONTH', orders.order_date) AS DATE) AS period
  FROM orders AS orders
  WHERE
    orders.status = 'completed' AND orders.order_date <= CAST('2025-12-31' AS DATE)
), q1 AS (
  SELECT
    COUNT(*) AS churn_rate__base,
    COUNT(*) - COUNT(cur.entity_id) AS churn_rate__churned
  FROM q1_active AS prev
  LEFT JOIN q1_active AS cur
    ON cur.entity_id = prev.entity_id
    AND cur.period = CAST(prev.period + INTERVAL '1 MONTH' AS DATE)
  WHERE
    CAST(prev.period + INTERVAL '1 MONTH' AS DATE) <= CAST('2025-12-01' AS DATE)
)
SELECT
  CAST(q1.churn_rate__churned AS DOUBLE PRECISION) / NULLIF(q1.churn_rate__base, 0) AS churn_rate
FROM q1
