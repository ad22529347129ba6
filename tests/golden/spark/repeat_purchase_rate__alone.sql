-- case: repeat_purchase_rate__alone
-- dialect: spark
-- as_of: 2025-12-31
-- query: {"metrics": ["repeat_purchase_rate"]}
WITH q1 AS (
  SELECT
    SUM(CASE WHEN per_entity >= 2 THEN 1 ELSE 0 END) AS repeat_buyers
  FROM (
    SELECT
      orders.customer_id AS entity_id,
      COUNT(*) AS per_entity
    FROM orders AS orders
    WHERE
      orders.status = 'completed'
    GROUP BY
      orders.customer_id
  ) AS per_entity_rows
), q2 AS (
  SELECT
    COUNT(DISTINCT orders.customer_id) AS buyers
  FROM orders AS orders
  WHERE
    orders.status = 'completed'
)
SELECT
  CAST(q1.repeat_buyers AS DOUBLE) / NULLIF(q2.buyers, 0) AS repeat_purchase_rate
FROM q1
CROSS JOIN q2
