-- case: survey_responses__by_region
-- dialect: snowflake
-- as_of: 2025-12-31
-- query: {"dimensions": ["region"], "metrics": ["survey_responses"], "time": {"end": "2025-12-31", "start": "2025-01-01"}}
WITH q1 AS (
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
)
SELECT
  q1.region AS region,
  q1.survey_responses AS survey_responses
FROM q1
ORDER BY
  survey_responses DESC NULLS LAST,
  region
