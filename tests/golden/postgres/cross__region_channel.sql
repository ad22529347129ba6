-- case: cross__region_channel
-- dialect: postgres
-- as_of: 2025-12-31
-- query: {"dimensions": ["region", "sales_channel"], "filters": [{"field": "city_tier", "op": "in", "values": ["Tier 1", "Tier 2"]}], "limit": 10, "metrics": ["revenue", "buyers"], "order_by": [{"desc": true, "field": "revenue"}]}
WITH q1 AS (
  SELECT
    customers.region AS region,
    orders.sales_channel AS sales_channel,
    SUM(orders.amount) AS revenue,
    COUNT(DISTINCT orders.customer_id) AS buyers
  FROM orders AS orders
  LEFT JOIN customers AS customers
    ON orders.customer_id = customers.customer_id
  WHERE
    orders.status = 'completed' AND customers.city_tier IN ('Tier 1', 'Tier 2')
  GROUP BY
    customers.region,
    orders.sales_channel
)
SELECT
  q1.region AS region,
  q1.sales_channel AS sales_channel,
  q1.revenue AS revenue,
  q1.buyers AS buyers
FROM q1
ORDER BY
  revenue DESC NULLS LAST
LIMIT 10
