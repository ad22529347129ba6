-- case: nps__by_region
-- dialect: postgres
-- as_of: 2025-12-31
-- query: {"dimensions": ["region"], "metrics": ["nps"], "time": {"end": "2025-12-31", "start": "2025-01-01"}}
WITH q1 AS (
  SELECT
    customers.region AS region,
    COUNT(*) AS promoters
  FROM surveys AS surveys
  LEFT JOIN customers AS customers
    ON surveys.customer_id = customers.customer_id
  WHERE
    surveys.nps_score >= 9
    AND surveys.survey_date >= CAST('2025-01-01' AS DATE)
    AND surveys.survey_date <= CAST('2025-12-31' AS DATE)
  GROUP BY
    customers.region
), q2 AS (
  SELECT
    customers.region AS region,
    COUNT(*) AS detractors
  FROM surveys AS surveys
  LEFT JOIN customers AS customers
    ON surveys.customer_id = customers.customer_id
  WHERE
    surveys.nps_score <= 6
    AND surveys.survey_date >= CAST('2025-01-01' AS DATE)
    AND surveys.survey_date <= CAST('2025-12-31' AS DATE)
  GROUP BY
    customers.region
), q3 AS (
  SELECT
    customers.region AS region,
    COUNT(*) AS survey_responses
  FROM surveys AS surveys
  LEFT JOIN customers AS customers
    ON surveys.customer_id = customers.customer_id
  WHERE
    surveys.survey_date >= CAST('2025-01-01' AS DATE)
    AND surveys.survey_date <= CAST('2025-12-31' AS DATE)
  GROUP BY
    customers.region
), all_keys AS (
  SELECT
    region
  FROM q1
  UNION
  SELECT
    region
  FROM q2
  UNION
  SELECT
    region
  FROM q3
)
SELECT
  all_keys.region AS region,
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
  ON all_keys.region IS NOT DISTINCT FROM q1.region
LEFT JOIN q2
  ON all_keys.region IS NOT DISTINCT FROM q2.region
LEFT JOIN q3
  ON all_keys.region IS NOT DISTINCT FROM q3.region
ORDER BY
  nps DESC NULLS LAST,
  region
