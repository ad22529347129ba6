-- case: avg_recency_days__alone
-- dialect: snowflake
-- as_of: 2025-12-31
-- query: {"metrics": ["avg_recency_days"]}
WITH q1 AS (
  SELECT
    AVG(customer_segments.recency_days) AS avg_recency_days
  FROM customer_segments AS customer_segments
)
SELECT
  q1.avg_recency_days AS avg_recency_days
FROM q1
