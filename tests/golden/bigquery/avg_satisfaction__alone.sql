-- case: avg_satisfaction__alone
-- dialect: bigquery
-- as_of: 2025-12-31
-- query: {"metrics": ["avg_satisfaction"]}
WITH q1 AS (
  SELECT
    AVG(surveys.satisfaction) AS avg_satisfaction
  FROM surveys AS surveys
)
SELECT
  q1.avg_satisfaction AS avg_satisfaction
FROM q1
