-- case: survey_responses__alone
-- dialect: spark
-- as_of: 2025-12-31
-- query: {"metrics": ["survey_responses"]}
WITH q1 AS (
  SELECT
    COUNT(*) AS survey_responses
  FROM surveys AS surveys
)
SELECT
  q1.survey_responses AS survey_responses
FROM q1
