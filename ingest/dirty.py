"""``chatbi demo --dirty DIR``: a realistic messy export of the demo shop, with a manifest of every planted defect.

The clean demo warehouse (``warehouse.demo``, same seed) is exported the way a
retailer's systems would hand it over:

- customers from three channels — ``crm_online_customers.csv`` (Chinese headers),
  ``app_users.csv`` (English headers) and ``store_members.xlsx`` — with the same
  person registered in two or three of them (same phone, email, or name + city,
  some linked only through a third record), plus exact duplicate rows;
- orders in ``orders.csv`` (online and app) and ``orders_store.xlsx`` (store),
  some pointing at a customer's other-channel id;
- gaps, bad values (negative amounts, age 0 or 150, dates in 2052 or 1900,
  2025-02-30, unknown channels, guest ids), extreme amounts, mixed date formats,
  full-width characters, Chinese region/channel names and stray spaces.

``manifest.json`` says how many of each defect were planted per table and
column, and what the cleaned warehouse must then contain (row counts, amount
sums, 2025 revenue by region). It is computed from the generator's own
knowledge, not by re-running the cleaner, so tests can hold one against the other.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from semantic_layer.loader import load_catalog

from .noise import (
    Spellings,
    full_width,
    is_missing,
    shallow_rules,
    spell_amount,
    spell_date,
    spell_email,
    spell_name,
    spell_phone,
)
from .sources import _text

DEFAULT_CUSTOMERS = 2000
PREFIX = {"online": "ON", "app": "APP", "store": "ST"}
CHANNELS = ("online", "app", "store")
# Where a customer registered first, and how often each channel export leaves the email empty.
HOME_SHARE = (0.45, 0.35, 0.20)
EMAIL_GAP = {"online": 0.12, "app": 0.42, "store": 0.85}

MALFORMED_LINES = 2  # lines cut short at the end of orders.csv (a truncated download)
# Per 2,000 customers: how many of each defect to plant (scaled, at least one each).
# fmt: off
CUSTOMER_DEFECTS = {"dup_phone": 40, "dup_email": 24, "dup_name_city": 16, "dup_chain": 5, "missing_id": 5,
                    "bad_age": 12, "future_signup": 4, "ancient_signup": 3, "bad_email": 6, "bad_phone": 5,
                    "unknown_tier": 7, "copy_row": 4}
ORDER_DEFECTS = {"negative": 15, "missing_amount": 6, "missing_date": 5, "bad_date": 6, "bad_amount": 4,
                 "future": 8, "ancient": 5, "copy_row": 10, "guest": 7, "extreme": 8, "unknown_channel": 9}
# fmt: on

CUSTOMER_HEADERS = {
    "online": ("客户编号", "姓名", "性别", "年龄", "手机", "邮箱", "城市", "地区", "注册日期", "获客渠道", "会员等级", "备注"),
    "app": ("user_id", "name", "gender", "age", "mobile", "email", "city", "region", "register_time", "source",
            "member_level"),
    "store": ("会员号", "客户姓名", "性别", "年龄", "手机号码", "电子邮箱", "所在城市", "区域", "开卡日期", "来源渠道", "会员级别"),
}
CUSTOMER_FIELDS = ("customer_id", "customer_name", "gender", "age", "phone", "email", "city", "region", "signup_date",
                   "acquisition_channel", "membership_tier", "note")
ORDER_HEADERS = {"orders.csv": ("订单编号", "客户编号", "下单时间", "渠道", "订单状态", "实付金额", "优惠金额", "成本"),
                 "orders_store.xlsx": ("订单号", "会员号", "交易日期", "渠道", "状态", "金额", "折扣", "成本")}
ORDER_FIELDS = ("order_id", "customer_id", "order_date", "sales_channel", "status", "amount", "discount_amount",
                "cost_amount")


@dataclass
class _Sheet:
    """Rows of one output file: each cell is (value written, rules it triggers)."""

    table: str
    fields: tuple[str, ...]
    rows: list[list[tuple[Any, set[str]]]] = field(default_factory=list)


def write_dirty(folder: str | Path, *, seed: int = 7, customers: int = DEFAULT_CUSTOMERS) -> dict[str, Any]:
    """Write the messy export and ``manifest.json`` into ``folder``; return the manifest."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cust, orders = _base(seed, customers)
    gen = _Generator(np.random.default_rng([seed, 2025]), cust, orders)
    manifest = gen.run(folder)
    manifest["seed"] = seed
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return manifest


def _base(seed: int, customers: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The clean demo rows to start from: (name, city) unique so only planted duplicates merge; no natural outliers."""
    from warehouse.demo import build_demo

    with tempfile.TemporaryDirectory(prefix="chatbi-dirty-") as tmp:
        path = Path(tmp) / "base.duckdb"
        build_demo(path, scale=customers / 20_000, seed=seed)
        con = duckdb.connect(str(path), read_only=True)
        cur = con.execute("SELECT * FROM customers ORDER BY customer_id")
        names = [d[0] for d in cur.description]
        cust = [dict(zip(names, r)) for r in cur.fetchall()]
        cur = con.execute("SELECT * FROM orders ORDER BY order_id")
        names = [d[0] for d in cur.description]
        orders = [dict(zip(names, r)) for r in cur.fetchall()]
        con.close()
    seen: set[tuple[str, str]] = set()
    kept = []
    for c in cust:
        key = (c["customer_name"], c["city"])
        if key not in seen:
            seen.add(key)
            kept.append(c)
    ids = {c["customer_id"] for c in kept}
    orders = [o for o in orders if o["customer_id"] in ids]
    mean = sum(o["amount"] for o in orders) / len(orders)
    orders = [o for o in orders if o["amount"] <= 4 * mean]  # headroom: only planted amounts pass 10 × mean
    return kept, orders


def _scaled(per_2000: int, n: int) -> int:
    return max(1, round(per_2000 * n / DEFAULT_CUSTOMERS))


class _Generator:
    def __init__(self, rng: np.random.Generator, cust: list[dict[str, Any]], orders: list[dict[str, Any]]) -> None:
        self.rng = rng
        self.cust = cust
        self.orders = orders
        self.spell = Spellings(load_catalog())
        self.planted: dict[str, Counter[str]] = {"customers": Counter(), "orders": Counter()}
        self.merges: Counter[str] = Counter()

    def pick(self, pool: list[int], n: int) -> list[int]:
        """``n`` items taken out of ``pool`` at random (so defects never share a row)."""
        chosen = [pool.pop(int(self.rng.integers(len(pool)))) for _ in range(min(n, len(pool)))]
        return chosen

    # --- customers ---------------------------------------------------------------------------

    def run(self, folder: Path) -> dict[str, Any]:
        rng, n = self.rng, len(self.cust)
        home = {c["customer_id"]: CHANNELS[int(rng.choice(3, p=HOME_SHARE))] for c in self.cust}
        ids = {c["customer_id"]: f"{PREFIX[home[c['customer_id']]]}{c['customer_id']:06d}" for c in self.cust}
        buyers = {o["customer_id"] for o in self.orders}
        pool = [i for i, c in enumerate(self.cust) if c["customer_id"] in buyers]
        plan = {k: self.pick(pool, _scaled(v, n)) for k, v in CUSTOMER_DEFECTS.items() if k.startswith("dup")}
        special = {i for v in plan.values() for i in v}  # originals of duplicates keep phone and email
        pool += [i for i, c in enumerate(self.cust) if c["customer_id"] not in buyers]
        for k, v in CUSTOMER_DEFECTS.items():
            if not k.startswith("dup") and k != "missing_id":
                plan[k] = self.pick(pool, _scaled(v, n))
        no_orders = [i for i in pool if self.cust[i]["customer_id"] not in buyers]
        plan["missing_id"] = self.pick(no_orders, _scaled(CUSTOMER_DEFECTS["missing_id"], n))
        defect_of = {i: k for k, v in plan.items() if not k.startswith("dup") for i in v}

        sheets = {ch: _Sheet("customers", CUSTOMER_FIELDS) for ch in CHANNELS}
        for i, c in enumerate(self.cust):
            row = self._customer_row(c, ids[c["customer_id"]], home[c["customer_id"]], i in special, defect_of.get(i))
            sheets[home[c["customer_id"]]].rows.append(row)
            if defect_of.get(i) == "copy_row":  # the same row exported twice
                sheets[home[c["customer_id"]]].rows.append(list(row))
        moved: dict[int, str] = {}  # base customer id → a duplicate's id that some orders use
        for kind in ("dup_phone", "dup_email", "dup_name_city", "dup_chain"):
            for i in plan[kind]:
                c = self.cust[i]
                others = [ch for ch in CHANNELS if ch != home[c["customer_id"]]]
                first = others[int(rng.integers(2))]
                dup_id = f"{PREFIX[first]}{c['customer_id'] + 900_000:06d}"
                if kind == "dup_chain":  # B shares A's phone; C shares only B's email (A ~ B ~ C)
                    link = f"link{c['customer_id']}@example.com"
                    sheets[first].rows.append(self._duplicate(c, dup_id, first, "phone", email=link))
                    second = next(ch for ch in others if ch != first)
                    third_id = f"{PREFIX[second]}{c['customer_id'] + 800_000:06d}"
                    sheets[second].rows.append(self._duplicate(c, third_id, second, "email", email=link))
                    self.merges["phone"] += 1
                    self.merges["email"] += 1
                else:
                    key = kind.removeprefix("dup_")
                    sheets[first].rows.append(self._duplicate(c, dup_id, first, key))
                    self.merges[key] += 1
                moved[c["customer_id"]] = dup_id
        self.planted["customers"]["duplicate_customer"] = sum(self.merges.values())
        self._write_customers(folder, sheets)
        order_sheets, expected = self._orders(ids, moved, home)
        self._write_orders(folder, order_sheets)
        return self._manifest(sheets, order_sheets, expected, plan)

    def _customer_row(self, c: dict[str, Any], cid: str, channel: str, special: bool,
                      defect: str | None) -> list[tuple[Any, set[str]]]:
        rng, sp = self.rng, self.spell
        cells: dict[str, tuple[Any, set[str]]] = {
            "customer_id": (cid, set()),
            "customer_name": spell_name(rng, c["customer_name"]),
            "gender": sp.spell(rng, "gender", c["gender"], 0.6),
            "age": self._age(c["age"]),
            "phone": spell_phone(rng, c["phone"]),
            "email": spell_email(rng, c["email"]),
            "city": sp.spell(rng, "city", c["city"], 0.5),
            "region": sp.spell(rng, "region", c["region"], 0.6),
            "signup_date": spell_date(rng, c["signup_date"]),
            "acquisition_channel": sp.spell(rng, "acquisition_channel", c["acquisition_channel"], 0.6),
            "membership_tier": sp.spell(rng, "membership_tier", c["membership_tier"], 0.6),
            "note": ("VIP" if rng.random() < 0.05 else None, set()),
        }
        if not special and rng.random() < EMAIL_GAP[channel]:
            cells["email"] = (["", "N/A", "无", "-"][int(rng.integers(4))] or None, set())
        planted = self.planted["customers"]
        if defect == "missing_id":
            cells["customer_id"] = (None, set())
            planted["missing_required:customer_id"] += 1
        elif defect == "bad_age":
            cells["age"] = (str([0, 150, 200, -1][int(rng.integers(4))]), set())
            planted["invalid_age:age"] += 1
        elif defect == "future_signup":
            cells["signup_date"] = (c["signup_date"].replace(year=2052).isoformat(), set())
            planted["future_date:signup_date"] += 1
        elif defect == "ancient_signup":
            cells["signup_date"] = ("1900-01-01", set())
            planted["date_before_start:signup_date"] += 1
        elif defect == "bad_email":
            cells["email"] = (c["email"].replace("@", "#"), set())
            planted["invalid_email:email"] += 1
        elif defect == "bad_phone":
            cells["phone"] = (c["phone"][:5], set())
            planted["invalid_phone:phone"] += 1
        elif defect == "unknown_tier":
            cells["membership_tier"] = ("钻石会员", set())
            planted["unknown_value:membership_tier"] += 1
        elif defect == "copy_row":
            planted["duplicate_key:customer_id"] += 1
        return [cells[f] for f in CUSTOMER_FIELDS]

    def _age(self, age: int) -> tuple[Any, set[str]]:
        roll = self.rng.random()
        if roll < 0.1:
            return f"{age}岁", {"number_format"}
        if roll < 0.15:
            return full_width(str(age)), {"fullwidth"}
        if roll < 0.18:
            return "未知", set()
        return age, set()

    def _duplicate(self, c: dict[str, Any], cid: str, channel: str, key: str,
                   email: str | None = None) -> list[tuple[Any, set[str]]]:
        """The same person registered again in another channel; only ``key`` (and name + city) is shared."""
        rng, sp = self.rng, self.spell
        shown_email = email if email is not None else c["email"]
        cells = {
            "customer_id": (cid, set()),
            "customer_name": spell_name(rng, c["customer_name"]),
            "gender": sp.spell(rng, "gender", c["gender"], 0.6),
            "age": (c["age"], set()),
            "phone": spell_phone(rng, c["phone"]) if key == "phone" else (None, set()),
            "email": spell_email(rng, shown_email) if key == "email" or email is not None else (None, set()),
            "city": sp.spell(rng, "city", c["city"], 0.5),
            "region": sp.spell(rng, "region", c["region"], 0.6),
            "signup_date": spell_date(rng, c["signup_date"] + dt.timedelta(days=int(rng.integers(30, 400)))),
            "acquisition_channel": sp.spell(rng, "acquisition_channel", c["acquisition_channel"], 0.6),
            "membership_tier": (None, set()),
            "note": (None, set()),
        }
        if key == "email" and email is None:
            cells["customer_name"] = spell_name(rng, c["customer_name"])
        return [cells[f] for f in CUSTOMER_FIELDS]

    def _write_customers(self, folder: Path, sheets: dict[str, _Sheet]) -> None:
        for channel, sheet in sheets.items():
            headers = CUSTOMER_HEADERS[channel]
            rows = [[v for v, _ in r][: len(headers)] for r in sheet.rows]
            sheet.fields = CUSTOMER_FIELDS[: len(headers)]
            sheet.rows = [r[: len(headers)] for r in sheet.rows]
            if channel == "store":
                _xlsx(folder / "store_members.xlsx", "会员", headers, rows)
            else:
                _csv(folder / ("crm_online_customers.csv" if channel == "online" else "app_users.csv"), headers, rows)

    # --- orders ------------------------------------------------------------------------------

    def _orders(self, ids: dict[int, str], moved: dict[int, str],
                home: dict[int, str]) -> tuple[dict[str, _Sheet], dict[str, Any]]:
        rng, n = self.rng, len(self.cust)
        pool = list(range(len(self.orders)))
        move = set()
        by_customer: dict[int, list[int]] = {}
        for j, o in enumerate(self.orders):
            by_customer.setdefault(o["customer_id"], []).append(j)
        for cid in moved:
            mine = by_customer.get(cid, [])
            move |= set(mine[1::3])  # every third order after the first uses the other-channel id
        pool = [j for j in pool if j not in move]
        plan = {k: set(self.pick(pool, _scaled(v, n))) for k, v in ORDER_DEFECTS.items()}
        defect_of = {j: k for k, v in plan.items() for j in v}
        mean = sum(o["amount"] for o in self.orders) / len(self.orders)
        sheets = {"orders.csv": _Sheet("orders", ORDER_FIELDS), "orders_store.xlsx": _Sheet("orders", ORDER_FIELDS)}
        kept_amounts: list[Decimal] = []
        extremes: list[Decimal] = []
        raw_total = Decimal(0)
        revenue: Counter[str] = Counter()
        region = {c["customer_id"]: c["region"] for c in self.cust}
        planted = self.planted["orders"]
        repointed = 0
        for j, o in enumerate(self.orders):
            defect = defect_of.get(j)
            store = o["sales_channel"] == "Store"
            sheet = sheets["orders_store.xlsx" if store else "orders.csv"]
            ref = moved[o["customer_id"]] if j in move else ids[o["customer_id"]]
            amount = o["amount"]
            if defect == "extreme":
                amount = (mean * Decimal(int(rng.integers(40, 80)))).quantize(Decimal("0.01"))
            cells = {
                "order_id": (o["order_id"] if store else str(o["order_id"]), set()),
                "customer_id": (ref, set()),
                "order_date": (o["order_date"], set()) if store and rng.random() < 0.5 else spell_date(rng, o["order_date"]),
                "sales_channel": self.spell.spell(rng, "sales_channel", o["sales_channel"], 0.6),
                "status": self.spell.spell(rng, "status", o["status"], 0.5),
                "amount": (float(amount), set()) if store and rng.random() < 0.6 else spell_amount(rng, amount),
                "discount_amount": (f"{o['discount_amount']:.2f}", set()),
                "cost_amount": (f"{o['cost_amount']:.2f}", set()),
            }
            kept, counted = True, True
            if defect == "negative":
                cells["amount"] = (f"-{amount:.2f}", set())
                planted["negative_amount:amount"] += 1
                kept, amount = False, -amount
            elif defect == "missing_amount":
                cells["amount"] = (None, set())
                planted["missing_required:amount"] += 1
                kept, counted = False, False
            elif defect == "missing_date":
                cells["order_date"] = (None, set())
                planted["missing_required:order_date"] += 1
                kept = False
            elif defect == "bad_date":
                cells["order_date"] = (f"{o['order_date'].year}-02-30", set())
                planted["unparseable_value:order_date"] += 1
                kept = False
            elif defect == "bad_amount":
                cells["amount"] = (f"{amount:.2f}.5", set())
                planted["unparseable_value:amount"] += 1
                kept, counted = False, False
            elif defect == "future":
                cells["order_date"] = (o["order_date"].replace(year=o["order_date"].year + 28).isoformat(), set())
                planted["future_date:order_date"] += 1
                kept = False
            elif defect == "ancient":
                cells["order_date"] = ("1900-01-01", set())
                planted["date_before_start:order_date"] += 1
                kept = False
            elif defect == "guest":
                cells["customer_id"] = (f"GUEST{j:05d}", set())
                planted["unknown_reference:customer_id"] += 1
                kept = False
            elif defect == "unknown_channel":
                cells["sales_channel"] = (["抖音", "快手", "拼多多"][int(rng.integers(3))], set())
                planted["unknown_value:sales_channel"] += 1
            elif defect == "extreme":
                planted["extreme_amount:amount"] += 1
                extremes.append(amount)
            row = [cells[f] for f in ORDER_FIELDS]
            sheet.rows.append(row)
            if counted:
                raw_total += amount
            if kept:
                kept_amounts.append(amount)
                repointed += j in move
                if o["status"] == "completed" and o["order_date"].year == 2025:
                    revenue[region[o["customer_id"]]] += amount
            if defect == "copy_row":  # the export page read twice
                sheet.rows.append(list(row))
                planted["duplicate_key:order_id"] += 1
                raw_total += amount
        clean_mean = sum(kept_amounts) / len(kept_amounts)
        natural = [o["amount"] for j, o in enumerate(self.orders) if j not in plan["extreme"]]
        assert max(natural) < 10 * clean_mean < min(extremes), "planted extremes must be the only ones"
        expected = {"orders": len(kept_amounts), "amount": f"{sum(kept_amounts):.2f}", "amount_raw": f"{raw_total:.2f}",
                    "orders_repointed": repointed,
                    "revenue_2025_by_region": {k: f"{v:.2f}" for k, v in sorted(revenue.items())}}
        return sheets, expected

    def _write_orders(self, folder: Path, sheets: dict[str, _Sheet]) -> None:
        for name, sheet in sheets.items():
            rows = [[v for v, _ in r] for r in sheet.rows]
            if name.endswith(".xlsx"):
                _xlsx(folder / name, "门店订单", ORDER_HEADERS[name], rows)
            else:
                _csv(folder / name, ORDER_HEADERS[name], rows)
                with (folder / name).open("a", encoding="utf-8", newline="") as fh:
                    fh.write("".join(f"9{k:07d},ON000001,2025-06-0{k}\r\n" for k in range(1, MALFORMED_LINES + 1)))

    # --- manifest ------------------------------------------------------------------------------

    def _manifest(self, customer_sheets: dict[str, _Sheet], order_sheets: dict[str, _Sheet],
                  expected: dict[str, Any], plan: dict[str, list[int]]) -> dict[str, Any]:
        standardised: dict[str, Counter[str]] = {"customers": Counter(), "orders": Counter()}
        missing: dict[str, Counter[str]] = {"customers": Counter(), "orders": Counter()}
        rows: Counter[str] = Counter()
        files = []
        for name, sheet in [*((f"customers:{k}", v) for k, v in customer_sheets.items()), *order_sheets.items()]:
            table = sheet.table
            rows[table] += len(sheet.rows)
            files.append({"file": _FILES.get(name, name), "table": table, "rows": len(sheet.rows)})
            for row in sheet.rows:
                for fld, (value, fired) in zip(sheet.fields, row):
                    if fld == "note":
                        continue
                    text = None if value is None else _text(value)
                    for rule in fired | shallow_rules(text):
                        standardised[table][f"{rule}:{fld}"] += 1
                    missing[table][fld] += is_missing(text)
        flagged = sorted(f"{t}.{c}" for t, counts in missing.items() for c, m in counts.items() if m / rows[t] > 0.3)
        merged = sum(self.merges.values())
        self.planted["orders"]["malformed_row"] = MALFORMED_LINES
        clean_customers = len(self.cust) - len(plan["missing_id"])
        clean = {"customers": clean_customers, "orders": expected["orders"]}
        rows["orders"] += MALFORMED_LINES
        return {
            "customers": len(self.cust),
            "files": files,
            "planted": {t: dict(sorted(c.items())) for t, c in self.planted.items()},
            "standardised": {t: dict(sorted(c.items())) for t, c in standardised.items()},
            "merges": {"merged": merged, "groups": len({i for k, v in plan.items() if k.startswith("dup") for i in v}),
                       "by_key": dict(sorted(self.merges.items())), "orders_repointed": expected["orders_repointed"]},
            "flagged_missing": flagged,
            "raw_rows": dict(rows),
            "expected": {"customers": clean_customers, **{k: v for k, v in expected.items() if k != "orders_repointed"},
                         "quarantined": {t: rows[t] - clean[t] for t in clean}},
        }


_FILES = {"customers:online": "crm_online_customers.csv", "customers:app": "app_users.csv",
          "customers:store": "store_members.xlsx"}


def _csv(path: Path, headers: tuple[str, ...], rows: list[list[Any]]) -> None:
    """UTF-8 with BOM, as Excel on a Chinese Windows saves it."""
    import csv

    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(headers)
        for row in rows:
            writer.writerow(["" if v is None else (v.isoformat() if isinstance(v, dt.date) else v) for v in row])


def _xlsx(path: Path, sheet: str, headers: tuple[str, ...], rows: list[list[Any]]) -> None:
    """Dates as real date cells where they are dates, numbers as numbers: what a POS export does."""
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet(sheet)
    ws.append(list(headers))
    for row in rows:
        ws.append([dt.datetime.combine(v, dt.time()) if isinstance(v, dt.date) and not isinstance(v, dt.datetime)
                   else v for v in row])
    wb.save(path)
