-- case: repeat_buyers__by_region
-- dialect: postgres
-- as_of: 2025-12-31
-- query: {"dimensions": ["region"], "metrics": ["repeat_buyers"], "time": {"end": "2025-12-31", "start": "2025-01-01"}}
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
)
SELECT
  q1.region AS region,
  q1.repeat_buyers AS repeat_buyers
FROM q1
ORDER BY
  repeat_buyers DESC NULLS LAST,
  region
