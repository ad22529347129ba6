-- case: promoters__by_region
-- dialect: postgres
-- as_of: 2025-12-31
-- query: {"dimensions": ["region"], "metrics": ["promoters"], "time": {"end": "2025-12-31", "start": "2025-01-01"}}
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
)
SELECT
  q1.region AS region,
  q1.promoters AS promoters
FROM q1
ORDER BY
  promoters DESC NULLS LAST,
  region
