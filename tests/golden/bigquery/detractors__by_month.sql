-- case: detractors__by_month
-- dialect: bigquery
-- as_of: 2025-12-31
-- query: {"metrics": ["detractors"], "time": {"grain": "month", "relative": "this_year"}}
WITH q1 AS (
  SELECT
    CAST(DATE_TRUNC(surveys.survey_date, MONTH) AS DATE) AS month,
    COUNT(*) AS detractors
  FROM surveys AS surveys
  WHERE
    surveys.nps_score <= 6
    AND surveys.survey_date >= CAST('2025-01-01' AS DATE)
    AND surveys.survey_date <= CAST('2025-12-31' AS DATE)
  GROUP BY
    CAST(DATE_TRUNC(surveys.survey_date, MONTH) AS DATE)
)
SELECT
  q1.month AS month,
  q1.detractors AS detractors
FROM q1
ORDER BY
  month ASC NULLS LAST
