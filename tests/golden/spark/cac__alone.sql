-- case: cac__alone
-- dialect: spark
-- as_of: 2025-12-31
-- query: {"metrics": ["cac"]}
WITH q1 AS (
  SELECT
    SUM(marketing_spend.spend) AS marketing_spend
  FROM marketing_spend AS marketing_spend
), q2 AS (
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
  CAST(q1.marketing_spend AS DOUBLE) / NULLIF(q2.new_customers, 0) AS cac
FROM q1
CROSS JOIN q2
