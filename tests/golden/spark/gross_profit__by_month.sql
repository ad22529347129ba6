-- case: gross_profit__by_month
-- dialect: spark
-- as_of: 2025-12-31
-- query: {"metrics": ["gross_profit"], "time": {"grain": "month", "relative": "this_year"}}
WITH q1 AS (
  SELECT
    CAST(TRUNC(orders.order_date, 'MONTH') AS DATE) AS month,
    SUM(orders.amount - orders.cost_amount) AS gross_profit
  FROM orders AS orders
  WHERE
    orders.status = 'completed'
    AND orders.order_date >= CAST('2025-01-01' AS DATE)
    AND orders.order_date <= CAST('2025-12-31' AS DATE)
  GROUP BY
    CAST(TRUNC(orders.order_date, 'MONTH') AS DATE)
)
SELECT
  q1.month AS month,
  q1.gross_profit AS gross_profit
FROM q1
ORDER BY
  month ASC NULLS LAST
