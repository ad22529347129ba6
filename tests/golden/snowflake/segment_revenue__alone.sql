-- case: segment_revenue__alone
-- dialect: snowflake
-- as_of: 2025-12-31
-- query: {"metrics": ["segment_revenue"]}
WITH q1 AS (
  SELECT
    SUM(customer_segments.monetary) AS segment_revenue
  FROM customer_segments AS customer_segments
)
SELECT
  q1.segment_revenue AS segment_revenue
FROM q1
