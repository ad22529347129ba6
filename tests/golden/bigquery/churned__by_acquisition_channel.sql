-- case: churned__by_acquisition_channel
-- dialect: bigquery
-- as_of: 2025-12-31
-- query: {"dimensions": ["acquisition_channel"], "metrics": ["lapsed_customers"]}
WITH q1 AS (
  SELECT
    customers.acquisition_channel AS acquisition_channel,
    COUNT(*) AS lapsed_customers
  FROM customer_value AS customer_value
  LEFT JOIN customers AS customers
    ON customer_value.customer_id = customers.customer_id
  WHERE
    customer_value.churn_status = 'Churned'
  GROUP BY
    customers.acquisition_channel
)
SELECT
  q1.acquisition_channel AS acquisition_channel,
  q1.lapsed_customers AS lapsed_customers
FROM q1
ORDER BY
  lapsed_customers DESC,
  acquisition_channel NULLS LAST
