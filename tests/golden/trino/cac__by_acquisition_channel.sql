-- case: cac__by_acquisition_channel
-- dialect: trino
-- as_of: 2025-12-31
-- query: {"dimensions": ["acquisition_channel"], "metrics": ["cac"], "time": {"end": "2025-12-31", "start": "2025-01-01"}}
WITH q1 AS (
  SELECT
    marketing_spend.acquisition_channel AS acquisition_channel,
    SUM(marketing_spend.spend) AS marketing_spend
  FROM marketing_spend AS marketing_spend
  WHERE
    marketing_spend.month >= CAST('2025-01-01' AS DATE)
    AND marketing_spend.month <= CAST('2025-12-31' AS DATE)
  GROUP BY
    marketing_spend.acquisition_channel
), q2 AS (
  SELECT
    customers.acquisition_channel AS acquisition_channel,
    COUNT(*) AS new_customers
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
    customer_first_orders.first_order_date >= CAST('2025-01-01' AS DATE)
    AND customer_first_orders.first_order_date <= CAST('2025-12-31' AS DATE)
  GROUP BY
    customers.acquisition_channel
), all_keys AS (
  SELECT
    acquisition_channel
  FROM q1
  UNION
  SELECT
    acquisition_channel
  FROM q2
)
SELECT
  all_keys.acquisition_channel AS acquisition_channel,
  CAST(q1.marketing_spend AS DOUBLE) / NULLIF(q2.new_customers, 0) AS cac
FROM all_keys
LEFT JOIN q1
  ON all_keys.acquisition_channel IS NOT DISTINCT FROM q1.acquisition_channel
LEFT JOIN q2
  ON all_keys.acquisition_channel IS NOT DISTINCT FROM q2.acquisition_channel
ORDER BY
  cac DESC,
  acquisition_channel
