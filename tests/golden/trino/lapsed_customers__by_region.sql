-- case: lapsed_customers__by_region
-- dialect: trino
-- as_of: 2025-12-31
-- query: {"dimensions": ["region"], "metrics": ["lapsed_customers"]}
WITH q1 AS (
  SELECT
    customers.region AS region,
    COUNT(*) AS lapsed_customers
  FROM customer_value AS customer_value
  LEFT JOIN customers AS customers
    ON customer_value.customer_id = customers.customer_id
  WHERE
    customer_value.churn_status = 'Churned'
  GROUP BY
    customers.region
)
SELECT
  q1.region AS region,
  q1.lapsed_customers AS lapsed_customers
FROM q1
ORDER BY
  lapsed_customers DESC,
  region
