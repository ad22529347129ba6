"""A one-page HTML report of an answer: chart, narrative, suggestions, table, definitions.

Self-contained and offline: the chart is rendered by vl-convert to SVG (or PNG)
and embedded as a data: image, so nothing in it can run; every piece of text
is HTML-escaped, and a Content-Security-Policy forbids scripts and remote
loads. Deterministic: the same answer gives the same bytes (no timestamps).
"""

from __future__ import annotations

import base64
import copy
import html
from pathlib import Path
from typing import Any, Literal, Sequence

from semantic_layer.compiler import OutputColumn

from .formatting import format_key, format_value

MAX_TABLE_ROWS = 200
REPORT_WIDTH = 640
_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
_STYLE = """
body{font-family:"WenQuanYi Micro Hei","Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;
max-width:960px;margin:2em auto;padding:0 1em;color:#222;line-height:1.55}
h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.15em;border-bottom:1px solid #ddd;padding-bottom:.2em}
.meta{color:#666;font-size:.9em}table{border-collapse:collapse;font-size:.9em}
th,td{border:1px solid #ddd;padding:4px 8px}td.num{text-align:right;font-variant-numeric:tabular-nums}
th{background:#f5f5f5}.why{color:#555;font-size:.9em;margin:.2em 0}pre{background:#f7f7f7;padding:1em;
overflow-x:auto;font-size:.85em}.status{padding:.6em 1em;background:#fff4e5;border-left:4px solid #f0a020}
"""

_WORDS = {
    "zh": {"narrative": "解读", "chart": "图表", "suggestions": "策略建议", "table": "数据",
           "definitions": "口径与定义", "trigger": "触发依据", "target": "目标", "size": "规模",
           "shown": "仅显示前 {n} 行, 共 {total} 行",
           "chart_alt": "图表: {title}", "as_of": "数据截止日", "question": "问题", "none": "无"},
    "en": {"narrative": "Narrative", "chart": "Chart", "suggestions": "Suggested actions", "table": "Data",
           "definitions": "Definitions used", "trigger": "Triggered by", "target": "Target", "size": "Size",
           "shown": "Showing the first {n} of {total} rows", "chart_alt": "Chart: {title}", "as_of": "As-of date",
           "question": "Question", "none": "none"},
}


def render_chart(spec: dict[str, Any], fmt: Literal["svg", "png"] = "svg") -> tuple[str, bytes]:
    """The chart as (mime type, bytes) via vl-convert, sized for a report page."""
    import vl_convert as vlc

    spec = copy.deepcopy(spec)
    rule = spec.get("usermeta", {}).get("chatbi", {}).get("rule")
    if rule not in ("donut", "metric_card"):
        spec["width"] = REPORT_WIDTH
    if fmt == "png":
        return "image/png", vlc.vegalite_to_png(spec, scale=2)
    return "image/svg+xml", vlc.vegalite_to_svg(spec).encode("utf-8")


def render_report(answer: Any, columns: Sequence[OutputColumn] = (), *,
                  chart_format: Literal["svg", "png"] = "svg") -> str:
    """The report as one HTML string; ``columns`` (``ChatBI.output_columns``) give labels and formats."""
    lang = "zh" if answer.lang == "zh" else "en"
    w = _WORDS[lang]
    e = _escape
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        f"<title>ChatBI · {e(answer.question)}</title><style>{_STYLE}</style></head><body>",
        f'<header><h1 id="question">{e(answer.question)}</h1>',
        f'<p class="meta">ChatBI · {e(" · ".join(answer.clauses))}</p></header>',
    ]
    if answer.status != "ok":
        parts.append(f'<p class="status" id="message">[{e(answer.status)}] {e(answer.message)}</p>')
        for c in answer.candidates:
            parts.append(f"<p>· {e(c)}</p>")
    if answer.narrative:
        parts.append(f'<section id="narrative"><h2>{w["narrative"]}</h2><p>{e(answer.narrative)}</p></section>')
    if answer.chart:
        mime, data = render_chart(answer.chart, chart_format)
        title = answer.chart.get("title", {})
        text = title.get("text", "") if isinstance(title, dict) else str(title)
        src = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
        parts.append(f'<section id="chart"><h2>{w["chart"]}</h2>'
                     f'<img src="{src}" alt="{e(w["chart_alt"].format(title=text))}" style="max-width:100%"></section>')
    if answer.suggestions:
        parts.append(f'<section id="suggestions"><h2>{w["suggestions"]}</h2><ol>')
        for s in answer.suggestions:
            why = " · ".join(f"{w[k]}: {e(s[k])}" for k in ("trigger", "target", "size") if s.get(k))
            parts.append(f'<li data-rule="{e(s["id"])}"><strong>{e(s["title"])}</strong>'
                         f'<p>{e(s["action"])}</p><p class="why">{why}</p></li>')
        parts.append("</ol></section>")
    if answer.columns:
        parts.append(_table(answer, columns, lang))
    parts.append(_definitions(answer, lang))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_report(answer: Any, path: str | Path, columns: Sequence[OutputColumn] = (), *,
                 chart_format: Literal["svg", "png"] = "svg") -> Path:
    path = Path(path)
    path.write_text(render_report(answer, columns, chart_format=chart_format), encoding="utf-8")
    return path


def _table(answer: Any, columns: Sequence[OutputColumn], lang: str) -> str:
    by_name = {c.name: c for c in columns}
    cols = [by_name.get(n) for n in answer.columns]
    head = "".join(f"<th>{_escape(c.label.get(lang) if c else n)}</th>" for c, n in zip(cols, answer.columns))
    body = []
    for row in answer.rows[:MAX_TABLE_ROWS]:
        cells = []
        for col, value in zip(cols, row):
            numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
            text = _cell(value, col, lang)
            cells.append(f'<td class="num">{_escape(text)}</td>' if numeric else f"<td>{_escape(text)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    more = ""
    if len(answer.rows) > MAX_TABLE_ROWS:
        more = f"<p class=\"meta\">{_WORDS[lang]['shown'].format(n=MAX_TABLE_ROWS, total=len(answer.rows))}</p>"
    return (f'<section id="table"><h2>{_WORDS[lang]["table"]}</h2><table><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>{more}</section>")


def _cell(value: Any, col: OutputColumn | None, lang: str) -> str:
    if col is None:
        return "" if value is None else str(value)
    if col.kind == "metric":
        return format_value(value, col, lang)
    return format_key(value, col, lang) if value is not None or col.null_label else "—"


def _definitions(answer: Any, lang: str) -> str:
    w = _WORDS[lang]
    items = "".join(f"<li>{_escape(c)}</li>" for c in answer.clauses)
    defs = "".join(
        f'<dt>{_escape(d["label"])} <code>{_escape(d["metric"])}</code></dt>'
        f'<dd><code>{_escape(d["formula"])}</code>{_description(d)}</dd>' for d in answer.definitions)
    sql = f"<details><summary>SQL</summary><pre>{_escape(answer.sql)}</pre></details>" if answer.sql else ""
    return f'<section id="definitions"><h2>{w["definitions"]}</h2><ul>{items}</ul><dl>{defs}</dl>{sql}</section>'


def _description(definition: dict[str, Any]) -> str:
    text = definition.get("description")
    return f"<br>{_escape(text)}" if text else ""


def _escape(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)
