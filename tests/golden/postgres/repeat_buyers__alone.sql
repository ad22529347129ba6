-- case: repeat_buyers__alone
-- dialect: postgres
-- as_of: 2025-12-31
-- query: {"metrics": ["repeat_buyers"]}
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
)
SELECT
  q1.repeat_buyers AS repeat_buyers
FROM q1
