-- case: repeat_buyers__by_month
-- dialect: spark
-- as_of: 2025-12-31
-- query: {"metrics": ["repeat_buyers"], "time": {"grain": "month", "relative": "this_year"}}
WITH q1 AS (
  SELECT
    month,
    SUM(CASE WHEN per_entity >= 2 THEN 1 ELSE 0 END) AS repeat_buyers
  FROM (
    SELECT
      CAST(TRUNC(orders.order_date, 'MONTH') AS DATE) AS month,
      orders.customer_id AS entity_id,
      COUNT(*) AS per_entity
    FROM orders AS orders
    WHERE
      orders.status = 'completed'
      AND orders.order_date >= CAST('2025-01-01' AS DATE)
      AND orders.order_date <= CAST('2025-12-31' AS DATE)
    GROUP BY
      CAST(TRUNC(orders.order_date, 'MONTH') AS DATE),
      orders.customer_id
  ) AS per_entity_rows
  GROUP BY
    month
)
SELECT
  q1.month AS month,
  q1.repeat_buyers AS repeat_buyers
FROM q1
ORDER BY
  month ASC NULLS LAST
