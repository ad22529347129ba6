-- case: avg_historical_clv__alone
-- dialect: snowflake
-- as_of: 2025-12-31
-- query: {"metrics": ["avg_historical_clv"]}
WITH q1 AS (
  SELECT
    AVG(customer_value.historical_clv) AS avg_historical_clv
  FROM customer_value AS customer_value
)
SELECT
  q1.avg_historical_clv AS avg_historical_clv
FROM q1
