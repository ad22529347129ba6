-- case: analysis__abc
-- dialect: trino
-- as_of: 2025-12-31
-- query: {"analysis": "abc"}
WITH q1 AS (
  SELECT
    customer_segments.abc_class AS abc_class,
    COUNT(*) AS segment_customers,
    SUM(customer_segments.monetary) AS segment_revenue
  FROM customer_segments AS customer_segments
  GROUP BY
    customer_segments.abc_class
)
SELECT
  q1.abc_class AS abc_class,
  q1.segment_customers AS segment_customers,
  q1.segment_revenue AS segment_revenue
FROM q1
ORDER BY
  abc_class ASC
