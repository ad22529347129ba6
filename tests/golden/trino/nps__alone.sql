-- case: nps__alone
-- dialect: trino
-- as_of: 2025-12-31
-- query: {"metrics": ["nps"]}
WITH q1 AS (
  SELECT
    COUNT(*) AS promoters
  FROM surveys AS surveys
  WHERE
    surveys.nps_score >= 9
), q2 AS (
  SELECT
    COUNT(*) AS detractors
  FROM surveys AS surveys
  WHERE
    surveys.nps_score <= 6
), q3 AS (
  SELECT
    COUNT(*) AS survey_responses
  FROM surveys AS surveys
)
SELECT
  (
    CAST(100.0 * (
      (
        q1.promoters
      ) - (
        q2.detractors
      )
    ) AS DOUBLE) / NULLIF((
      q3.survey_responses
    ), 0)
  ) AS nps
FROM q1
CROSS JOIN q2
CROSS JOIN q3
