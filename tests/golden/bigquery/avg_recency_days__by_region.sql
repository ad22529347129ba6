-- case: avg_recency_days__by_region
-- dialect: bigquery
-- as_of: 2025-12-31
-- query: {"dimensions": ["region"], "metrics": ["avg_recency_days"]}
WITH q1 AS (
  SELECT
    customers.region AS region,
    AVG(customer_segments.recency_days) AS avg_recency_days
  FROM customer_segments AS customer_segments
  LEFT JOIN customers AS customers
    ON customer_segments.customer_id = customers.customer_id
  GROUP BY
    customers.region
)
SELECT
  q1.region AS region,
  q1.avg_recency_days AS avg_recency_days
FROM q1
ORDER BY
  avg_recency_days DESC,
  region NULLS LAST
