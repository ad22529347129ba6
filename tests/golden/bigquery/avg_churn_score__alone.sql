-- case: avg_churn_score__alone
-- dialect: bigquery
-- as_of: 2025-12-31
-- query: {"metrics": ["avg_churn_score"]}
WITH q1 AS (
  SELECT
    AVG(churn_scores.churn_score) AS avg_churn_score
  FROM churn_scores AS churn_scores
)
SELECT
  q1.avg_churn_score AS avg_churn_score
FROM q1
