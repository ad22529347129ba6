-- case: analysis__churn_risk_important_value
-- dialect: spark
-- as_of: 2025-12-31
-- query: {"analysis": "churn_risk", "filters": [{"field": "rfm_segment", "values": ["Important Value"]}]}
WITH q1 AS (
  SELECT
    customers.customer_id AS customer_id,
    customers.customer_name AS customer_name,
    AVG(customer_value.historical_clv) AS avg_historical_clv,
    AVG(customer_value.clv) AS avg_clv,
    AVG(customer_value.p_alive) AS avg_p_alive
  FROM customer_value AS customer_value
  LEFT JOIN customers AS customers
    ON customer_value.customer_id = customers.customer_id
  LEFT JOIN customer_segments AS customer_segments
    ON customer_value.customer_id = customer_segments.customer_id
  WHERE
    customer_segments.rfm_segment = 'Important Value'
    AND customer_value.churn_risk = 'High'
  GROUP BY
    customers.customer_id,
    customers.customer_name
)
SELECT
  q1.customer_id AS customer_id,
  q1.customer_name AS customer_name,
  q1.avg_historical_clv AS avg_historical_clv,
  q1.avg_clv AS avg_clv,
  q1.avg_p_alive AS avg_p_alive
FROM q1
ORDER BY
  avg_historical_clv DESC
LIMIT 50
