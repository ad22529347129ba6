-- case: valued_customers__alone
-- dialect: trino
-- as_of: 2025-12-31
-- query: {"metrics": ["valued_customers"]}
WITH q1 AS (
  SELECT
    COUNT(*) AS valued_customers
  FROM customer_value AS customer_value
)
SELECT
  q1.valued_customers AS valued_customers
FROM q1
