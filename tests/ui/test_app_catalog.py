"""The Metric catalog page through AppTest: search, names, synonyms, formula, compiled SQL, examples."""

from __future__ import annotations

CATALOG = "app_pages/catalog.py"


def expander_labels(at) -> list[str]:
    return [e.label.replace("\\", "") for e in at.expander]  # labels are Markdown-escaped


def test_lists_every_user_facing_metric(make_app, catalog):
    at = make_app(page=CATALOG)
    labels = expander_labels(at)
    visible = [m for m in catalog.metrics.values() if "helper" not in m.tags]
    assert len(labels) == len(visible)
    assert any(label.endswith("revenue") and "销售额" in label for label in labels)


def test_search_by_chinese_synonym_shows_the_metric_with_its_sql(make_app):
    at = make_app(page=CATALOG)
    at.text_input(key="catalog_search").input("获客成本").run()
    labels = expander_labels(at)
    assert any(label.endswith("cac") for label in labels)
    assert len(labels) < 5
    texts = [t.value for t in at.text]
    assert any("CAC" in t and "获客成本" in t for t in texts), "zh and en names"
    codes = [c.value for c in at.code]
    assert any("marketing_spend / new_customers" in c for c in codes), "the formula"
    assert any(c.lstrip().startswith("WITH") or c.lstrip().startswith("SELECT") for c in codes), "compiled SQL"


def test_search_in_english_and_no_match(make_app):
    at = make_app(page=CATALOG)
    at.text_input(key="catalog_search").input("churn").run()
    assert any(label.endswith("churn_rate") for label in expander_labels(at))
    at.text_input(key="catalog_search").input("zodiac sign").run()
    assert expander_labels(at) == []
    assert "共 0 个指标" in [c.value for c in at.caption]


def test_example_question_button_asks_it_in_the_chat(make_app):
    at = make_app(page=CATALOG)
    at.text_input(key="catalog_search").input("销售额").run()
    next(b for b in at.button if b.label == "2025年各地区的销售额").click().run()
    assert not at.exception
    messages = at.session_state["chat"]["messages"]
    assert messages and messages[0]["question"] == "2025年各地区的销售额"
    assert messages[0]["answer"]["status"] == "ok"
