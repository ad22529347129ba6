-- case: avg_clv__alone
-- dialect: bigquery
-- as_of: 2025-12-31
-- query: {"metrics": ["avg_clv"]}
WITH q1 AS (
  SELECT
    AVG(customer_value.clv) AS avg_clv
  FROM customer_value AS customer_value
)
SELECT
  q1.avg_clv AS avg_clv
FROM q1
