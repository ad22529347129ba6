-- case: segment_revenue__by_region
-- dialect: postgres
-- as_of: 2025-12-31
-- query: {"dimensions": ["region"], "metrics": ["segment_revenue"]}
WITH q1 AS (
  SELECT
    customers.region AS region,
    SUM(customer_segments.monetary) AS segment_revenue
  FROM customer_segments AS customer_segments
  LEFT JOIN customers AS customers
    ON customer_segments.customer_id = customers.customer_id
  GROUP BY
    customers.region
)
SELECT
  q1.region AS region,
  q1.segment_revenue AS segment_revenue
FROM q1
ORDER BY
  segment_revenue DESC NULLS LAST,
  region
