-- case: gross_profit__alone
-- dialect: trino
-- as_of: 2025-12-31
-- query: {"metrics": ["gross_profit"]}
WITH q1 AS (
  SELECT
    SUM(orders.amount - orders.cost_amount) AS gross_profit
  FROM orders AS orders
  WHERE
    orders.status = 'completed'
)
SELECT
  q1.gross_profit AS gross_profit
FROM q1
