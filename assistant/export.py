"""CSV and Excel exports of any result, safe to open in a spreadsheet.

CSV cells that a spreadsheet would run as a formula (starting with = + - @,
or a tab / carriage return) are neutralised with a leading ``'`` (OWASP CSV
injection). In Excel every text cell is written as a string, never a formula.
With the answer's output columns, headers are labels in the answer's language
and dimension values their display labels (East → 华东).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any, Sequence

from semantic_layer.compiler import OutputColumn

from .formatting import format_key

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: Excel number formats per metric format.
EXCEL_FORMATS = {"currency": '"¥"#,##0.00', "percent": "0.0%", "count": "#,##0", "number": "#,##0.00",
                 "date": "yyyy-mm-dd"}


def neutralise(value: Any) -> Any:
    """Text a spreadsheet would run as a formula gets a leading ``'``; numbers stay numbers.

    >>> neutralise("=HYPERLINK(\\"http://x\\")"), neutralise("-1+2"), neutralise(-3.5), neutralise("华东")
    ('\\'=HYPERLINK("http://x")', "'-1+2", -3.5, '华东')
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def table(names: Sequence[str], rows: Sequence[Sequence[Any]], columns: Sequence[OutputColumn] = (),
          lang: str = "zh") -> tuple[list[str], list[list[Any]], list[str]]:
    """Headers, rows and per-column formats for export.

    Without ``columns`` the names and raw values are kept; with them headers
    become labels and dimension values their labels in ``lang``.
    """
    by_name = {c.name: c for c in columns}
    cols = [by_name.get(n) for n in names]
    headers = [c.label.get(lang) if c else n for c, n in zip(cols, names)]
    formats = [c.format if c else "" for c in cols]
    out = []
    for row in rows:
        cells = []
        for col, value in zip(cols, row):
            if col is not None and col.kind == "dimension" and value is not None and col.value_labels:
                value = format_key(value, col, lang)
            cells.append(value)
        out.append(cells)
    return headers, out, formats


def to_csv(names: Sequence[str], rows: Sequence[Sequence[Any]], columns: Sequence[OutputColumn] = (),
           lang: str = "zh") -> bytes:
    """UTF-8 CSV with a BOM (so Excel reads Chinese correctly), formulas neutralised."""
    headers, body, _ = table(names, rows, columns, lang)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in headers])
    for row in body:
        writer.writerow(["" if v is None else neutralise(_plain(v)) for v in row])
    return buf.getvalue().encode("utf-8-sig")


def to_excel(names: Sequence[str], rows: Sequence[Sequence[Any]], columns: Sequence[OutputColumn] = (),
             lang: str = "zh", *, notes: Sequence[tuple[str, str]] = ()) -> bytes:
    """An .xlsx workbook: the result sheet (typed cells, number formats) and an optional notes sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    headers, body, formats = table(names, rows, columns, lang)
    wb = Workbook()
    ws = wb.active
    ws.title = "结果" if lang == "zh" else "Result"
    ws.append(list(headers))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in body:
        ws.append([_excel_value(v) for v in row])
    for j, fmt in enumerate(formats, start=1):
        number_format = EXCEL_FORMATS.get(fmt)
        for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
            if number_format and cell.value is not None and not isinstance(cell.value, str):
                cell.number_format = number_format
        ws.column_dimensions[ws.cell(1, j).column_letter].width = max(12, min(40, 2 * len(str(headers[j - 1])) + 4))
    ws.freeze_panes = "A2"
    if notes:
        info = wb.create_sheet("说明" if lang == "zh" else "Notes")
        for key, value in notes:
            info.append([key, value])
        info.column_dimensions["A"].width = 18
        info.column_dimensions["B"].width = 100
    for sheet in wb.worksheets:
        for line in sheet.iter_rows():
            for cell in line:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # a string, never a formula, whatever it starts with
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def answer_notes(answer: Any) -> list[tuple[str, str]]:
    """Question, narrative, definitions, time range, as-of and SQL of an answer, for the notes sheet."""
    zh = answer.lang == "zh"
    notes = [("问题" if zh else "Question", answer.question), ("解读" if zh else "Narrative", answer.narrative)]
    notes += [("口径" if zh else "Definition", line) for line in answer.clauses]
    notes += [(d["label"], f"{d['formula']}  {d.get('description', '')}".strip()) for d in answer.definitions]
    notes.append(("SQL", answer.sql or ""))
    return notes


def export_answer(answer: Any, path: str | Path, columns: Sequence[OutputColumn] = ()) -> Path:
    """Write an answer's table to ``path``: .csv or .xlsx by its suffix."""
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        data = to_excel(answer.columns, answer.rows, columns, answer.lang, notes=answer_notes(answer))
    elif path.suffix.lower() == ".csv":
        data = to_csv(answer.columns, answer.rows, columns, answer.lang)
    else:
        raise ValueError(f"unsupported export format '{path.suffix}' (use .csv or .xlsx)")
    path.write_bytes(data)
    return path


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _excel_value(value: Any) -> Any:
    if isinstance(value, str) and len(value) == 10 and value[4:5] == "-" and value[7:8] == "-":
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    return value

