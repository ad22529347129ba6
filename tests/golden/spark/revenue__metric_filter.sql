-- case: revenue__metric_filter
-- dialect: spark
-- as_of: 2025-12-31
-- query: {"dimensions": ["city"], "filters": [{"field": "revenue", "op": ">", "values": [1000000]}], "metrics": ["revenue"]}
WITH q1 AS (
  SELECT
    customers.city AS city,
    SUM(orders.amount) AS revenue
  FROM orders AS orders
  LEFT JOIN customers AS customers
    ON orders.customer_id = customers.customer_id
  WHERE
    orders.status = 'completed'
  GROUP BY
    customers.city
)
SELECT
  *
FROM (
  SELECT
    q1.city AS city,
    q1.revenue AS revenue
  FROM q1
) AS result
WHERE
  revenue > 1000000
ORDER BY
  revenue DESC,
  city NULLS LAST
