-- case: segment_customers__by_region
-- dialect: postgres
-- as_of: 2025-12-31
-- query: {"dimensions": ["region"], "metrics": ["segment_customers"]}
WITH q1 AS (
  SELECT
    customers.region AS region,
    COUNT(*) AS segment_customers
  FROM customer_segments AS customer_segments
  LEFT JOIN customers AS customers
    ON customer_segments.customer_id = customers.customer_id
  GROUP BY
    customers.region
)
SELECT
  q1.region AS region,
  q1.segment_customers AS segment_customers
FROM q1
ORDER BY
  segment_customers DESC NULLS LAST,
  region
