"""Customer-level models (DESIGN §4) against independent hand-written implementations.

RFM (8 segments, quintile scores, 11 named segments) and ABC are recomputed in
pandas from the raw completed orders, with integer cents and integer comparisons
against the means so that no float rounding can hide or invent a disagreement.
The customer_value model (churn flag, historical and predictive CLV) is checked
against hand SQL and a pandas per-customer-day summary. Cohorts are not covered
here (the analysis is still being added).
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import sqlglot
from sqlglot import exp

from assistant.service import Answer, ChatBI
from metrics.clv import fit_clv_models, score_customers
from metrics.customer_value import build
from semantic_layer.engine import DuckDBEngine
from semantic_layer.guard import guard_sql
from semantic_layer.materialize import Materializer
from semantic_layer.query import SemanticQuery

AS_OF = dt.date(2025, 12, 31)  # the demo warehouse's today (tests/conftest.py)
EARLIER = dt.date(2024, 12, 31)
WINDOW_DAYS = 365

SEGMENTS_8 = {
    # (r_high, f_high, m_high) -> segment, exactly as DESIGN §4 lists them
    (True, True, True): "Important Value",
    (True, False, True): "Important Development",
    (False, True, True): "Important Retention",
    (False, False, True): "Important Win-back",
    (True, True, False): "General Value",
    (True, False, False): "General Development",
    (False, True, False): "General Retention",
    (False, False, False): "General Win-back",
}

# The 11 named segments as an R x F grid: NAMED_GRID[r_score][f_score - 1].
# Copied by hand from the CASE in metrics/catalog/models/customer_segments.yaml.
NAMED_GRID = {
    #     f=1                 f=2                    f=3                    f=4                f=5
    1: ["Lost",             "Hibernating",         "At Risk",             "At Risk",         "Cannot Lose Them"],
    2: ["Hibernating",      "Hibernating",         "At Risk",             "At Risk",         "Cannot Lose Them"],
    3: ["About To Sleep",   "About To Sleep",      "Need Attention",      "Loyal Customers", "Loyal Customers"],
    4: ["Promising",        "Potential Loyalists", "Potential Loyalists", "Loyal Customers", "Loyal Customers"],
    5: ["Recent Customers", "Potential Loyalists", "Potential Loyalists", "Champions",       "Champions"],
}  # fmt: skip

RFM_COLUMNS = ("customer_id", "recency_days", "frequency", "monetary", "r_score", "f_score", "m_score",
               "rfm_segment", "rfm_named_segment", "abc_class", "cumulative_share")


# --- independent implementations -------------------------------------------------------------------


def ntile(n: int, buckets: int = 5) -> np.ndarray:
    """SQL NTILE over n already-sorted rows: the first n % buckets tiles get one extra row."""
    q, r = divmod(n, buckets)
    pos = np.arange(n)
    big = r * (q + 1)
    return np.where(pos < big, pos // (q + 1), r + (pos - big) // max(q, 1)) + 1


def rfm_pandas(orders: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """RFM + ABC per DESIGN §4 from completed orders (customer_id, order_date, cents)."""
    day = pd.Timestamp(as_of)
    window = orders[(orders["order_date"] > day - pd.Timedelta(days=WINDOW_DAYS)) & (orders["order_date"] <= day)]
    g = window.groupby("customer_id")
    out = pd.DataFrame({
        "last_order_date": g["order_date"].max(),
        "frequency": g.size(),
        "cents": g["cents"].sum(),
    }).reset_index()
    out["recency_days"] = (day - out["last_order_date"]).dt.days.astype(np.int64)
    n = len(out)
    rec, freq, cents = (out[c].to_numpy(np.int64) for c in ("recency_days", "frequency", "cents"))
    # "strictly better than the mean", in exact integer arithmetic: x < sum/n  <=>  x*n < sum
    r_high = rec * n < rec.sum()
    f_high = freq * n > freq.sum()
    m_high = cents * n > cents.sum()
    out["rfm_segment"] = [SEGMENTS_8[k] for k in zip(r_high, f_high, m_high)]
    cid = out["customer_id"].to_numpy()
    for col, keys in (("r_score", (cid, -rec)), ("f_score", (cid, freq)), ("m_score", (cid, cents))):
        order = np.lexsort(keys)  # last key is primary; customer_id breaks ties
        score = np.empty(n, dtype=np.int64)
        score[order] = ntile(n)
        out[col] = score
    out["rfm_named_segment"] = [NAMED_GRID[r][f - 1] for r, f in zip(out["r_score"], out["f_score"])]
    order = np.lexsort((cid, -cents))  # revenue desc, ties by customer_id
    cum = np.empty(n, dtype=np.int64)
    cum[order] = np.cumsum(cents[order])
    total = int(cents.sum())
    out["abc_class"] = np.where(cum * 100 <= total * 80, "A", np.where(cum * 100 <= total * 95, "B", "C"))
    out["cumulative_share"] = cum / total
    return out.sort_values("customer_id", ignore_index=True)


def day_summary_pandas(orders: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Per-customer summary over customer-days (the CDNOW convention), in days."""
    day = pd.Timestamp(as_of)
    days = (orders[orders["order_date"] <= day]
            .groupby(["customer_id", "order_date"], as_index=False)["cents"].sum()
            .sort_values(["customer_id", "order_date"], ignore_index=True))
    g = days.groupby("customer_id")
    first, last = g["order_date"].min(), g["order_date"].max()
    n_days, total = g.size(), g["cents"].sum()
    first_amount = g["cents"].first()  # sorted by date: the first purchase day
    out = pd.DataFrame({
        "repeat_days": n_days - 1,
        "span_days": (last - first).dt.days,
        "age_days": (day - first).dt.days,
        "days_since_last_purchase": (day - last).dt.days,
        "historical_clv": total / 100,
        "repeat_mean": ((total - first_amount) / (n_days - 1).where(n_days > 1)) / 100,
    }).reset_index()
    return out.sort_values("customer_id", ignore_index=True)


def clv_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """The model input (weeks) from a day summary, as DESIGN §4 / CDNOW use it."""
    return pd.DataFrame({
        "customer": frame["customer_id"].to_numpy(),
        "x": frame["repeat_days"].to_numpy(np.float64),
        "t_x": frame["span_days"].to_numpy(np.float64) / 7.0,
        "T": frame["age_days"].to_numpy(np.float64) / 7.0,
        "zbar": frame["repeat_mean"].fillna(0.0).to_numpy(np.float64),
        "revenue": frame["historical_clv"].to_numpy(np.float64),
    })


# --- fixtures --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bi(demo_db: Path):
    app = ChatBI(demo_db)
    yield app
    app.engine.close()


@pytest.fixture(scope="module")
def completed(raw_con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every completed order: customer_id, order_date (datetime64), amount in integer cents."""
    df = raw_con.execute(
        "SELECT customer_id, order_date, CAST(amount * 100 AS BIGINT) AS cents FROM orders WHERE status = 'completed'"
    ).df()
    df["order_date"] = pd.to_datetime(df["order_date"])
    return df


@pytest.fixture(scope="module")
def expected_rfm(completed: pd.DataFrame) -> pd.DataFrame:
    return rfm_pandas(completed, AS_OF)


def run(bi: ChatBI, query: dict, lang: str = "zh") -> Answer:
    return bi.run(SemanticQuery.model_validate(query), lang=lang)


def read_table(engine: DuckDBEngine, sql: str) -> pd.DataFrame:
    """A workspace table through the same guard user SQL passes."""
    return engine.dataframe(guard_sql(sql, engine.tables(), max_rows=10_000_000))


def read_rfm(engine: DuckDBEngine) -> pd.DataFrame:
    df = read_table(engine, f"SELECT {', '.join(RFM_COLUMNS)} FROM customer_segments")
    return df.sort_values("customer_id", ignore_index=True)


def assert_rfm_equal(actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Every customer, every column; a failure names the first customers that differ."""
    assert actual["customer_id"].tolist() == expected["customer_id"].tolist()
    got_cents = (actual["monetary"].astype(np.float64) * 100).round().astype(np.int64).to_numpy()
    columns = {
        "recency_days": (actual["recency_days"].to_numpy(np.int64), expected["recency_days"].to_numpy(np.int64)),
        "frequency": (actual["frequency"].to_numpy(np.int64), expected["frequency"].to_numpy(np.int64)),
        "monetary": (got_cents, expected["cents"].to_numpy(np.int64)),
    }
    for col in ("r_score", "f_score", "m_score"):
        columns[col] = (actual[col].to_numpy(np.int64), expected[col].to_numpy(np.int64))
    for col in ("rfm_segment", "rfm_named_segment", "abc_class"):
        columns[col] = (actual[col].astype(object).to_numpy(), expected[col].astype(object).to_numpy())
    for col, (got, want) in columns.items():
        bad = np.flatnonzero(got != want)
        assert bad.size == 0, (
            f"{col}: {bad.size} customers differ, e.g. "
            + "; ".join(f"customer {expected['customer_id'].iat[i]}: got {got[i]!r}, want {want[i]!r}" for i in bad[:5])
        )
    np.testing.assert_allclose(actual["cumulative_share"].astype(np.float64), expected["cumulative_share"],
                               rtol=1e-12, atol=1e-12)


# --- RFM and ABC -----------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 4, 5, 6, 9, 11, 23, 10_007])
def test_reference_ntile_matches_sql_ntile(n: int) -> None:
    sql = f"SELECT NTILE(5) OVER (ORDER BY i) FROM range({n}) t(i) ORDER BY i"
    want = [row[0] for row in duckdb.sql(sql).fetchall()]
    assert ntile(n).tolist() == want


def test_as_of_is_the_demo_today(bi: ChatBI) -> None:
    assert bi.as_of == AS_OF


def test_rfm_segment_counts_through_chatbi(bi: ChatBI, expected_rfm: pd.DataFrame,
                                           raw_con: duckdb.DuckDBPyConnection) -> None:
    answer = run(bi, {"metrics": ["segment_customers"], "dimensions": ["rfm_segment"]})
    assert answer.status == "ok", answer.message
    assert answer.columns == ["rfm_segment", "segment_customers"]
    got = {seg: n for seg, n in answer.rows}
    assert got == expected_rfm["rfm_segment"].value_counts().to_dict()
    assert set(got) == set(SEGMENTS_8.values())  # the demo populates all 8 segments
    in_window = raw_con.execute(
        "SELECT COUNT(DISTINCT customer_id) FROM orders WHERE status = 'completed' "
        "AND order_date > DATE '2025-12-31' - 365 AND order_date <= DATE '2025-12-31'"
    ).fetchone()[0]
    assert sum(got.values()) == in_window == len(expected_rfm)


def test_rfm_every_customer_matches_pandas(bi: ChatBI, expected_rfm: pd.DataFrame) -> None:
    assert run(bi, {"metrics": ["segment_customers"], "dimensions": ["abc_class"]}).status == "ok"
    actual = read_rfm(bi.engine)
    assert_rfm_equal(actual, expected_rfm)


def test_rfm_mean_thresholds_are_strict(expected_rfm: pd.DataFrame) -> None:
    """Sanity of the reference itself: high means strictly better than the mean."""
    e = expected_rfm
    high_r = e["rfm_segment"].isin(["Important Value", "Important Development", "General Value", "General Development"])
    assert (e.loc[high_r, "recency_days"] < e["recency_days"].mean()).all()
    assert (e.loc[~high_r, "recency_days"] >= e["recency_days"].mean()).all()
    # Quintiles are as even as NTILE makes them: sizes differ by at most one
    for col in ("r_score", "f_score", "m_score"):
        sizes = e[col].value_counts()
        assert sorted(sizes.index) == [1, 2, 3, 4, 5] and sizes.max() - sizes.min() <= 1


def test_named_segment_grid_matches_yaml_case_cell_by_cell(catalog) -> None:
    """Evaluate the model's own CASE on all 25 (r, f) cells; it must equal NAMED_GRID."""
    tree = sqlglot.parse_one(catalog.model("customer_segments").source.sql, dialect="duckdb")
    case = next(a.this for a in tree.find_all(exp.Alias) if a.alias == "rfm_named_segment")
    sql = (f"SELECT r_score, f_score, {case.sql(dialect='duckdb')} AS named "
           "FROM range(1, 6) r(r_score), range(1, 6) f(f_score)")
    cells = {(int(r), int(f)): name for r, f, name in duckdb.connect().execute(sql).fetchall()}
    assert len(cells) == 25
    for (r, f), name in cells.items():
        assert name == NAMED_GRID[r][f - 1], f"cell r={r}, f={f}: YAML says {name!r}, grid {NAMED_GRID[r][f - 1]!r}"
    names = {n for row in NAMED_GRID.values() for n in row}
    assert len(names) == 11
    dim = next(d for d in catalog.model("customer_segments").dimensions if d.name == "rfm_named_segment")
    assert {v.value for v in dim.values} == names


def test_named_segments_and_abc_through_chatbi(bi: ChatBI, expected_rfm: pd.DataFrame) -> None:
    answer = run(bi, {"metrics": ["segment_customers", "segment_revenue"], "dimensions": ["abc_class"]})
    assert answer.status == "ok", answer.message
    got = {row[0]: (row[1], row[2]) for row in answer.rows}
    want = expected_rfm.groupby("abc_class").agg(n=("customer_id", "size"), cents=("cents", "sum"))
    assert set(got) == {"A", "B", "C"}
    for cls, (n, revenue) in got.items():
        assert n == want.loc[cls, "n"]
        assert round(revenue * 100) == want.loc[cls, "cents"]
    # A holds at most 80% of the revenue, A + B at most 95%, and the first C customer crosses 95%
    total = want["cents"].sum()
    assert want.loc["A", "cents"] <= 0.8 * total < want.loc[["A", "B"], "cents"].sum() <= 0.95 * total
    answer = run(bi, {"metrics": ["segment_customers"], "dimensions": ["rfm_named_segment"]})
    assert answer.status == "ok", answer.message
    assert dict(answer.rows) == expected_rfm["rfm_named_segment"].value_counts().to_dict()


def test_segment_by_region_matches_hand_groupby(bi: ChatBI, expected_rfm: pd.DataFrame,
                                                raw_con: duckdb.DuckDBPyConnection) -> None:
    answer = run(bi, {"metrics": ["segment_customers"], "dimensions": ["region", "rfm_segment"]})
    assert answer.status == "ok", answer.message
    assert answer.columns == ["region", "rfm_segment", "segment_customers"]
    assert not answer.truncated
    regions = raw_con.execute("SELECT customer_id, region FROM customers").df()
    merged = expected_rfm.merge(regions, on="customer_id", how="left", validate="one_to_one")
    assert merged["region"].notna().all()
    want = merged.groupby(["region", "rfm_segment"]).size().to_dict()
    got = {(region, seg): n for region, seg, n in answer.rows}
    assert got == want
    assert len(got) == 7 * 8


def test_rfm_averages_match(bi: ChatBI, expected_rfm: pd.DataFrame) -> None:
    answer = run(bi, {"metrics": ["avg_recency_days", "avg_frequency", "avg_monetary"]})
    assert answer.status == "ok", answer.message
    (recency, frequency, monetary), = answer.rows
    # Answer rows carry floats rounded to 6 decimals
    assert recency == pytest.approx(expected_rfm["recency_days"].mean(), abs=1e-6)
    assert frequency == pytest.approx(expected_rfm["frequency"].mean(), abs=1e-6)
    assert monetary == pytest.approx(expected_rfm["cents"].mean() / 100, abs=1e-6)


# --- churn flag and historical CLV ----------------------------------------------------------------


def test_lapsed_customers_by_acquisition_channel(bi: ChatBI, catalog, raw_con: duckdb.DuckDBPyConnection) -> None:
    churn_days = int(catalog.model("customer_value").source.params["churn_days"])
    assert churn_days == 180  # DESIGN §4
    answer = run(bi, {"metrics": ["lapsed_customers"], "dimensions": ["acquisition_channel"]})
    assert answer.status == "ok", answer.message
    want = dict(raw_con.execute(f"""
        WITH last AS (
          SELECT customer_id, MAX(order_date) AS last_date FROM orders
          WHERE status = 'completed' AND order_date <= DATE '2025-12-31' GROUP BY customer_id)
        SELECT c.acquisition_channel, COUNT(*) FROM last JOIN customers c USING (customer_id)
        WHERE date_diff('day', last_date, DATE '2025-12-31') >= {churn_days}
        GROUP BY 1""").fetchall())
    assert dict(answer.rows) == want
    assert len(want) == 5 and all(n > 0 for n in want.values())


def test_churn_boundary_is_180_days(bi: ChatBI, raw_con: duckdb.DuckDBPyConnection) -> None:
    """A last order exactly 180 days back is churned, 179 days back is active."""
    bi.materializer.ensure(["customer_value"], AS_OF)
    table = read_table(bi.engine, "SELECT customer_id, days_since_last_purchase, churn_status FROM customer_value")
    status = table.set_index("customer_id")["churn_status"]
    days = table.set_index("customer_id")["days_since_last_purchase"]
    assert (days == 180).any() and (days == 179).any()
    assert (status[days == 180] == "Churned").all() and (status[days == 179] == "Active").all()
    assert ((days >= 180) == (status == "Churned")).all()


def test_avg_historical_clv_by_region(bi: ChatBI, raw_con: duckdb.DuckDBPyConnection) -> None:
    answer = run(bi, {"metrics": ["avg_historical_clv", "valued_customers"], "dimensions": ["region"]})
    assert answer.status == "ok", answer.message
    want = {region: (avg, n) for region, avg, n in raw_con.execute("""
        WITH life AS (
          SELECT customer_id, SUM(amount) AS revenue FROM orders
          WHERE status = 'completed' AND order_date <= DATE '2025-12-31' GROUP BY customer_id)
        SELECT c.region, AVG(life.revenue)::DOUBLE, COUNT(*) FROM life JOIN customers c USING (customer_id)
        GROUP BY 1""").fetchall()}
    got = {region: (avg, n) for region, avg, n in answer.rows}
    assert set(got) == set(want) and len(got) == 7
    for region, (avg, n) in got.items():
        assert n == want[region][1]
        assert avg == pytest.approx(want[region][0], abs=1e-4)


# --- the CLV builder -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clv_built(catalog, raw_con: duckdb.DuckDBPyConnection) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(builder output, the raw SQL summary it read) on the demo warehouse."""
    seen: list[pd.DataFrame] = []

    def read(sql: str) -> pd.DataFrame:
        frame = raw_con.execute(sql).df()
        seen.append(frame)
        return frame

    params = dict(catalog.model("customer_value").source.params)
    out = build(read, AS_OF, params)
    assert len(seen) == 1
    return out.sort_values("customer_id", ignore_index=True), seen[0].sort_values("customer_id", ignore_index=True)


def test_clv_builder_output_is_sane(clv_built, catalog, completed: pd.DataFrame) -> None:
    out, _ = clv_built
    params = catalog.model("customer_value").source.params
    high, low = float(params["high_risk_below_p_alive"]), float(params["low_risk_from_p_alive"])
    assert out["customer_id"].is_unique
    assert set(out["customer_id"]) == set(completed.loc[completed["order_date"] <= pd.Timestamp(AS_OF), "customer_id"])
    p = out["p_alive"].to_numpy(np.float64)
    assert np.isfinite(p).all() and ((p >= 0) & (p <= 1)).all()
    want_band = np.where(p < high, "High", np.where(p < low, "Medium", "Low"))
    bad = np.flatnonzero(out["churn_risk"].to_numpy(object) != want_band)
    assert bad.size == 0, [(out["customer_id"].iat[i], p[i], out["churn_risk"].iat[i]) for i in bad[:5]]
    assert set(out["churn_risk"]) == {"High", "Medium", "Low"}
    assert (out["clv"] >= 0).all() and (out["expected_purchases"] >= 0).all() and (out["expected_spend"] > 0).all()
    assert np.isfinite(out["clv"]).all()


def test_one_time_buyers_are_alive(clv_built) -> None:
    out, raw = clv_built
    once = raw["repeat_days"].to_numpy() == 0
    assert once.any() and (~once).any()
    assert (out.loc[once, "p_alive"] == 1.0).all()
    assert (out.loc[~once, "p_alive"] < 1.0).any()


def test_clv_summary_sql_matches_pandas(clv_built, completed: pd.DataFrame) -> None:
    _, raw = clv_built
    want = day_summary_pandas(completed, AS_OF)
    assert raw["customer_id"].tolist() == want["customer_id"].tolist()
    for col in ("repeat_days", "span_days", "age_days", "days_since_last_purchase"):
        got, exp_ = raw[col].to_numpy(np.int64), want[col].to_numpy(np.int64)
        bad = np.flatnonzero(got != exp_)
        ids = want["customer_id"].to_numpy()[bad[:5]]
        assert bad.size == 0, f"{col}: customers {ids} got {got[bad[:5]]} want {exp_[bad[:5]]}"
    np.testing.assert_allclose(raw["historical_clv"].astype(np.float64), want["historical_clv"], rtol=0, atol=1e-6)
    got_mean = raw["repeat_mean"].astype(np.float64).to_numpy()
    want_mean = want["repeat_mean"].to_numpy(np.float64)
    assert (np.isnan(got_mean) == np.isnan(want_mean)).all()
    assert (np.isnan(want_mean) == (want["repeat_days"] == 0)).all()
    ok = ~np.isnan(want_mean)
    np.testing.assert_allclose(got_mean[ok], want_mean[ok], rtol=1e-9, atol=1e-9)


def test_clv_fit_equals_fit_on_pandas_summary(clv_built, catalog, completed: pd.DataFrame) -> None:
    out, raw = clv_built
    params = catalog.model("customer_value").source.params
    reference = clv_summary(day_summary_pandas(completed, AS_OF))
    models = fit_clv_models(reference)
    from_sql = fit_clv_models(clv_summary(raw))
    for field in ("r", "alpha", "a", "b"):
        assert getattr(from_sql.bgnbd, field) == pytest.approx(getattr(models.bgnbd, field), rel=1e-6)
    for field in ("p", "q", "gamma"):
        assert getattr(from_sql.gamma_gamma, field) == pytest.approx(getattr(models.gamma_gamma, field), rel=1e-6)
    scored = score_customers(reference, models, horizon_months=int(params["horizon_months"]),
                             discount_rate=float(params["annual_discount_rate"]), unit="week")
    assert scored["customer"].tolist() == out["customer_id"].tolist()
    # The two fits agree to the optimiser's tolerance (~1e-7 relative), the builder rounds to 6 d.p.
    np.testing.assert_allclose(out["p_alive"], scored["p_alive"], rtol=1e-5, atol=2e-6)
    np.testing.assert_allclose(out["expected_purchases"], scored["expected_purchases"], rtol=1e-5, atol=2e-6)
    np.testing.assert_allclose(out["clv"], scored["clv"], rtol=1e-5, atol=0.01)
    np.testing.assert_allclose(out["historical_clv"], reference["revenue"], atol=1e-6)


def test_materialised_customer_value_equals_builder(bi: ChatBI, clv_built) -> None:
    out, _ = clv_built
    bi.materializer.ensure(["customer_value"], AS_OF)
    table = read_table(bi.engine, "SELECT customer_id, p_alive, clv, historical_clv, churn_status, churn_risk "
                                  "FROM customer_value").sort_values("customer_id", ignore_index=True)
    assert table["customer_id"].tolist() == out["customer_id"].tolist()
    np.testing.assert_allclose(table["p_alive"], out["p_alive"], atol=2e-6)
    np.testing.assert_allclose(table["clv"], out["clv"], atol=0.02)
    np.testing.assert_allclose(table["historical_clv"], out["historical_clv"], atol=1e-6)
    assert (table["churn_status"].to_numpy(object) == out["churn_status"].to_numpy(object)).all()


# --- materialisation reuse -------------------------------------------------------------------------


@pytest.fixture
def own_engine(demo_db: Path, tmp_path: Path):
    """A separate engine (and file copy) so as-of switches do not touch the shared ChatBI."""
    copy = tmp_path / "demo.duckdb"
    shutil.copy(demo_db, copy)
    eng = DuckDBEngine(copy)
    yield eng
    eng.close()


def segment_counts(engine: DuckDBEngine) -> dict[str, int]:
    df = read_table(engine, "SELECT rfm_segment, COUNT(*) AS n FROM customer_segments GROUP BY rfm_segment")
    return dict(zip(df["rfm_segment"], df["n"].astype(int)))


def test_materialisation_is_reused_and_rebuilt_per_as_of(catalog, own_engine: DuckDBEngine,
                                                         completed: pd.DataFrame, expected_rfm: pd.DataFrame) -> None:
    mat = Materializer(catalog, own_engine)
    assert "customer_segments" not in own_engine.tables()
    assert mat.ensure(["customer_segments"], AS_OF) == ["customer_segments"]
    assert mat.ensure(["customer_segments"], AS_OF) == []
    now = segment_counts(own_engine)
    assert now == expected_rfm["rfm_segment"].value_counts().to_dict()

    # A different as-of shifts the window (2024-01-02 .. 2024-12-31) and rebuilds.
    assert mat.ensure(["customer_segments"], EARLIER) == ["customer_segments"]
    earlier_expected = rfm_pandas(completed, EARLIER)
    assert segment_counts(own_engine) == earlier_expected["rfm_segment"].value_counts().to_dict()
    assert segment_counts(own_engine) != now
    assert_rfm_equal(read_rfm(own_engine), earlier_expected)
    assert mat.ensure(["customer_segments"], EARLIER) == []

    # Back to the demo's today: rebuilt again, not served from the earlier table.
    assert mat.ensure(["customer_segments"], AS_OF) == ["customer_segments"]
    assert segment_counts(own_engine) == now

    # force rebuilds even when fresh; several models come back in sorted order.
    assert mat.ensure(["customer_segments"], AS_OF, force=True) == ["customer_segments"]
    assert mat.ensure(["customer_value", "customer_segments"], AS_OF) == ["customer_value"]
    assert mat.ensure(["customer_value", "customer_segments"], AS_OF, force=True) == [
        "customer_segments", "customer_value"]
    assert mat.ensure(["customer_value", "customer_segments"], AS_OF) == []


def test_customer_value_respects_as_of(catalog, own_engine: DuckDBEngine, raw_con: duckdb.DuckDBPyConnection) -> None:
    mat = Materializer(catalog, own_engine)
    assert mat.ensure(["customer_value"], EARLIER) == ["customer_value"]
    table = read_table(own_engine, "SELECT customer_id, historical_clv, days_since_last_purchase FROM customer_value")
    want = raw_con.execute("""
        SELECT customer_id, SUM(amount)::DOUBLE AS revenue, date_diff('day', MAX(order_date), DATE '2024-12-31') AS days
        FROM orders WHERE status = 'completed' AND order_date <= DATE '2024-12-31' GROUP BY customer_id
        ORDER BY customer_id""").df()
    table = table.sort_values("customer_id", ignore_index=True)
    assert table["customer_id"].tolist() == want["customer_id"].tolist()
    np.testing.assert_allclose(table["historical_clv"], want["revenue"], atol=1e-6)
    assert (table["days_since_last_purchase"].to_numpy() == want["days"].to_numpy()).all()


# --- snapshot metrics ------------------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "word"), [("zh", "快照"), ("en", "snapshot")])
def test_snapshot_metric_rejects_time_cut(bi: ChatBI, lang: str, word: str) -> None:
    answer = run(bi, {"metrics": ["avg_clv"], "time": {"relative": "this_year"}}, lang=lang)
    assert answer.status == "error"
    assert word in answer.message
    assert answer.rows == [] and answer.sql is None


@pytest.mark.parametrize("metric", ["avg_clv", "segment_customers", "lapsed_customers"])
def test_snapshot_metrics_reject_time_grain(bi: ChatBI, metric: str) -> None:
    answer = run(bi, {"metrics": [metric], "time": {"grain": "month"}}, lang="en")
    assert answer.status == "error"
    assert "snapshot" in answer.message


def test_snapshot_metric_without_time_is_fine(bi: ChatBI) -> None:
    answer = run(bi, {"metrics": ["avg_clv", "avg_p_alive", "valued_customers"]})
    assert answer.status == "ok", answer.message
    (avg_clv, p_alive, n), = answer.rows
    assert avg_clv > 0 and 0 < p_alive < 1 and n > 0
