-- case: total_clv__by_region
-- dialect: bigquery
-- as_of: 2025-12-31
-- query: {"dimensions": ["region"], "metrics": ["total_clv"]}
WITH q1 AS (
  SELECT
    customers.region AS region,
    SUM(customer_value.clv) AS total_clv
  FROM customer_value AS customer_value
  LEFT JOIN customers AS customers
    ON customer_value.customer_id = customers.customer_id
  GROUP BY
    customers.region
)
SELECT
  q1.region AS region,
  q1.total_clv AS total_clv
FROM q1
ORDER BY
  total_clv DESC,
  region NULLS LAST
