-- case: total_clv__alone
-- dialect: bigquery
-- as_of: 2025-12-31
-- query: {"metrics": ["total_clv"]}
WITH q1 AS (
  SELECT
    SUM(customer_value.clv) AS total_clv
  FROM customer_value AS customer_value
)
SELECT
  q1.total_clv AS total_clv
FROM q1
