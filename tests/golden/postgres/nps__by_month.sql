-- case: nps__by_month
-- dialect: postgres
-- as_of: 2025-12-31
-- query: {"metrics": ["nps"], "time": {"grain": "month", "relative": "this_year"}}
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
), q2 AS (
  SELECT
    CAST(DATE_TRUNC('MONTH', surveys.survey_date) AS DATE) AS month,
    COUNT(*) AS detractors
  FROM surveys AS surveys
  WHERE
    surveys.nps_score <= 6
    AND surveys.survey_date >= CAST('2025-01-01' AS DATE)
    AND surveys.survey_date <= CAST('2025-12-31' AS DATE)
  GROUP BY
    CAST(DATE_TRUNC('MONTH', surveys.survey_date) AS DATE)
), q3 AS (
  SELECT
    CAST(DATE_TRUNC('MONTH', surveys.survey_date) AS DATE) AS month,
    COUNT(*) AS survey_responses
  FROM surveys AS surveys
  WHERE
    surveys.survey_date >= CAST('2025-01-01' AS DATE)
    AND surveys.survey_date <= CAST('2025-12-31' AS DATE)
  GROUP BY
    CAST(DATE_TRUNC('MONTH', surveys.survey_date) AS DATE)
), all_keys AS (
  SELECT
    month
  FROM q1
  UNION
  SELECT
    month
  FROM q2
  UNION
  SELECT
    month
  FROM q3
)
SELECT
  all_keys.month AS month,
  (
    CAST(100.0 * (
      (
        q1.promoters
      ) - (
        q2.detractors
      )
    ) AS DOUBLE PRECISION) / NULLIF((
      q3.survey_responses
    ), 0)
  ) AS nps
FROM all_keys
LEFT JOIN q1
  ON all_keys.month IS NOT DISTINCT FROM q1.month
LEFT JOIN q2
  ON all_keys.month IS NOT DISTINCT FROM q2.month
LEFT JOIN q3
  ON all_keys.month IS NOT DISTINCT FROM q3.month
ORDER BY
  month ASC
