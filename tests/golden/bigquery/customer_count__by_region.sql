-- case: customer_count__by_region
-- dialect: bigquery
-- as_of: 2025-12-31
-- query: {"dimensions": ["region"], "metrics": ["customer_count"], "time": {"end": "2025-12-31", "start": "2025-01-01"}}
WITH q1 AS (
  SELECT
    customers.region AS region,
    COUNT(*) AS customer_count
  FROM customers AS customers
  WHERE
    customers.signup_date >= CAST('2025-01-01' AS DATE)
    AND customers.signup_date <= CAST('2025-12-31' AS DATE)
  GROUP BY
    customers.region
)
SELECT
  q1.region AS region,
  q1.customer_count AS customer_count
FROM q1
ORDER BY
  customer_count DESC,
  region NULLS LAST
