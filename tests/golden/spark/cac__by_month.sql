-- case: cac__by_month
-- dialect: spark
-- as_of: 2025-12-31
-- query: {"metrics": ["cac"], "time": {"grain": "month", "relative": "this_year"}}
WITH q1 AS (
  SELECT
    CAST(TRUNC(marketing_spend.month, 'MONTH') AS DATE) AS month,
    SUM(marketing_spend.spend) AS marketing_spend
  FROM marketing_spend AS marketing_spend
  WHERE
    marketing_spend.month >= CAST('2025-01-01' AS DATE)
    AND marketing_spend.month <= CAST('2025-12-31' AS DATE)
  GROUP BY
    CAST(TRUNC(marketing_spend.month, 'MONTH') AS DATE)
), q2 AS (
  SELECT
    CAST(TRUNC(customer_first_orders.first_order_date, 'MONTH') AS DATE) AS month,
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
  WHERE
    customer_first_orders.first_order_date >= CAST('2025-01-01' AS DATE)
    AND customer_first_orders.first_order_date <= CAST('2025-12-31' AS DATE)
  GROUP BY
    CAST(TRUNC(customer_first_orders.first_order_date, 'MONTH') AS DATE)
), all_keys AS (
  SELECT
    month
  FROM q1
  UNION
  SELECT
    month
  FROM q2
)
SELECT
  all_keys.month AS month,
  CAST(q1.marketing_spend AS DOUBLE) / NULLIF(q2.new_customers, 0) AS cac
FROM all_keys
LEFT JOIN q1
  ON all_keys.month IS NOT DISTINCT FROM q1.month
LEFT JOIN q2
  ON all_keys.month IS NOT DISTINCT FROM q2.month
ORDER BY
  month ASC NULLS LAST
