-- case: revenue__by_category
-- dialect: trino
-- as_of: 2025-12-31
-- query: {"dimensions": ["category"], "metrics": ["revenue", "gross_margin"]}
WITH q1 AS (
  SELECT
    products.category AS category,
    SUM(order_items.line_amount) AS revenue,
    SUM(order_items.line_amount - order_items.quantity * products.unit_cost) AS gross_profit
  FROM order_items AS order_items
  LEFT JOIN products AS products
    ON order_items.product_id = products.product_id
  LEFT JOIN orders AS orders
    ON order_items.order_id = orders.order_id
  WHERE
    orders.status = 'completed'
  GROUP BY
    products.category
)
SELECT
  q1.category AS category,
  q1.revenue AS revenue,
  CAST(q1.gross_profit AS DOUBLE) / NULLIF(q1.revenue, 0) AS gross_margin
FROM q1
ORDER BY
  revenue DESC,
  category
