-- case: new_customers__by_region
-- dialect: trino
-- as_of: 2025-12-31
-- query: {"dimensions": ["region"], "metrics": ["new_customers"], "time": {"end": "2025-12-31", "start": "2025-01-01"}}
WITH q1 AS (
  SELECT
    customers.region AS region,
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
    customers.region
)
SELECT
  q1.region AS region,
  q1.new_customers AS new_customers
FROM q1
ORDER BY
  new_customers DESC,
  region
