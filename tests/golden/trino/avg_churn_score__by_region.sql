-- case: avg_churn_score__by_region
-- dialect: trino
-- as_of: 2025-12-31
-- query: {"dimensions": ["region"], "metrics": ["avg_churn_score"]}
WITH q1 AS (
  SELECT
    customers.region AS region,
    AVG(churn_scores.churn_score) AS avg_churn_score
  FROM churn_scores AS churn_scores
  LEFT JOIN customers AS customers
    ON churn_scores.customer_id = customers.customer_id
  GROUP BY
    customers.region
)
SELECT
  q1.region AS region,
  q1.avg_churn_score AS avg_churn_score
FROM q1
ORDER BY
  avg_churn_score DESC,
  region
