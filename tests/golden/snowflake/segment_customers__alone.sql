-- case: segment_customers__alone
-- dialect: snowflake
-- as_of: 2025-12-31
-- query: {"metrics": ["segment_customers"]}
WITH q1 AS (
  SELECT
    COUNT(*) AS segment_customers
  FROM customer_segments AS customer_segments
)
SELECT
  q1.segment_customers AS segment_customers
FROM q1
