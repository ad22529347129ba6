-- case: marketing_spend__alone
-- dialect: trino
-- as_of: 2025-12-31
-- query: {"metrics": ["marketing_spend"]}
WITH q1 AS (
  SELECT
    SUM(marketing_spend.spend) AS marketing_spend
  FROM marketing_spend AS marketing_spend
)
SELECT
  q1.marketing_spend AS marketing_spend
FROM q1
