"""Customer-analytics models: RFM, CLV (BG/NBD + Gamma-Gamma), churn, CAC, cohorts, ABC."""
