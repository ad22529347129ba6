-- case: customer_count__alone
-- dialect: spark
-- as_of: 2025-12-31
-- query: {"metrics": ["customer_count"]}
WITH q1 AS (
  SELECT
    COUNT(*) AS customer_count
  FROM customers AS customers
)
SELECT
  q1.customer_count AS customer_count
FROM q1
