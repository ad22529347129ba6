-- case: avg_p_alive__alone
-- dialect: snowflake
-- as_of: 2025-12-31
-- query: {"metrics": ["avg_p_alive"]}
WITH q1 AS (
  SELECT
    AVG(customer_value.p_alive) AS avg_p_alive
  FROM customer_value AS customer_value
)
SELECT
  q1.avg_p_alive AS avg_p_alive
FROM q1
