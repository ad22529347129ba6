"""Names for the contract's columns and values: the catalog's synonyms plus a small curated table.

Two lookups feed the importer:

- ``column_names(catalog)``: (table, column) → names a source might use for it.
  The catalog's dimension labels and synonyms come first (地区/区域 → region,
  手机/电话 → phone); ``COLUMN_SYNONYMS`` adds what exports call things that the
  catalog has no dimension for (客户编号 → customer_id, 实付金额 → amount).
- ``value_map(catalog, column)``: a normalised spelling → the stored value
  (华东, 华东区, east china → East). ``VALUE_SYNONYMS`` adds spellings the
  catalog does not need for questions but exports use (F → Female).
"""

from __future__ import annotations

import re
import unicodedata

from semantic_layer.catalog import Catalog
from semantic_layer.schema import Dimension

from .contract import TARGETS

# (table, column) → zh and en names seen in exports. Generic id names (ID, 编号)
# resolve to the key of whichever table the source is mapped to.
# fmt: off
COLUMN_SYNONYMS: dict[tuple[str, str], tuple[str, ...]] = {
    ("customers", "customer_id"): ("客户编号", "客户ID", "客户id", "客户号", "会员编号", "会员号", "会员ID", "会员卡号",
                                   "用户ID", "用户编号", "用户id", "customer id", "customer no", "customer number",
                                   "cust id", "client id", "member id", "member no", "user id", "uid"),
    ("customers", "customer_name"): ("姓名", "客户姓名", "客户名称", "会员姓名", "用户名", "名字", "联系人", "name",
                                     "customer name", "full name", "member name", "user name", "username"),
    ("customers", "gender"): ("性别", "sex", "gender"),
    ("customers", "age"): ("年龄", "岁数", "age"),
    ("customers", "city"): ("城市", "所在城市", "城市名称", "居住城市", "city", "city name"),
    ("customers", "region"): ("地区", "区域", "大区", "所属区域", "销售大区", "region", "area", "sales region"),
    ("customers", "city_tier"): ("城市等级", "城市级别", "城市线级", "city tier", "city level", "tier"),
    ("customers", "signup_date"): ("注册日期", "注册时间", "开卡日期", "开户日期", "入会日期", "加入日期", "首次注册",
                                   "signup date", "sign up date", "register date", "register time",
                                   "registration date", "join date", "created at", "created"),
    ("customers", "acquisition_channel"): ("获客渠道", "来源渠道", "客户来源", "拉新渠道", "注册来源", "来源",
                                           "acquisition channel", "source channel", "source", "lead source",
                                           "utm source"),
    ("customers", "membership_tier"): ("会员等级", "会员级别", "等级", "会员类型", "卡类型", "membership tier",
                                       "member level", "member tier", "membership", "level", "loyalty tier"),
    ("customers", "email"): ("邮箱", "电子邮箱", "电子邮件", "邮件", "email", "e-mail", "mail", "email address"),
    ("customers", "phone"): ("手机", "手机号", "手机号码", "电话", "电话号码", "联系电话", "联系方式", "phone",
                             "mobile", "mobile phone", "cell", "telephone", "tel", "phone number"),
    ("orders", "order_id"): ("订单编号", "订单号", "订单ID", "订单id", "单号", "order id", "order no",
                             "order number", "order"),
    ("orders", "customer_id"): ("客户编号", "客户ID", "客户id", "客户号", "会员号", "会员编号", "会员ID", "用户ID",
                                "用户id", "下单人", "买家ID", "customer id", "customer no", "customer", "cust id", "member id",
                                "user id", "buyer id", "uid"),
    ("orders", "order_date"): ("下单时间", "下单日期", "订单日期", "订单时间", "交易日期", "交易时间", "成交时间",
                               "支付时间", "付款时间", "购买日期", "购买时间", "日期", "order date", "order time",
                               "date", "purchase date", "created at", "transaction date", "paid at"),
    ("orders", "sales_channel"): ("销售渠道", "渠道", "下单渠道", "购买渠道", "订单来源", "平台", "sales channel",
                                  "channel", "order channel", "platform"),
    ("orders", "status"): ("订单状态", "状态", "交易状态", "order status", "status", "state"),
    ("orders", "amount"): ("金额", "实付金额", "实付", "支付金额", "付款金额", "订单金额", "成交金额", "实收金额",
                           "销售额", "amount", "paid amount", "payment", "paid", "order amount", "total", "revenue",
                           "sales"),
    ("orders", "discount_amount"): ("优惠金额", "折扣金额", "优惠", "折扣", "discount", "discount amount"),
    ("orders", "cost_amount"): ("成本", "成本金额", "订单成本", "cost", "cost amount", "cogs"),
    ("order_items", "order_id"): ("订单编号", "订单号", "订单ID", "order id", "order no"),
    ("order_items", "line_no"): ("行号", "明细行号", "序号", "line no", "line number", "line"),
    ("order_items", "product_id"): ("商品编号", "商品ID", "商品id", "SKU", "sku id", "货号", "产品编号",
                                    "product id", "item id"),
    ("order_items", "quantity"): ("数量", "件数", "购买数量", "quantity", "qty", "units"),
    ("order_items", "line_amount"): ("行金额", "明细金额", "商品金额", "小计", "金额", "实付金额",
                                     "line amount", "amount", "subtotal"),
    ("products", "product_id"): ("商品编号", "商品ID", "商品id", "SKU", "sku id", "货号", "产品编号", "产品ID",
                                 "product id", "item id"),
    ("products", "product_name"): ("商品名称", "商品名", "产品名称", "品名", "product name", "item name", "name",
                                   "title"),
    ("products", "category"): ("品类", "类目", "商品类别", "类别", "分类", "一级类目", "category", "product category"),
    ("products", "brand"): ("品牌", "brand"),
    ("products", "list_price"): ("标价", "吊牌价", "原价", "售价", "零售价", "list price", "price", "msrp"),
    ("products", "unit_cost"): ("成本价", "单位成本", "进价", "采购价", "unit cost", "cost"),
    ("marketing_spend", "month"): ("月份", "投放月份", "month", "period"),
    ("marketing_spend", "acquisition_channel"): ("渠道", "投放渠道", "获客渠道", "channel", "acquisition channel"),
    ("marketing_spend", "spend"): ("费用", "投放费用", "花费", "营销费用", "消耗", "spend", "cost", "budget"),
    ("surveys", "survey_id"): ("问卷编号", "调研编号", "答卷编号", "survey id", "response id"),
    ("surveys", "customer_id"): ("客户编号", "客户ID", "会员号", "customer id", "member id", "user id"),
    ("surveys", "survey_date"): ("调研日期", "填写日期", "提交时间", "问卷日期", "survey date", "submitted at",
                                 "date"),
    ("surveys", "nps_score"): ("推荐意愿", "推荐得分", "NPS", "nps score", "likelihood to recommend"),
    ("surveys", "satisfaction"): ("满意度", "满意度得分", "satisfaction", "csat"),
}

#: Generic names that mean "this table's own id".
KEY_NAMES = ("id", "编号", "ID号", "序号id")

#: Value spellings exports use that the catalog does not carry (it is for questions, not files).
VALUE_SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "gender": {"Female": ("F", "女性", "女士", "woman"), "Male": ("M", "男性", "先生", "man")},
    "status": {"completed": ("已完成", "完成", "交易成功", "已支付", "已签收", "paid", "complete", "done"),
               "returned": ("已退货", "退货", "退款", "已退款", "refunded", "return"),
               "cancelled": ("已取消", "取消", "交易关闭", "canceled", "closed")},
    "sales_channel": {"Online": ("线上", "网店", "官网", "天猫", "京东"), "App": ("APP", "小程序"),
                      "Store": ("门店", "线下", "实体店")},
    "city_tier": {"Tier 1": ("1线",), "Tier 2": ("2线",), "Tier 3": ("3线",)},
}

#: Hints in a file or table name for which table it holds.
TABLE_HINTS: dict[str, tuple[str, ...]] = {
    "customers": ("customer", "client", "member", "user", "crm", "客户", "会员", "用户"),
    "orders": ("order", "transaction", "sales", "订单", "交易", "销售"),
    "order_items": ("item", "line", "detail", "明细", "商品行"),
    "products": ("product", "sku", "goods", "catalog", "商品", "产品"),
    "marketing_spend": ("marketing", "spend", "campaign", "ads", "投放", "营销", "广告"),
    "surveys": ("survey", "nps", "feedback", "调研", "问卷", "满意度"),
}
# fmt: on

_UNITS = re.compile(r"[(（\[【].*?[)）\]】]")  # "实付金额(元)" → "实付金额": units and notes in brackets
_SEPARATORS = re.compile(r"[\s_\-./:：]+")


def name_key(name: str) -> str:
    """How column names compare: half-width, lower case, no brackets, no separators.

    >>> name_key(" Order_Date (UTC) "), name_key("实付金额（元）"), name_key("ＥＭＡＩＬ")
    ('orderdate', '实付金额', 'email')
    """
    text = unicodedata.normalize("NFKC", name)
    text = _UNITS.sub("", text)
    return _SEPARATORS.sub("", text).lower()


def value_key(value: str) -> str:
    """How category values compare (the SQL twin is ``cells.VKEY``): lower case, no spaces, _ or -.

    >>> value_key(" South-West "), value_key("Tier 1")
    ('southwest', 'tier1')
    """
    return re.sub(r"[\s_\-]", "", unicodedata.normalize("NFKC", value)).lower()


def _dimension(catalog: Catalog, column: str) -> Dimension | None:
    """The catalog dimension carrying a contract column's values (conformed dimensions share them)."""
    named = [d for _, d in catalog.dimensions() if d.name == column]
    return next((d for d in named if d.values), named[0] if named else None)


def column_names(catalog: Catalog) -> dict[tuple[str, str], list[str]]:
    """(table, column) → every name a source column may carry for it, catalog first."""
    names: dict[tuple[str, str], list[str]] = {}
    for spec in TARGETS.values():
        for col in spec.columns:
            found = [col.name]
            for model, dim in catalog.dimensions():
                column = dim.expr if dim.expr and re.fullmatch(r"[a-z_]+", dim.expr) else dim.name
                if column == col.name and model == spec.name:
                    found += [dim.label.zh, dim.label.en, *dim.synonyms.all()]
            found += COLUMN_SYNONYMS.get((spec.name, col.name), ())
            names[(spec.name, col.name)] = list(dict.fromkeys(found))
    return names


def value_map(catalog: Catalog, column: str) -> dict[str, str]:
    """Normalised spelling → stored value for a category column (empty when the catalog has none)."""
    dim = _dimension(catalog, column)
    out: dict[str, str] = {}
    if dim is None:
        return out
    for v in dim.values:
        for spelling in (v.value, v.label.zh, v.label.en, *v.synonyms.all()):
            out.setdefault(value_key(spelling), v.value)
    for value, spellings in VALUE_SYNONYMS.get(column, {}).items():
        for spelling in spellings:
            out.setdefault(value_key(spelling), value)
    return out


def catalog_values(catalog: Catalog, column: str) -> list[str]:
    """The stored values of a category column, in catalog order."""
    dim = _dimension(catalog, column)
    return [v.value for v in dim.values] if dim is not None else []
