"""Mapping files: suggested from names, synonyms and values; saved; loaded back; bad ones report file:line:field."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from ingest.mapping import MappingError, load_mapping, save_mapping, to_yaml
from ingest.suggest import suggest_mapping

FIXTURES = Path(__file__).parent / "fixtures" / "invalid_mapping"

# What a person would map the dirty demo's exports to — the suggester must get all of it.
EXPECTED = {
    "app_users.csv": ("customers", {
        "user_id": "customer_id", "name": "customer_name", "gender": "gender", "age": "age", "mobile": "phone",
        "email": "email", "city": "city", "region": "region", "register_time": "signup_date",
        "source": "acquisition_channel", "member_level": "membership_tier"}),
    "crm_online_customers.csv": ("customers", {
        "客户编号": "customer_id", "姓名": "customer_name", "性别": "gender", "年龄": "age", "手机": "phone", "邮箱": "email",
        "城市": "city", "地区": "region", "注册日期": "signup_date", "获客渠道": "acquisition_channel",
        "会员等级": "membership_tier", "备注": None}),
    "orders.csv": ("orders", {
        "订单编号": "order_id", "客户编号": "customer_id", "下单时间": "order_date", "渠道": "sales_channel",
        "订单状态": "status", "实付金额": "amount", "优惠金额": "discount_amount", "成本": "cost_amount"}),
    "orders_store.xlsx": ("orders", {
        "订单号": "order_id", "会员号": "customer_id", "交易日期": "order_date", "渠道": "sales_channel", "状态": "status",
        "金额": "amount", "折扣": "discount_amount", "成本": "cost_amount"}),
    "store_members.xlsx": ("customers", {
        "会员号": "customer_id", "客户姓名": "customer_name", "性别": "gender", "年龄": "age", "手机号码": "phone",
        "电子邮箱": "email", "所在城市": "city", "区域": "region", "开卡日期": "signup_date", "来源渠道": "acquisition_channel",
        "会员级别": "membership_tier"}),
}


def test_suggestions_for_the_dirty_export(dirty_files: list[str], dirty_dir: Path) -> None:
    proposal = suggest_mapping(dirty_files, relative_to=dirty_dir)
    got = {src.source: (src.target, src.columns) for src in proposal.mapping.sources}
    assert got == EXPECTED
    sheets = {src.source: src.table for src in proposal.mapping.sources}
    assert sheets["orders_store.xlsx"] == "门店订单" and sheets["orders.csv"] is None


def test_saved_mapping_loads_back_unchanged(dirty_files: list[str], dirty_dir: Path, tmp_path: Path) -> None:
    proposal = suggest_mapping(dirty_files, relative_to=dirty_dir)
    path = save_mapping(proposal, tmp_path / "m.yaml")
    text = path.read_text(encoding="utf-8")
    assert "# synonym 0.95" in text and '"备注": null' in text  # why each column was chosen, for the editor
    assert load_mapping(path) == proposal.mapping
    assert load_mapping(path, text=to_yaml(proposal.mapping)) == proposal.mapping


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_values_decide_what_a_vague_column_is(tmp_path: Path) -> None:
    """'片区' is no known name, but 华东/华北 are regions; '渠道' in a customer file holds acquisition channels."""
    path = _write_csv(tmp_path / "members.csv", ["会员编号", "片区", "渠道", "下单日期时间"],
                      [["1", "华东", "搜索广告", "2025-01-01"], ["2", "华北", "老客推荐", "2025-01-02"],
                       ["3", "西南区", "自然流量", "2025-01-03"]])
    proposal = suggest_mapping([path])
    src = proposal.mapping.sources[0]
    assert src.target == "customers"
    assert src.columns == {"会员编号": "customer_id", "片区": "region", "渠道": "acquisition_channel",
                           "下单日期时间": None}
    assert proposal.comments[(0, "片区")].startswith("values")


def test_fuzzy_names(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "sales_2025.csv", ["订单编号", "customer no.", "下单日期时间", "实付金额(元)"],
                      [["1", "C1", "2025-01-01", "10"]])
    proposal = suggest_mapping([path])
    src = proposal.mapping.sources[0]
    assert src.target == "orders"
    assert src.columns == {"订单编号": "order_id", "customer no.": "customer_id", "下单日期时间": "order_date",
                           "实付金额(元)": "amount"}
    assert proposal.comments[(0, "下单日期时间")].startswith("fuzzy")


def test_a_required_column_not_found_is_a_todo_that_blocks_the_import(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "orders.csv", ["订单编号", "客户编号", "下单时间"], [["1", "C1", "2025-01-01"]])
    proposal = suggest_mapping([path])
    assert "amount" in proposal.comments[(0, "")]
    saved = save_mapping(proposal, tmp_path / "m.yaml")
    assert "# TODO" in saved.read_text(encoding="utf-8")
    with pytest.raises(MappingError, match="1 error"):
        load_mapping(saved)


@pytest.mark.parametrize("name", sorted(p.stem for p in FIXTURES.glob("*.yaml")))
def test_invalid_mapping_reports_file_line_and_field(name: str) -> None:
    path = FIXTURES / f"{name}.yaml"
    with pytest.raises(MappingError) as err:
        load_mapping(path)
    rendered = "".join(i.render("en").replace(f"{FIXTURES}/", "") + "\n" for i in err.value.issues)
    assert rendered == (FIXTURES / f"{name}.expected").read_text(encoding="utf-8")
    assert all(i.message_zh and i.line for i in err.value.issues)
