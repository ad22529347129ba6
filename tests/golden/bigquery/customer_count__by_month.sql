-- case: customer_count__by_month
-- dialect: bigquery
-- as_of: 2025-12-31
-- query: {"metrics": ["customer_count"], "time": {"grain": "month", "relative": "this_year"}}
WITH q1 AS (
  SELECT
    CAST(DATE_TRUNC(customers.signup_date, MONTH) AS DATE) AS month,
    COUNT(*) AS customer_count
  FROM customers AS customers
  WHERE
    customers.signup_date >= CAST('2025-01-01' AS DATE)
    AND customers.signup_date <= CAST('2025-12-31' AS DATE)
  GROUP BY
    CAST(DATE_TRUNC(customers.signup_date, MONTH) AS DATE)
)
SELECT
  q1.month AS month,
  q1.customer_count AS customer_count
FROM q1
ORDER BY
  month ASC NULLS LAST
