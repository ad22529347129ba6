"""The cleaning settings, the other contract tables, ids, progress and the atomic swap, on small real files."""

from __future__ import annotations

import csv
import datetime as dt
import functools
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ingest.mapping import MappingFile, SourceMap, load_mapping
from ingest.pipeline import import_sources
from ingest.rules import Rules
from semantic_layer.errors import UserError

from .conftest import TODAY

CUSTOMERS = [
    ["客户编号", "姓名", "手机", "邮箱", "城市", "地区", "年龄"],
    ["C1", "张伟", "13800138000", "zw@qq.com", "上海", "华东片区", "35"],
    ["C2", "张伟", "", "", "上海市", "East", ""],  # same name + city as C1
    ["C3", "李娜", "13900139000", "ln@163.com", "北京", "华北", "150"],
    ["C4", "王芳", "", "LN@163.com", "北京", "华北", "41"],  # same email as C3
]
ORDERS = [
    ["订单编号", "客户编号", "下单时间", "实付金额"],
    ["1", "C1", "2025-01-05", "100"], ["2", "C2", "2025-02-05", "100"], ["3", "C3", "2023-06-01", "100"],
    ["4", "C4", "2025-03-05", "100"], ["5", "C3", "2025-03-06", "100"], ["6", "C1", "2025-03-07", "100"],
    ["7", "C1", "2025-03-08", "100"], ["8", "C3", "2025-03-09", "100"], ["9", "C3", "2025-03-10", "100"],
    ["10", "C1", "2025-03-11", "100"], ["11", "C1", "2025-03-12", "100"], ["12", "C1", "2025-03-13", "9000"],
    ["13", "GUEST", "2025-03-14", "100"],
]


@functools.lru_cache(maxsize=1)
def _catalog():
    from semantic_layer.loader import load_catalog

    return load_catalog()


def _import(mapping: MappingFile, db: Path, **kwargs: Any):
    return import_sources(mapping, db, catalog=_catalog(), **kwargs)


def _csv(path: Path, rows: list[list[str]]) -> str:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return str(path)


def _shop(tmp_path: Path, **rules: Any) -> tuple[MappingFile, Path]:
    customers, orders = _csv(tmp_path / "c.csv", CUSTOMERS), _csv(tmp_path / "o.csv", ORDERS)
    mapping = MappingFile(sources=[
        SourceMap(source=customers, target="customers", values={"region": {"华东片区": "East"}},
                  columns={"客户编号": "customer_id", "姓名": "customer_name", "手机": "phone", "邮箱": "email",
                           "城市": "city", "地区": "region", "年龄": "age"}),
        SourceMap(source=orders, target="orders", columns={"订单编号": "order_id", "客户编号": "customer_id",
                                                           "下单时间": "order_date", "实付金额": "amount"}),
    ], rules=Rules(**rules))
    return mapping, tmp_path / "shop.duckdb"


def _rows(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_defaults(tmp_path: Path) -> None:
    mapping, db = _shop(tmp_path)
    rep = _import(mapping, db, today=TODAY).report
    assert rep.reconciled
    assert rep.merges["by_key"] == {"email": 1, "name_city": 1}
    assert rep.count("unknown_reference", "orders", "customer_id") == 1
    assert rep.count("invalid_age", "customers", "age") == 1
    assert rep.count("extreme_amount", "orders", "amount") == 1  # 9000 > 10 × mean, flagged and kept
    assert rep.count("value_synonym", "customers", "region") == 3  # 华东片区 through the mapping's own value map
    assert _rows(db, "SELECT DISTINCT region FROM customers ORDER BY 1") == [("East",), ("North",)]
    # C2 merged into C1 and C4 into C3: their orders now point at the survivors
    assert _rows(db, "SELECT customer_id, count(*) FROM orders GROUP BY 1 ORDER BY 1") == [(1, 7), (3, 5)]
    assert _rows(db, "SELECT source_key, surviving_id, matched_by FROM _id_map WHERE id <> surviving_id "
                     "ORDER BY 1") == [("C2", 1, "name_city"), ("C4", 3, "email")]
    # a field the survivor lacks comes from its duplicate: C3's age (150, nulled) is taken from C4
    assert _rows(db, "SELECT customer_id, age FROM customers ORDER BY 1") == [(1, 35), (3, 41)]


def test_extreme_amounts_capped(tmp_path: Path) -> None:
    mapping, db = _shop(tmp_path, extreme={"action": "cap", "factor": 3})
    rep = _import(mapping, db, today=TODAY).report
    amount = next(m for m in rep.table("orders").money if m.column == "amount")
    assert rep.count("extreme_amount", "orders", "amount") == 1
    assert amount.ok and amount.adjusted > 0 and amount.raw == amount.clean + amount.quarantined + amount.adjusted
    [(capped,)] = _rows(db, "SELECT amount FROM orders WHERE order_id = 12")
    assert float(capped) < 9000
    assert _rows(db, "SELECT action, old_value FROM _import_log WHERE rule = 'extreme_amount'") == [("cap", "9000.00")]


def test_extreme_amounts_quarantined_and_strict_optional_values(tmp_path: Path) -> None:
    mapping, db = _shop(tmp_path, extreme={"action": "quarantine", "factor": 5}, invalid_optional="quarantine")
    rep = _import(mapping, db, today=TODAY).report
    assert rep.count("extreme_amount", "orders", "amount") == 1
    assert rep.count("invalid_age", "customers", "age") == 1  # C3 quarantined, so its 4 orders point at nothing
    assert rep.count("unknown_reference", "orders", "customer_id") == 5
    assert _rows(db, "SELECT action FROM _import_log") == []
    assert rep.reconciled


def test_orphans_kept_dedupe_off_and_business_start(tmp_path: Path) -> None:
    mapping, db = _shop(tmp_path, unknown_reference="keep", dedupe={"enabled": False},
                        business_start=dt.date(2024, 1, 1))
    rep = _import(mapping, db, today=TODAY).report
    assert rep.count("unknown_reference") == 0 and not rep.merges
    assert rep.count("date_before_start", "orders", "order_date") == 1
    assert _rows(db, "SELECT count(*) FROM customers") == [(4,)]
    # the guest's order keeps a customer id of its own (surrogate, after the customers')
    assert _rows(db, "SELECT source_key, id FROM _id_map WHERE source_key = 'GUEST'") == [("GUEST", 5)]


def test_dedupe_by_email_only_and_required_phone(tmp_path: Path) -> None:
    mapping, db = _shop(tmp_path, dedupe={"keys": ["email"]}, required={"customers": ["customer_id", "phone"]})
    rep = _import(mapping, db, today=TODAY).report
    assert rep.count("missing_required", "customers", "phone") == 2  # C2 and C4 have no phone
    assert rep.count("duplicate_customer") == 0  # C4, the email duplicate, was quarantined first
    assert rep.count("unknown_reference", "orders", "customer_id") == 3  # orders of C2, C4, GUEST
    assert rep.reconciled


def test_the_other_contract_tables(tmp_path: Path) -> None:
    products = _csv(tmp_path / "p.csv", [["商品编号", "商品名称", "类目", "吊牌价"], ["P1", "T恤", "服装", "99"],
                                         ["P2", "口红", "化妆品", "199"], ["P3", "?", "玩具", "10"]])
    items = _csv(tmp_path / "i.csv", [["订单号", "商品编号", "数量", "金额"], ["1", "P1", "2", "198"],
                                      ["1", "P2", "1", "199"], ["2", "P9", "1", "5"], ["2", "P1", "0", "0"]])
    orders = _csv(tmp_path / "o.csv", [["订单编号", "客户编号", "下单时间", "实付金额"], ["1", "7", "2025-01-01", "397"],
                                       ["2", "7", "2025-01-02", "5"]])
    spend = _csv(tmp_path / "s.csv", [["月份", "渠道", "费用"], ["2025-01", "搜索广告", "1000"], ["2025年2月", "社媒", "¥2,000"],
                                      ["2025-01", "SEM", "5"]])
    surveys = _csv(tmp_path / "v.csv", [["问卷编号", "客户编号", "填写日期", "推荐意愿", "满意度"],
                                        ["1", "7", "2025-01-05", "9", "5"], ["2", "7", "2025-01-06", "11", "4"]])
    mapping = MappingFile(sources=[
        SourceMap(source=products, target="products", columns={"商品编号": "product_id", "商品名称": "product_name",
                                                                "类目": "category", "吊牌价": "list_price"}),
        SourceMap(source=orders, target="orders", columns={"订单编号": "order_id", "客户编号": "customer_id",
                                                           "下单时间": "order_date", "实付金额": "amount"}),
        SourceMap(source=items, target="order_items", columns={"订单号": "order_id", "商品编号": "product_id",
                                                               "数量": "quantity", "金额": "line_amount"}),
        SourceMap(source=spend, target="marketing_spend", columns={"月份": "month", "渠道": "acquisition_channel",
                                                                   "费用": "spend"}),
        SourceMap(source=surveys, target="surveys", columns={"问卷编号": "survey_id", "客户编号": "customer_id",
                                                             "填写日期": "survey_date", "推荐意愿": "nps_score",
                                                             "满意度": "satisfaction"}),
    ])
    db = tmp_path / "all.duckdb"
    rep = _import(mapping, db, today=TODAY).report
    assert rep.reconciled
    assert _rows(db, "SELECT product_id, category FROM products ORDER BY 1") == [(1, "Apparel"), (2, "Beauty"), (3, None)]
    assert rep.count("unknown_value", "products", "category") == 1
    assert _rows(db, "SELECT order_id, line_no, product_id, quantity FROM order_items ORDER BY 1, 2") == [
        (1, 1, 1, 2), (1, 2, 2, 1)]  # line numbers generated; an unknown product and quantity 0 quarantined
    assert rep.count("unknown_reference", "order_items", "product_id") == 1
    assert rep.count("invalid_quantity", "order_items", "quantity") == 1
    assert _rows(db, "SELECT month, acquisition_channel, spend FROM marketing_spend ORDER BY 1") == [
        (dt.date(2025, 1, 1), "Search Ads", 1000), (dt.date(2025, 2, 1), "Social Media", 2000)]
    assert rep.count("duplicate_key", "marketing_spend") == 1  # SEM = Search Ads in the same month
    assert _rows(db, "SELECT survey_id, nps_score FROM surveys ORDER BY 1") == [(1, 9), (2, None)]
    assert rep.count("invalid_score", "surveys", "nps_score") == 1
    assert rep.notes and any("customers" in n["en"] for n in rep.notes)  # not imported: created empty


def test_a_failed_import_leaves_the_old_warehouse(tmp_path: Path) -> None:
    mapping, db = _shop(tmp_path)
    _import(mapping, db, today=TODAY)
    before = db.read_bytes()
    broken = mapping.model_copy(update={"sources": [mapping.sources[0].model_copy(
        update={"columns": {**mapping.sources[0].columns, "生日": "signup_date"}})]})
    with pytest.raises(UserError) as err:
        _import(broken, db, today=TODAY)
    assert err.value.code == 620 and "生日" in err.value.message_en
    assert db.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.csv", "o.csv", "shop.duckdb"]


def test_progress_and_a_repeatable_import(tmp_path: Path) -> None:
    mapping, db = _shop(tmp_path)
    seen: list[tuple[str, float]] = []
    first = _import(mapping, db, today=TODAY, progress=lambda label, f: seen.append((label, f)))
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any("reading" in label for label, _ in seen) and any("writing" in label for label, _ in seen)
    tables = "SELECT * FROM customers ORDER BY 1", "SELECT * FROM orders ORDER BY 1"
    snapshot = [_rows(db, sql) for sql in tables]
    again = _import(mapping, db, today=TODAY)
    assert [_rows(db, sql) for sql in tables] == snapshot
    assert again.report.counts() == first.report.counts()


def test_mapping_file_sources_resolve_relative_to_it(tmp_path: Path) -> None:
    from ingest.mapping import save_mapping

    mapping, _ = _shop(tmp_path)
    text = tmp_path / "m.yaml"
    relative = mapping.model_copy(update={"sources": [s.model_copy(update={"source": Path(s.source).name})
                                                      for s in mapping.sources]})
    save_mapping(relative, text)
    result = _import(load_mapping(text, _catalog()), tmp_path / "out" / "x.duckdb", base_dir=tmp_path, today=TODAY)
    assert result.report.table("orders").clean_rows == 12
