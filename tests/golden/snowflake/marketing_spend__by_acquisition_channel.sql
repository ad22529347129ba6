-- case: marketing_spend__by_acquisition_channel
-- dialect: snowflake
-- as_of: 2025-12-31
-- query: {"dimensions": ["acquisition_channel"], "metrics": ["marketing_spend"], "time": {"end": "2025-12-31", "start": "2025-01-01"}}
WITH q1 AS (
  SELECT
    marketing_spend.acquisition_channel AS acquisition_channel,
    SUM(marketing_spend.spend) AS marketing_spend
  FROM marketing_spend AS marketing_spend
  WHERE
    marketing_spend.month >= CAST('2025-01-01' AS DATE)
    AND marketing_spend.month <= CAST('2025-12-31' AS DATE)
  GROUP BY
    marketing_spend.acquisition_channel
)
SELECT
  q1.acquisition_channel AS acquisition_channel,
  q1.marketing_spend AS marketing_spend
FROM q1
ORDER BY
  marketing_spend DESC NULLS LAST,
  acquisition_channel
