-- case: marketing_spend__by_month
-- dialect: postgres
-- as_of: 2025-12-31
-- query: {"metrics": ["marketing_spend"], "time": {"grain": "month", "relative": "this_year"}}
WITH q1 AS (
  SELECT
    CAST(DATE_TRUNC('MONTH', marketing_spend.month) AS DATE) AS month,
    SUM(marketing_spend.spend) AS marketing_spend
  FROM marketing_spend AS marketing_spend
  WHERE
    marketing_spend.month >= CAST('2025-01-01' AS DATE)
    AND marketing_spend.month <= CAST('2025-12-31' AS DATE)
  GROUP BY
    CAST(DATE_TRUNC('MONTH', marketing_spend.month) AS DATE)
)
SELECT
  q1.month AS month,
  q1.marketing_spend AS marketing_spend
FROM q1
ORDER BY
  month ASC
