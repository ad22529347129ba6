-- case: avg_frequency__by_region
-- dialect: snowflake
-- as_of: 2025-12-31
-- query: {"dimensions": ["region"], "metrics": ["avg_frequency"]}
WITH q1 AS (
  SELECT
    customers.region AS region,
    AVG(customer_segments.frequency) AS avg_frequency
  FROM customer_segments AS customer_segments
  LEFT JOIN customers AS customers
    ON customer_segments.customer_id = customers.customer_id
  GROUP BY
    customers.region
)
SELECT
  q1.region AS region,
  q1.avg_frequency AS avg_frequency
FROM q1
ORDER BY
  avg_frequency DESC NULLS LAST,
  region
