-- case: avg_monetary__by_region
-- dialect: spark
-- as_of: 2025-12-31
-- query: {"dimensions": ["region"], "metrics": ["avg_monetary"]}
WITH q1 AS (
  SELECT
    customers.region AS region,
    AVG(customer_segments.monetary) AS avg_monetary
  FROM customer_segments AS customer_segments
  LEFT JOIN customers AS customers
    ON customer_segments.customer_id = customers.customer_id
  GROUP BY
    customers.region
)
SELECT
  q1.region AS region,
  q1.avg_monetary AS avg_monetary
FROM q1
ORDER BY
  avg_monetary DESC,
  region NULLS LAST
