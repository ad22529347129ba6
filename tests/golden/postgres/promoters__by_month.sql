-- case: promoters__by_month
-- dialect: postgres
-- as_of: 2025-12-31
-- query: {"metrics": ["promoters"], "time": {"grain": "month", "relative": "this_year"}}
WITH q1 AS (
  SELECT
    CAST(DATE_TRUNC('MONTH', surveys.survey_date) AS DATE) AS month,
    COUNT(*) AS promoters
  FROM surveys AS surveys
  WHERE
    surveys.nps_score >= 9
    AND surveys.survey_date >= CAST('2025-01-01' AS DATE)
    AND surveys.survey_date <= CAST('2025-12-31' AS DATE)
  GROUP BY
    CAST(DATE_TRUNC('MONTH', surveys.survey_date) AS DATE)
)
SELECT
  q1.month AS month,
  q1.promoters AS promoters
FROM q1
ORDER BY
  month ASC
