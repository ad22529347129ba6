-- case: analysis__clv_ranking
-- dialect: bigquery
-- as_of: 2025-12-31
-- query: {"analysis": "clv_ranking"}
WITH q1 AS (
  SELECT
    customers.customer_id AS customer_id,
    customers.customer_name AS customer_name,
    AVG(customer_value.clv) AS avg_clv,
    AVG(customer_value.p_alive) AS avg_p_alive,
    AVG(customer_value.historical_clv) AS avg_historical_clv
  FROM customer_value AS customer_value
  LEFT JOIN customers AS customers
    ON customer_value.customer_id = customers.customer_id
  GROUP BY
    customers.customer_id,
    customers.customer_name
)
SELECT
  q1.customer_id AS customer_id,
  q1.customer_name AS customer_name,
  q1.avg_clv AS avg_clv,
  q1.avg_p_alive AS avg_p_alive,
  q1.avg_historical_clv AS avg_historical_clv
FROM q1
ORDER BY
  avg_clv DESC
LIMIT 20
