-- case: avg_monetary__alone
-- dialect: postgres
-- as_of: 2025-12-31
-- query: {"metrics": ["avg_monetary"]}
WITH q1 AS (
  SELECT
    AVG(customer_segments.monetary) AS avg_monetary
  FROM customer_segments AS customer_segments
)
SELECT
  q1.avg_monetary AS avg_monetary
FROM q1
