-- case: new_customers__alone
-- dialect: trino
-- as_of: 2025-12-31
-- query: {"metrics": ["new_customers"]}
WITH q1 AS (
  SELECT
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
)
SELECT
  q1.new_customers AS new_customers
FROM q1
