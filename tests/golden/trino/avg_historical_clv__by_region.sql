-- case: avg_historical_clv__by_region
-- dialect: trino
-- as_of: 2025-12-31
-- query: {"dimensions": ["region"], "metrics": ["avg_historical_clv"]}
WITH q1 AS (
  SELECT
    customers.region AS region,
    AVG(customer_value.historical_clv) AS avg_historical_clv
  FROM customer_value AS customer_value
  LEFT JOIN customers AS customers
    ON customer_value.customer_id = customers.customer_id
  GROUP BY
    customers.region
)
SELECT
  q1.region AS region,
  q1.avg_historical_clv AS avg_historical_clv
FROM q1
ORDER BY
  avg_historical_clv DESC,
  region
