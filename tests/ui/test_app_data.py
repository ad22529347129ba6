"""The Data page through AppTest: warehouse, table sizes, as-of date, refresh of customer models."""

from __future__ import annotations

import pytest

DATA = "app_pages/data.py"


def test_shows_warehouse_tables_sizes_and_as_of(make_app, demo_db):
    at = make_app(page=DATA)
    assert at.metric[0].value == "2025-12-31"
    rows = at.dataframe[0].value
    sizes = dict(zip(rows["表名"], rows["行数"]))
    assert sizes["customers"] == 20_000
    assert sizes["orders"] > 100_000
    assert any(str(demo_db) in c.value.replace("\\", "") for c in at.caption)


def test_refresh_rebuilds_the_materialised_customer_models(make_app):
    at = make_app(page=DATA)
    at.button(key="refresh_models").click().run()
    assert not at.exception
    done = [s.value for s in at.success]
    assert done and "customer_segments" in done[0] and "customer_value" in done[0]
    rows = at.dataframe[0].value
    kinds = dict(zip(rows["表名"], rows["类型"]))
    assert kinds["customer_segments"] == "物化客户模型" and kinds["orders"] == "数仓表"


@pytest.mark.parametrize("role, allowed", [("business", False), ("manager", True)])
def test_refresh_is_for_admins_and_managers(make_app, role, allowed):
    at = make_app(role=role, page=DATA)
    assert at.button(key="refresh_models").disabled is (not allowed)
