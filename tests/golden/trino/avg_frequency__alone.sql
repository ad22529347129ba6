-- case: avg_frequency__alone
-- dialect: trino
-- as_of: 2025-12-31
-- query: {"metrics": ["avg_frequency"]}
WITH q1 AS (
  SELECT
    AVG(customer_segments.frequency) AS avg_frequency
  FROM customer_segments AS customer_segments
)
SELECT
  q1.avg_frequency AS avg_frequency
FROM q1
