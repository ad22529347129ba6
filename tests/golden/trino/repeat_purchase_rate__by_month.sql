-- case: repeat_purchase_rate__by_month
-- dialect: trino
-- as_of: 2025-12-31
-- query: {"metrics": ["repeat_purchase_rate"], "time": {"grain": "month", "relative": "this_year"}}
WITH q1 AS (
  SELECT
    month,
    SUM(CASE WHEN per_entity >= 2 THEN 1 ELSE 0 END) AS repeat_buyers
  FROM (
    SELECT
      CAST(DATE_TRUNC('MONTH', orders.order_date) AS DATE) AS month,
      orders.customer_id AS entity_id,
      COUNT(*) AS per_entity
    FROM orders AS orders
    WHERE
      orders.status = 'completed'
      AND orders.order_date >= CAST('2025-01-01' AS DATE)
      AND orders.order_date <= CAST('2025-12-31' AS DATE)
    GROUP BY
      CAST(DATE_TRUNC('MONTH', orders.order_date) AS DATE),
      orders.customer_id
  ) AS per_entity_rows
  GROUP BY
    month
), q2 AS (
  SELECT
    CAST(DATE_TRUNC('MONTH', orders.order_date) AS DATE) AS month,
    COUNT(DISTINCT orders.customer_id) AS buyers
  FROM orders AS orders
  WHERE
    orders.status = 'completed'
    AND orders.order_date >= CAST('2025-01-01' AS DATE)
    AND orders.order_date <= CAST('2025-12-31' AS DATE)
  GROUP BY
    CAST(DATE_TRUNC('MONTH', orders.order_date) AS DATE)
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
  CAST(q1.repeat_buyers AS DOUBLE) / NULLIF(q2.buyers, 0) AS repeat_purchase_rate
FROM all_keys
LEFT JOIN q1
  ON all_keys.month IS NOT DISTINCT FROM q1.month
LEFT JOIN q2
  ON all_keys.month IS NOT DISTINCT FROM q2.month
ORDER BY
  month ASC
