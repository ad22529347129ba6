-- case: lapsed_customers__alone
-- dialect: bigquery
-- as_of: 2025-12-31
-- query: {"metrics": ["lapsed_customers"]}
WITH q1 AS (
  SELECT
    COUNT(*) AS lapsed_customers
  FROM customer_value AS customer_value
  WHERE
    customer_value.churn_status = 'Churned'
)
SELECT
  q1.lapsed_customers AS lapsed_customers
FROM q1
