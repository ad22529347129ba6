"""Row grants and PII masking in the compiler, checked against hand-written SQL on the demo warehouse."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest

from assistant.service import ChatBI
from semantic_layer.compiler import compile_query
from semantic_layer.errors import CatalogError, UserError
from semantic_layer.loader import load_catalog
from semantic_layer.masking import mask_value
from semantic_layer.policy import AccessPolicy, Principal, resolve_access
from semantic_layer.query import SemanticQuery

AS_OF = dt.date(2025, 12, 31)
WANG = Principal("wang", "manager", attributes={"regions": ("East",)})
LI = Principal("li", "manager", attributes={"regions": ("North", "Northeast")})
ANALYST = Principal("analyst", "business", attributes={"regions": ("*",)})
ZHAO = Principal("zhao", "business")  # no regions: every rule grants nothing


@pytest.fixture(scope="module")
def bi(demo_db: Path) -> ChatBI:
    return ChatBI(demo_db, llm=False, audit=False)


def run(bi: ChatBI, user: Principal, **query) -> list[list]:
    answer = bi.run(SemanticQuery.model_validate(query), access=bi.access_for(user))
    assert answer.status == "ok", answer.message
    return answer.rows


def test_resolve_access_grants_and_default_deny(catalog) -> None:
    wang = resolve_access(catalog.policy, WANG)
    assert not wang.see_pii and not wang.is_admin and wang.restricted
    assert wang.model_grants("orders")[0].values == ("East",)
    assert wang.model_grants("marketing_spend") == ()  # protected, no rule for managers: nothing
    assert wang.model_grants("products") is None  # not protected
    assert resolve_access(catalog.policy, ANALYST).model_grants("orders") is None  # "*" grants every row
    assert resolve_access(catalog.policy, ANALYST).model_grants("marketing_spend") is None
    assert resolve_access(catalog.policy, ZHAO).model_grants("customers") == ()
    admin = resolve_access(catalog.policy, Principal("admin", "admin"))
    assert admin.see_pii and admin.is_admin and not admin.restricted
    ghost = resolve_access(catalog.policy, Principal("x", "intern"))  # a role the policy does not know
    assert not ghost.see_pii and all(g == () for g in ghost.grants.values())


@pytest.mark.parametrize("user,regions", [(WANG, ["East"]), (LI, ["North", "Northeast"])])
def test_revenue_by_category_equals_hand_sql_for_the_users_regions(bi, raw_con, user, regions) -> None:
    rows = run(bi, user, metrics=["revenue"], dimensions=["category"])
    placeholders = ", ".join("?" for _ in regions)
    hand = raw_con.execute(f"""
        SELECT p.category, CAST(ROUND(SUM(i.line_amount), 2) AS DOUBLE) FROM order_items i
        JOIN orders o USING (order_id) JOIN customers c USING (customer_id) JOIN products p USING (product_id)
        WHERE o.status = 'completed' AND c.region IN ({placeholders}) GROUP BY 1""", regions).fetchall()
    assert {r[0]: round(r[1], 2) for r in rows} == dict(hand)


def test_region_breakdown_shows_only_granted_regions_and_says_so(bi) -> None:
    answer = bi.run(SemanticQuery(metrics=["revenue", "buyers"], dimensions=["region"]), access=bi.access_for(LI))
    assert {r[0] for r in answer.rows} == {"North", "Northeast"}
    assert any("Row-level access" in c and "North" in c for c in bi.run(
        SemanticQuery(metrics=["revenue"], dimensions=["region"]), lang="en", access=bi.access_for(LI)).clauses)


def test_customer_level_models_and_cohorts_are_filtered(bi, raw_con) -> None:
    east = {r[0] for r in raw_con.execute("SELECT customer_id FROM customers WHERE region = 'East'").fetchall()}
    listed = run(bi, WANG, analysis="churn_risk", limit=200)
    assert listed and {r[0] for r in listed} <= east
    segments = run(bi, WANG, metrics=["segment_customers"], dimensions=["rfm_segment"])
    everyone = run(bi, ANALYST, metrics=["segment_customers"], dimensions=["rfm_segment"])
    assert 0 < sum(r[1] for r in segments) < sum(r[1] for r in everyone)
    cohort = run(bi, WANG, analysis="cohort", time={"start": "2025-01-01", "end": "2025-03-31"})
    sizes = dict(raw_con.execute("""
        WITH f AS (SELECT customer_id, MIN(order_date) d FROM orders WHERE status = 'completed' GROUP BY 1)
        SELECT CAST(date_trunc('month', d) AS DATE), COUNT(*) FROM f JOIN customers USING (customer_id)
        WHERE region = 'East' AND d BETWEEN '2025-01-01' AND '2025-03-31' GROUP BY 1""").fetchall())
    assert {dt.date.fromisoformat(r[0]): r[2] for r in cohort if r[1] == 0} == sizes


def test_default_deny_returns_nothing_with_a_note(bi) -> None:
    answer = bi.run(SemanticQuery(metrics=["revenue"], dimensions=["region"]), access=bi.access_for(ZHAO))
    assert answer.status == "ok" and answer.rows == []
    assert any("未获授权查看" in c for c in answer.clauses)
    cac = bi.run(SemanticQuery(metrics=["cac"], dimensions=["acquisition_channel"]), access=bi.access_for(WANG))
    assert cac.rows and all(r[1] is None for r in cac.rows)  # spend is denied to managers: no CAC, not a wrong one


def test_follow_up_cannot_widen_the_grant(bi) -> None:
    from assistant.session import Session

    session = Session("rls")
    first = bi.ask("2025年各地区的销售额", session=session, user=WANG)
    assert [r[0] for r in first.rows] == ["East"]
    widened = bi.ask("只看华北", session=session, user=WANG)
    assert widened.status == "refused" and widened.error_code == 322 and not widened.rows
    assert "华东" in widened.message


@pytest.mark.parametrize("filters", [
    [{"field": "region", "values": ["North"]}],
    [{"field": "customers.region", "op": "in", "values": ["East", "South"]}],
])
def test_a_filter_outside_the_grant_is_refused_not_emptied(catalog, filters) -> None:
    access = resolve_access(catalog.policy, WANG)
    with pytest.raises(UserError) as err:
        compile_query(SemanticQuery(metrics=["revenue"], filters=filters), catalog, as_of=AS_OF, access=access)
    assert err.value.code == 322 and "East" in err.value.message_en and "华东" in err.value.message_zh


def test_pii_is_masked_for_non_admins_and_visible_to_admins(bi, raw_con) -> None:
    query = dict(metrics=["customer_count"], dimensions=["customer_id", "customer_name", "phone", "email"],
                 order_by=[{"field": "customer_id"}], limit=20)
    masked = run(bi, ANALYST, **query)
    plain = run(bi, Principal("admin", "admin"), **query)
    truth = {r[0]: r[1:] for r in raw_con.execute("SELECT customer_id, customer_name, phone, email FROM customers").fetchall()}
    for row in plain:
        assert tuple(row[1:4]) == truth[row[0]]
    for row in masked:
        name, phone, email = truth[row[0]]
        assert row[1:4] == [mask_value("name", name), mask_value("phone", phone), mask_value("email", email)]
        assert re.fullmatch(r".\*+", row[1]) and re.fullmatch(r"\d{3}\*{4}\d{4}", row[2]) and "***@" in row[3]


def test_pii_filters_and_pii_metrics_are_refused_for_non_admins(catalog, tmp_path: Path) -> None:
    access = resolve_access(catalog.policy, ANALYST)
    with pytest.raises(UserError) as err:
        compile_query(SemanticQuery(metrics=["customer_count"], filters=[{"field": "phone", "values": ["13800000000"]}]),
                      catalog, as_of=AS_OF, access=access)
    assert err.value.code == 321
    root = tmp_path / "catalog"
    shutil.copytree(catalog.root, root)
    with (root / "metrics" / "customers.yaml").open("a", encoding="utf-8") as f:
        f.write("""  - name: reachable_phones
    type: simple
    label: {zh: 可联系手机号数, en: Reachable phones}
    description: {zh: 有手机号的客户数, en: Customers with a phone number}
    model: customers
    agg: count_distinct
    expr: phone
  - name: phone_share
    type: ratio
    label: {zh: 手机号覆盖率, en: Phone coverage}
    description: {zh: 有手机号的客户占比, en: Share of customers with a phone}
    numerator: reachable_phones
    denominator: customer_count
""")
    edited = load_catalog(root)
    from semantic_layer.access import pii_dimensions, pii_metrics

    assert {"reachable_phones", "phone_share"} <= pii_metrics(edited)  # tags propagate through inputs
    assert "revenue" not in pii_metrics(edited) and "customers.phone" in pii_dimensions(edited)
    with pytest.raises(UserError) as err:
        compile_query(SemanticQuery(metrics=["phone_share"]), edited, as_of=AS_OF,
                      access=resolve_access(edited.policy, ANALYST))
    assert err.value.code == 320
    compile_query(SemanticQuery(metrics=["phone_share"]), edited, as_of=AS_OF,
                  access=resolve_access(edited.policy, Principal("admin", "admin")))


def test_access_yaml_errors_name_file_line_and_field(tmp_path: Path, catalog) -> None:
    root = tmp_path / "catalog"
    shutil.copytree(catalog.root, root)
    text = (root / "access.yaml").read_text(encoding="utf-8")
    text = text.replace("roles: [manager, business]\n    models: [orders", "roles: [manager, bussiness]\n    models: [orderz")
    text = text.replace("dimension: customers.region", "dimension: customers.regoin")
    (root / "access.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(CatalogError) as err:
        load_catalog(root)
    rendered = str(err.value)
    assert "access.yaml" in rendered and "bussiness" in rendered and "did you mean business" in rendered
    assert "orderz" in rendered and "regoin" in rendered and "row_rules[0].roles" in rendered
    assert all(i.line for i in err.value.issues)


def test_row_rule_must_pick_one_kind() -> None:
    with pytest.raises(ValueError, match="either all_rows"):
        AccessPolicy.model_validate({"row_rules": [{"name": "r", "label": {"zh": "r", "en": "r"}, "roles": ["manager"],
                                                    "models": ["orders"], "all_rows": True,
                                                    "dimension": "region", "user_attribute": "regions"}]})


def test_without_access_yaml_nothing_is_protected(tmp_path: Path, catalog) -> None:
    root = tmp_path / "catalog"
    shutil.copytree(catalog.root, root)
    (root / "access.yaml").unlink()
    open_catalog = load_catalog(root)
    access = resolve_access(open_catalog.policy, WANG)
    assert access.grants == {} and not access.see_pii  # rows open, PII still masked for non-admins
