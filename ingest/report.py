"""The data-quality report of one import: a Python object, JSON, and a standalone HTML page.

What it holds: per table, raw / clean / quarantined row counts and money sums
that must reconcile (clean + quarantined = raw, plus any capped or nulled amount);
per rule, table and column, how many values or rows the rule touched and a few
examples; columns flagged for missing too often; customer merges. The pipeline
stores the JSON in the warehouse (``_import_report``), so the Data page can show
the last import's report with ``load_report(db)``.
"""

from __future__ import annotations

import html
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .rules import RULE_BY_CODE


@dataclass(frozen=True)
class Example:
    source: str
    row: int | None
    column: str | None
    before: str | None
    after: str | None


@dataclass(frozen=True)
class RuleCount:
    """How often one rule fired on one column of one table, and what it did."""

    code: str
    stage: str
    table: str
    column: str | None
    action: str  # fix | quarantine | nullify | flag | cap | merge
    count: int
    title_zh: str
    title_en: str
    examples: tuple[Example, ...] = ()


@dataclass(frozen=True)
class MoneyTotals:
    """One money column: raw = clean + quarantined + adjusted (capped or nulled) when ``ok``."""

    column: str
    raw: float
    clean: float
    quarantined: float
    adjusted: float
    ok: bool


@dataclass(frozen=True)
class TableTotals:
    table: str
    raw_rows: int
    clean_rows: int
    quarantined_rows: int
    ok: bool
    money: tuple[MoneyTotals, ...] = ()


@dataclass(frozen=True)
class Flag:
    """A column missing in more rows than the threshold (no row is changed)."""

    code: str
    table: str
    column: str
    missing: int
    rows: int
    rate: float
    threshold: float


@dataclass(frozen=True)
class SourceInfo:
    label: str
    target: str
    rows: int
    columns: dict[str, str]  # target column → source column


@dataclass
class QualityReport:
    """Everything the import did, with numbers that add up."""

    target: str
    started_at: str
    seconds: float
    sources: list[SourceInfo] = field(default_factory=list)
    tables: list[TableTotals] = field(default_factory=list)
    rules: list[RuleCount] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    merges: dict[str, Any] = field(default_factory=dict)
    notes: list[dict[str, str]] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)

    # --- questions the UI and the tests ask --------------------------------------------

    def count(self, code: str, table: str | None = None, column: str | None = None) -> int:
        """How often ``code`` fired (optionally on one table and column)."""
        return sum(r.count for r in self.rules
                   if r.code == code and table in (None, r.table) and column in (None, r.column))

    def counts(self) -> dict[str, int]:
        """Rule code → total count, for every rule that fired."""
        out: dict[str, int] = {}
        for r in self.rules:
            out[r.code] = out.get(r.code, 0) + r.count
        return out

    def table(self, name: str) -> TableTotals | None:
        return next((t for t in self.tables if t.table == name), None)

    @property
    def reconciled(self) -> bool:
        return all(t.ok and all(m.ok for m in t.money) for t in self.tables)

    def rows(self, lang: str = "zh") -> list[dict[str, Any]]:
        """The rule table as plain rows (st.dataframe-ready)."""
        zh = lang == "zh"
        return [{("规则" if zh else "rule"): r.code, ("说明" if zh else "what"): r.title_zh if zh else r.title_en,
                 ("表" if zh else "table"): r.table, ("列" if zh else "column"): r.column or "",
                 ("处理" if zh else "action"): _ACTIONS[r.action][0 if zh else 1], ("数量" if zh else "count"): r.count}
                for r in self.rules]

    # --- serialisation ------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["reconciled"] = self.reconciled
        data["counts"] = self.counts()
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2, default=str)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QualityReport:
        return cls(
            target=data["target"], started_at=data["started_at"], seconds=data["seconds"],
            sources=[SourceInfo(**s) for s in data.get("sources", [])],
            tables=[TableTotals(**{**t, "money": tuple(MoneyTotals(**m) for m in t.get("money", []))})
                    for t in data.get("tables", [])],
            rules=[RuleCount(**{**r, "examples": tuple(Example(**e) for e in r.get("examples", []))})
                   for r in data.get("rules", [])],
            flags=[Flag(**f) for f in data.get("flags", [])],
            merges=data.get("merges", {}), notes=data.get("notes", []), settings=data.get("settings", {}),
        )

    def write(self, html_path: str | Path) -> tuple[Path, Path]:
        """Write ``X.html`` and ``X.json`` side by side; return both paths."""
        from semantic_layer.store import write_atomic

        page = Path(html_path)
        data = page.with_suffix(".json")
        page.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(page, self.to_html())
        write_atomic(data, self.to_json() + "\n")
        for path in (page, data):
            path.chmod(0o644)  # a report to share, not the 0600 of a temp file
        return page, data

    def to_html(self) -> str:
        return render_html(self)


_ACTIONS = {"fix": ("已修正", "fixed"), "quarantine": ("隔离", "quarantined"), "nullify": ("置空", "set to NULL"),
            "flag": ("标记", "flagged"), "cap": ("封顶", "capped"), "merge": ("合并", "merged")}


def load_report(db_path: str | Path) -> QualityReport | None:
    """The report stored by the last import into ``db_path`` (None for a warehouse not built by an import)."""
    import duckdb

    con = duckdb.connect(str(db_path), read_only=True)
    try:
        exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = '_import_report'").fetchone()
        if not exists or not exists[0]:
            return None
        row = con.execute("SELECT report FROM _import_report ORDER BY imported_at DESC LIMIT 1").fetchone()
    finally:
        con.close()
    return QualityReport.from_dict(json.loads(row[0])) if row else None


# --- HTML ---------------------------------------------------------------------------------

_CSS = """
body{font-family:-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei","WenQuanYi Micro Hei",sans-serif;
margin:2rem auto;max-width:1100px;color:#1f2937;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #e5e7eb;padding-bottom:.3rem}
table{border-collapse:collapse;width:100%;font-size:.9rem;margin:.5rem 0}
th,td{border:1px solid #e5e7eb;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f9fafb}td.n{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#047857;font-weight:600}.bad{color:#b91c1c;font-weight:600}.muted{color:#6b7280}
code{background:#f3f4f6;padding:0 .2rem;border-radius:3px}details{margin:.2rem 0}
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _n(value: float) -> str:
    return f"{value:,.2f}" if isinstance(value, float) else f"{value:,}"


def _mark(ok: bool) -> str:
    return '<span class="ok">✓</span>' if ok else '<span class="bad">✗</span>'


def render_html(report: QualityReport) -> str:
    """A self-contained page (no scripts, no external resources); every value is escaped."""
    status = "对账通过 / reconciled" if report.reconciled else "对账不平 / NOT reconciled"
    out = [(f"<!doctype html><html lang='zh'><head><meta charset='utf-8'><title>数据质量报告 / Data quality report"
            f"</title><style>{_CSS}</style></head><body>"),
           "<h1>数据质量报告 / Data quality report</h1>",
           (f"<p class='muted'>{_e(report.target)} · {_e(report.started_at)} · {report.seconds:.1f}s · "
            f"{status} {_mark(report.reconciled)}</p>")]
    out.append("<h2>对账 / Reconciliation (clean + quarantined = raw)</h2><table><tr><th>表 / table</th>"
               "<th>原始行 / raw</th><th>清洗后 / clean</th><th>隔离 / quarantined</th><th></th></tr>")
    for t in report.tables:
        out.append(f"<tr><td>{_e(t.table)}</td><td class=n>{_n(t.raw_rows)}</td><td class=n>{_n(t.clean_rows)}</td>"
                   f"<td class=n>{_n(t.quarantined_rows)}</td><td>{_mark(t.ok)}</td></tr>")
        for m in t.money:
            out.append(f"<tr class='muted'><td>&nbsp;&nbsp;Σ {_e(t.table)}.{_e(m.column)}</td><td class=n>{_n(m.raw)}</td>"
                       f"<td class=n>{_n(m.clean)}</td><td class=n>{_n(m.quarantined)}"
                       + (f" + {_n(m.adjusted)} 调整/adjusted" if m.adjusted else "") + f"</td><td>{_mark(m.ok)}</td></tr>")
    out.append("</table>")
    out.append("<h2>数据源 / Sources</h2><table><tr><th>源 / source</th><th>目标表 / target</th><th>行 / rows</th>"
               "<th>列映射 / columns</th></tr>")
    for s in report.sources:
        cols = ", ".join(f"{_e(src)} → {_e(dst)}" for dst, src in s.columns.items())
        out.append(f"<tr><td>{_e(s.label)}</td><td>{_e(s.target)}</td><td class=n>{_n(s.rows)}</td><td>{cols}</td></tr>")
    out.append("</table>")
    out.append("<h2>清洗规则 / Cleaning rules</h2><table><tr><th>代码 / code</th><th>说明 / what</th><th>表.列 / column</th>"
               "<th>处理 / action</th><th>数量 / count</th><th>示例 / examples</th></tr>")
    for r in report.rules:
        examples = "".join(
            f"<div><code>{_e(x.source)}:{_e(x.row)}</code> {_e(x.before)} → {_e(x.after) if x.after is not None else '∅'}"
            "</div>" for x in r.examples)
        where = f"{r.table}.{r.column}" if r.column else r.table
        action = _ACTIONS.get(r.action, (r.action, r.action))
        out.append(f"<tr><td><code>{_e(r.code)}</code></td><td>{_e(r.title_zh)}<br><span class='muted'>{_e(r.title_en)}"
                   f"</span></td><td>{_e(where)}</td><td>{_e(action[0])} / {_e(action[1])}</td>"
                   f"<td class=n>{_n(r.count)}</td><td>{examples}</td></tr>")
    out.append("</table>")
    if report.flags:
        out.append("<h2>缺失率超阈值 / Columns missing too often</h2><table><tr><th>表.列 / column</th><th>缺失 / missing"
                   "</th><th>比例 / rate</th><th>阈值 / threshold</th></tr>")
        for f in report.flags:
            out.append(f"<tr><td>{_e(f.table)}.{_e(f.column)}</td><td class=n>{_n(f.missing)} / {_n(f.rows)}</td>"
                       f"<td class=n>{f.rate:.1%}</td><td class=n>{f.threshold:.0%}</td></tr>")
        out.append("</table>")
    if report.merges:
        merges = report.merges
        by = ", ".join(f"{_e(k)} {_n(v)}" for k, v in merges.get("by_key", {}).items())
        groups = _n(merges.get("groups", 0))
        out.append(f"<h2>客户合并 / Customer merges</h2><p>{_n(merges.get('merged', 0))} 条客户记录并入 "
                   f"{groups} 位客户 / customer rows merged into {groups} customers "
                   f"({by}); {_n(merges.get('orders_repointed', 0))} 笔订单改指向保留的客户 / orders re-pointed. "
                   "旧编号 → 新编号见 <code>_id_map</code> / old id → surviving id in <code>_id_map</code>.</p>")
    if report.notes:
        out.append("<h2>说明 / Notes</h2><ul>" + "".join(f"<li>{_e(n.get('zh'))}<br><span class='muted'>{_e(n.get('en'))}"
                                                         "</span></li>" for n in report.notes) + "</ul>")
    out.append("<h2>规则参数 / Settings</h2><pre>" + _e(json.dumps(report.settings, ensure_ascii=False, indent=2))
               + "</pre>")
    out.append("<p class='muted'>被隔离的行及原始数据见表 <code>_quarantine</code>, 置空、封顶和标记见 <code>_import_log"
               "</code> / Quarantined rows with their raw data are in <code>_quarantine</code>; nulled, capped and "
               "flagged values in <code>_import_log</code>.</p></body></html>")
    return "\n".join(out)


def rule_title(code: str, column: str | None, lang: str) -> str:
    return RULE_BY_CODE[code].text(lang, column)
