-- case: repeat_purchase_rate__by_region
-- dialect: snowflake
-- as_of: 2025-12-31
-- query: {"dimensions": ["region"], "metrics": ["repeat_purchase_rate"], "time": {"end": "2025-12-31", "start": "2025-01-01"}}
WITH q1 AS (
  SELECT
    region,
    SUM(CASE WHEN per_entity >= 2 THEN 1 ELSE 0 END) AS repeat_buyers
  FROM (
    SELECT
      customers.region AS region,
      orders.customer_id AS entity_id,
      COUNT(*) AS per_entity
    FROM orders AS orders
    LEFT JOIN customers AS customers
      ON orders.customer_id = customers.customer_id
    WHERE
      orders.status = 'completed'
      AND orders.order_date >= CAST('2025-01-01' AS DATE)
      AND orders.order_date <= CAST('2025-12-31' AS DATE)
    GROUP BY
      customers.region,
      orders.customer_id
  ) AS per_entity_rows
  GROUP BY
    region
), q2 AS (
  SELECT
    customers.region AS region,
    COUNT(DISTINCT orders.customer_id) AS buyers
  FROM orders AS orders
  LEFT JOIN customers AS customers
    ON orders.customer_id = customers.customer_id
  WHERE
    orders.status = 'completed'
    AND orders.order_date >= CAST('2025-01-01' AS DATE)
    AND orders.order_date <= CAST('2025-12-31' AS DATE)
  GROUP BY
    customers.region
), all_keys AS (
  SELECT
    region
  FROM q1
  UNION
  SELECT
    region
  FROM q2
)
SELECT
  all_keys.region AS region,
  CAST(q1.repeat_buyers AS DOUBLE) / NULLIF(q2.buyers, 0) AS repeat_purchase_rate
FROM all_keys
LEFT JOIN q1
  ON all_keys.region IS NOT DISTINCT FROM q1.region
LEFT JOIN q2
  ON all_keys.region IS NOT DISTINCT FROM q2.region
ORDER BY
  repeat_purchase_rate DESC NULLS LAST,
  region
