-- case: survey_responses__by_month
-- dialect: trino
-- as_of: 2025-12-31
-- query: {"metrics": ["survey_responses"], "time": {"grain": "month", "relative": "this_year"}}
WITH q1 AS (
  SELECT
    CAST(DATE_TRUNC('MONTH', surveys.survey_date) AS DATE) AS month,
    COUNT(*) AS survey_responses
  FROM surveys AS surveys
  WHERE
    surveys.survey_date >= CAST('2025-01-01' AS DATE)
    AND surveys.survey_date <= CAST('2025-12-31' AS DATE)
  GROUP BY
    CAST(DATE_TRUNC('MONTH', surveys.survey_date) AS DATE)
)
SELECT
  q1.month AS month,
  q1.survey_responses AS survey_responses
FROM q1
ORDER BY
  month ASC
