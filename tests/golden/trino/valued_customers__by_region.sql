-- case: valued_customers__by_region
-- dialect: trino
-- as_of: 2025-12-31
-- query: {"dimensions": ["region"], "metrics": ["valued_customers"]}
WITH q1 AS (
  SELECT
    customers.region AS region,
    COUNT(*) AS valued_customers
  FROM customer_value AS customer_value
  LEFT JOIN customers AS customers
    ON customer_value.customer_id = customers.customer_id
  GROUP BY
    customers.region
)
SELECT
  q1.region AS region,
  q1.valued_customers AS valued_customers
FROM q1
ORDER BY
  valued_customers DESC,
  region
