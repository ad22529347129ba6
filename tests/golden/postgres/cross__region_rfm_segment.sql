-- case: cross__region_rfm_segment
-- dialect: postgres
-- as_of: 2025-12-31
-- query: {"dimensions": ["region", "rfm_segment"], "metrics": ["segment_customers", "revenue"]}
WITH q1 AS (
  SELECT
    customers.region AS region,
    customer_segments.rfm_segment AS rfm_segment,
    COUNT(*) AS segment_customers
  FROM customer_segments AS customer_segments
  LEFT JOIN customers AS customers
    ON customer_segments.customer_id = customers.customer_id
  GROUP BY
    customers.region,
    customer_segments.rfm_segment
), q2 AS (
  SELECT
    customers.region AS region,
    customer_segments.rfm_segment AS rfm_segment,
    SUM(orders.amount) AS revenue
  FROM orders AS orders
  LEFT JOIN customers AS customers
    ON orders.customer_id = customers.customer_id
  LEFT JOIN customer_segments AS customer_segments
    ON orders.customer_id = customer_segments.customer_id
  WHERE
    orders.status = 'completed'
  GROUP BY
    customers.region,
    customer_segments.rfm_segment
), all_keys AS (
  SELECT
    region,
    rfm_segment
  FROM q1
  UNION
  SELECT
    region,
    rfm_segment
  FROM q2
)
SELECT
  all_keys.region AS region,
  all_keys.rfm_segment AS rfm_segment,
  q1.segment_customers AS segment_customers,
  q2.revenue AS revenue
FROM all_keys
LEFT JOIN q1
  ON all_keys.region IS NOT DISTINCT FROM q1.region
  AND all_keys.rfm_segment IS NOT DISTINCT FROM q1.rfm_segment
LEFT JOIN q2
  ON all_keys.region IS NOT DISTINCT FROM q2.region
  AND all_keys.rfm_segment IS NOT DISTINCT FROM q2.rfm_segment
ORDER BY
  segment_customers DESC NULLS LAST,
  region,
  rfm_segment
