-- case: promoters__alone
-- dialect: snowflake
-- as_of: 2025-12-31
-- query: {"metrics": ["promoters"]}
WITH q1 AS (
  SELECT
    COUNT(*) AS promoters
  FROM surveys AS surveys
  WHERE
    surveys.nps_score >= 9
)
SELECT
  q1.promoters AS promoters
FROM q1
