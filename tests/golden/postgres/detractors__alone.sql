-- case: detractors__alone
-- dialect: postgres
-- as_of: 2025-12-31
-- query: {"metrics": ["detractors"]}
WITH q1 AS (
  SELECT
    COUNT(*) AS detractors
  FROM surveys AS surveys
  WHERE
    surveys.nps_score <= 6
)
SELECT
  q1.detractors AS detractors
FROM q1
