-- case: avg_p_alive__by_region
-- dialect: postgres
-- as_of: 2025-12-31
-- query: {"dimensions": ["region"], "metrics": ["avg_p_alive"]}
WITH q1 AS (
  SELECT
    customers.region AS region,
    AVG(customer_value.p_alive) AS avg_p_alive
  FROM customer_value AS customer_value
  LEFT JOIN customers AS customers
    ON customer_value.customer_id = customers.customer_id
  GROUP BY
    customers.region
)
SELECT
  q1.region AS region,
  q1.avg_p_alive AS avg_p_alive
FROM q1
ORDER BY
  avg_p_alive DESC NULLS LAST,
  region
