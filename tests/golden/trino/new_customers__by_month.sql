-- case: new_customers__by_month
-- dialect: trino
-- as_of: 2025-12-31
-- query: {"metrics": ["new_customers"], "time": {"grain": "month", "relative": "this_year"}}
WITH q1 AS (
  SELECT
    CAST(DATE_TRUNC('MONTH', customer_first_orders.first_order_date) AS DATE) AS month,
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
    CAST(DATE_TRUNC('MONTH', customer_first_orders.first_order_date) AS DATE)
)
SELECT
  q1.month AS month,
  q1.new_customers AS new_customers
FROM q1
ORDER BY
  month ASC
