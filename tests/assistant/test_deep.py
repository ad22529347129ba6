"""The deeper analyses behind chat (issue #11 item 7): routing, answers vs the modules, row rules, audit."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from assistant.audit import AuditLog
from assistant.planner import Planner
from assistant.service import ChatBI
from assistant.session import Session
from metrics.basket import BasketSpec, basket_rules, category_labels_from
from metrics.features import customer_features
from metrics.governed_reader import governed_reader
from metrics.profiles import rfm_profile
from metrics.survival import survival_curves
from semantic_layer.policy import Principal

AS_OF = dt.date(2025, 12, 31)
WANG = Principal("wang", "manager", attributes={"regions": ("East",)})


@pytest.mark.parametrize(("question", "expected"), [
    ("重要价值客户有什么特征", {"analysis": "profile", "filters": [{"field": "rfm_segment", "values": ["Important Value"]}]}),
    ("what do Gold members look like", {"analysis": "profile", "filters": [{"field": "membership_tier", "values": ["Gold"]}]}),
    ("分群 VIP挽回 的画像", {"analysis": "profile", "params": {"segment": "VIP挽回"}}),
    ("客户分群画像", {"analysis": "clusters"}),
    ("cluster our customers", {"analysis": "clusters"}),
    ("哪些商品经常一起买", {"analysis": "basket", "params": {"level": "product"}}),
    ("which categories are bought together by the same customer", {"analysis": "basket", "params": {"unit": "customer"}}),
    ("今年的关联规则", {"analysis": "basket", "time": {"relative": "this_year"}}),
    ("time to second purchase by region", {"analysis": "survival", "dimensions": ["region"],
                                           "params": {"event": "second_purchase"}}),
    ("按首购年份的生存曲线", {"analysis": "survival", "params": {"group_by": "cohort_year"}}),
    ("哪些客户可能流失", {"analysis": "churn_prediction"}),
    ("把这些客户存为分群 VIP挽回", {"analysis": "save_segment", "params": {"name": "VIP挽回"}}),
    ("how has segment VIP-winback moved since 2025-10-01",
     {"analysis": "track_segment", "params": {"segment": "VIP-winback", "since": "2025-10-01"}}),
    ("revenue by rfm segment and region", {"metrics": ["revenue"], "dimensions": ["rfm_segment", "region"]}),
], ids=lambda v: v if isinstance(v, str) else "")
def test_planner_routes_deep_analyses(catalog, question: str, expected: dict) -> None:
    plan = Planner(catalog).plan(question, as_of=AS_OF)
    assert plan.status == "ok" and plan.query is not None
    got = plan.query.model_dump(mode="json", exclude_defaults=True)
    got["filters"] = [{k: v for k, v in f.items() if k != "op"} for f in got.get("filters", [])]
    assert {k: got.get(k) for k in expected} == expected


@pytest.fixture(scope="module")
def bi(demo_db: Path) -> ChatBI:
    return ChatBI(demo_db, llm=False, audit=False)


def test_profile_answer_matches_the_module(bi: ChatBI) -> None:
    answer = bi.ask("重要价值客户有什么特征", lang="zh")
    assert answer.status == "ok", answer.message
    bi.ensure_models(["customer_segments"])
    feats = customer_features(bi.engine, bi._schemas[True], bi.as_of, catalog=bi.catalog)
    prof = rfm_profile(feats, "Important Value", catalog=bi.catalog)
    assert [r[4] for r in answer.rows] == pytest.approx([f.lift for f in prof.findings], abs=1e-6)
    assert answer.chart["usermeta"]["chatbi"]["rule"] == "lift_bars"
    assert f"{prof.size:,}" in answer.narrative and answer.suggestions  # playbook: 重要价值客户
    assert answer.definitions[0]["metric"] == "profile"


def test_basket_answer_matches_the_module(bi: ChatBI) -> None:
    answer = bi.ask("哪些品类经常被同时购买", lang="zh")
    assert answer.status == "ok", answer.message
    read = governed_reader(bi.engine, bi.schema)
    direct = basket_rules(read, BasketSpec(min_support=0.01, top_rules=200),
                          category_labels=category_labels_from(bi.catalog))
    assert [r[5] for r in answer.rows] == pytest.approx(list(direct.rules["lift"].head(20)), abs=1e-6)
    assert answer.chart["usermeta"]["chatbi"]["rule"] == "basket_lift"
    assert answer.sql and "order_items" in answer.sql


def test_survival_answer_matches_the_module(bi: ChatBI) -> None:
    answer = bi.ask("time to second purchase by region", lang="en")
    assert answer.status == "ok", answer.message
    direct = survival_curves(governed_reader(bi.engine, bi.schema), bi.as_of, event="second_purchase",
                             group_by="region")
    assert sorted(r[1] for r in answer.rows) == sorted(direct.summary["customers"])
    assert sum(r[2] for r in answer.rows) == direct.summary["events"].sum()
    assert answer.chart["usermeta"]["chatbi"]["rule"] == "survival_band"
    assert "Log-rank" in answer.narrative and "East" in answer.narrative


def test_clusters_answer(bi: ChatBI) -> None:
    answer = bi.ask("cluster our customers", lang="en")
    assert answer.status == "ok", answer.message
    assert len(answer.rows) >= 3 and all(r[2] > 0 for r in answer.rows)
    assert answer.chart["usermeta"]["chatbi"]["rule"] == "cluster_bars"


def test_regional_manager_sees_only_their_region(bi: ChatBI) -> None:
    """Row rules reach the modules: wang (East) gets East's customers in profile, basket and survival."""
    east = bi.ask("华东客户画像", lang="zh")  # admin, filtered to East
    mine = bi.ask("金卡会员的客户画像", lang="zh", user=WANG)
    assert mine.status == "ok" and any("华东" in c for c in mine.clauses)
    # the profile's base is wang's visible customers: East only
    bi.ensure_models(["customer_segments"])
    feats = customer_features(bi.engine, bi.schema, bi.as_of, catalog=bi.catalog, access=bi.access_for(WANG))
    assert set(feats["region"]) == {"East"}
    assert east.status == "ok"

    basket_wang = bi.ask("客户层面哪些品类经常被同时购买", user=WANG)
    basket_east = bi.ask("华东客户层面哪些品类经常被同时购买")
    assert basket_wang.status == basket_east.status == "ok"
    assert basket_wang.rows == basket_east.rows  # same counts as an admin who filters to East

    surv_wang = bi.ask("按地区的客户生存曲线", lang="zh", user=WANG)
    assert surv_wang.status == "ok" and [r[0] for r in surv_wang.rows] == ["华东"]
    refused = bi.ask("华北客户画像", user=WANG)
    assert refused.status in ("refused", "clarify", "error") or refused.rows == []


def test_save_then_track_and_audit(demo_db: Path, tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "audit.sqlite")
    bi = ChatBI(demo_db, llm=False, audit=audit)
    session = Session("deep-save")
    listed = bi.ask("哪些重要挽留客户有流失风险?", session=session, user=WANG)
    assert listed.status == "ok"
    saved = bi.ask("把这些客户存为分群 东区挽回", session=session, user=WANG)
    assert saved.status == "ok", saved.message
    assert saved.rows[0][0] == "东区挽回" and saved.rows[0][1] == len(listed.rows) and saved.rows[0][2] == "wang"
    tracked = bi.ask("分群 东区挽回 自2025-10-01以来的变化", session=session, user=WANG)
    assert tracked.status == "ok", tracked.message
    assert [r[0] for r in tracked.rows][:1] and "双重差分" in tracked.narrative
    rows = audit.search(user_id="wang")
    analyses = {q.get("analysis") for q in rows["semantic_query"] if isinstance(q, dict)}
    assert {"save_segment", "track_segment"} <= analyses and set(rows["status"]) == {"ok"}


def test_save_without_a_list_asks(bi: ChatBI) -> None:
    answer = bi.ask("把这些客户存为分群 测试", session=Session("deep-empty"))
    assert answer.status == "clarify"
