-- case: avg_satisfaction__by_region
-- dialect: bigquery
-- as_of: 2025-12-31
-- query: {"dimensions": ["region"], "metrics": ["avg_satisfaction"], "time": {"end": "2025-12-31", "start": "2025-01-01"}}
WITH q1 AS (
  SELECT
    customers.region AS region,
    AVG(surveys.satisfaction) AS avg_satisfaction
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
  q1.avg_satisfaction AS avg_satisfaction
FROM q1
ORDER BY
  avg_satisfaction DESC,
  region NULLS LAST
