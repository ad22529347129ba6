-- case: analysis__cohort_2025_east
-- dialect: bigquery
-- as_of: 2025-12-31
-- query: {"analysis": "cohort", "filters": [{"field": "region", "values": ["East"]}], "time": {"relative": "this_year"}}
WITH firsts AS (
  SELECT
    customer_first_orders.customer_id AS customer_id,
    CAST(DATE_TRUNC(customer_first_orders.first_order_date, MONTH) AS DATE) AS cohort
  FROM (
    SELECT
      customer_id,
      MIN(order_date) AS first_order_date
    FROM orders
    WHERE
      status = 'completed'
    GROUP BY
      customer_id
  ) AS customer_first_orders
  LEFT JOIN customers AS customers
    ON customer_first_orders.customer_id = customers.customer_id
  WHERE
    customers.region = 'East'
    AND customer_first_orders.first_order_date >= CAST('2025-01-01' AS DATE)
    AND customer_first_orders.first_order_date <= CAST('2025-12-31' AS DATE)
), active AS (
  SELECT DISTINCT
    orders.customer_id AS customer_id,
    CAST(DATE_TRUNC(orders.order_date, MONTH) AS DATE) AS activity_month
  FROM orders AS orders
  WHERE
    orders.status = 'completed' AND orders.order_date <= CAST('2025-12-31' AS DATE)
), sizes AS (
  SELECT
    cohort,
    COUNT(*) AS cohort_size
  FROM firsts
  GROUP BY
    cohort
)
SELECT
  f.cohort AS cohort,
  DATE_DIFF(a.activity_month, f.cohort, MONTH) AS months_since,
  MAX(s.cohort_size) AS cohort_size,
  COUNT(DISTINCT f.customer_id) AS retained_customers,
  CAST(COUNT(DISTINCT f.customer_id) AS FLOAT64) / MAX(s.cohort_size) AS retention_rate
FROM firsts AS f
INNER JOIN active AS a
  ON a.customer_id = f.customer_id AND a.activity_month >= f.cohort
INNER JOIN sizes AS s
  ON s.cohort = f.cohort
GROUP BY
  cohort,
  months_since
ORDER BY
  cohort,
  months_since
