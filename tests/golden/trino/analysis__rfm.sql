-- case: analysis__rfm
-- dialect: trino
-- as_of: 2025-12-31
-- query: {"analysis": "rfm"}
WITH q1 AS (
  SELECT
    customer_segments.rfm_segment AS rfm_segment,
    COUNT(*) AS segment_customers,
    SUM(customer_segments.monetary) AS segment_revenue,
    AVG(customer_segments.recency_days) AS avg_recency_days,
    AVG(customer_segments.frequency) AS avg_frequency,
    AVG(customer_segments.monetary) AS avg_monetary
  FROM customer_segments AS customer_segments
  GROUP BY
    customer_segments.rfm_segment
)
SELECT
  q1.rfm_segment AS rfm_segment,
  q1.segment_customers AS segment_customers,
  q1.segment_revenue AS segment_revenue,
  q1.avg_recency_days AS avg_recency_days,
  q1.avg_frequency AS avg_frequency,
  q1.avg_monetary AS avg_monetary
FROM q1
ORDER BY
  segment_revenue DESC
