"""Open a source — CSV, Excel, Parquet, a DuckDB file or a PostgreSQL table — as all-text rows in DuckDB.

Everything is staged as VARCHAR (``all_varchar``): ids keep their leading zeros,
and a bad date is a value to report, not a reader error. DuckDB reads CSV and
Parquet itself, streaming. Excel (openpyxl, read-only) and PostgreSQL
(psycopg's ``COPY … TO STDOUT``) are spooled to a CSV file first, so every
source reaches SQL through the same reader in bounded memory. CSV lines DuckDB
cannot parse are kept in a rejects table, never dropped silently.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import itertools
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import duckdb

from semantic_layer.errors import UserError

from .cells import ident, sql_str

Kind = Literal["csv", "excel", "parquet", "duckdb", "postgres"]

_EXTENSIONS: dict[str, Kind] = {
    ".csv": "csv", ".tsv": "csv", ".txt": "csv", ".xlsx": "excel", ".xlsm": "excel",
    ".parquet": "parquet", ".pq": "parquet", ".duckdb": "duckdb", ".db": "duckdb",
}


@dataclass(frozen=True)
class SourceRef:
    """One table of one source: a file (with a sheet for Excel) or a database table."""

    location: str  # a path, or a postgresql:// URL
    table: str | None = None  # Excel sheet, or database table ("schema.table" or "table")

    @property
    def kind(self) -> Kind:
        return kind_of(self.location)

    @property
    def label(self) -> str:
        """What reports and the quarantine call it: ``orders.xlsx#Sheet1``, ``crm.csv``, ``db#public.orders``."""
        base = self.location if self.kind == "postgres" else Path(self.location).name
        if self.kind == "postgres":
            base = base.split("@")[-1]  # never show a password from the URL
        return f"{base}#{self.table}" if self.table else base


@dataclass(frozen=True)
class Staged:
    """A source staged into a DuckDB table of VARCHAR columns."""

    ref: SourceRef
    table: str
    columns: tuple[str, ...]
    row_sql: str  # the source row number of each staged row, over the staged table
    rows: int
    rejects: str | None = None  # DuckDB rejects table (CSV lines that could not be parsed)


def kind_of(location: str) -> Kind:
    if location.startswith(("postgresql://", "postgres://")):
        return "postgres"
    kind = _EXTENSIONS.get(Path(location).suffix.lower())
    if Path(location).suffix.lower() == ".xls":
        raise UserError(614, f"{location} 是旧版 Excel(.xls), 请另存为 .xlsx 后导入",
                        f"{location} is an old Excel file (.xls): save it as .xlsx and import that", [".xlsx"])
    if kind is None:
        suffix = Path(location).suffix or "(none)"
        raise UserError(610, f"不支持的数据源类型 {suffix}: {location}。支持 CSV、Excel(.xlsx)、Parquet、DuckDB 和 PostgreSQL",
                        f"unsupported source type {suffix}: {location}. Supported: CSV, Excel (.xlsx), Parquet, "
                        "DuckDB and PostgreSQL", [".csv", ".xlsx", ".parquet", ".duckdb", "postgresql://"])
    return kind


def _exists(location: str) -> None:
    if kind_of(location) != "postgres" and not Path(location).is_file():
        raise UserError(611, f"找不到数据源文件 {location}", f"source file not found: {location}")


def list_tables(location: str) -> list[str | None]:
    """The tables of a source: ``[None]`` for a single-table file, sheets or tables otherwise."""
    _exists(location)
    kind = kind_of(location)
    if kind == "excel":
        import openpyxl

        wb = openpyxl.load_workbook(location, read_only=True, data_only=True)
        try:  # sheets with a header and at least one row (read-only sheets may not know their size)
            return [ws.title for ws in wb.worksheets
                    if len(list(itertools.islice((r for r in ws.iter_rows(values_only=True) if any(
                        v is not None and str(v).strip() for v in r)), 2))) == 2]
        finally:
            wb.close()
    if kind == "duckdb":
        con = duckdb.connect(location, read_only=True, config=_QUIET)
        try:
            rows = con.execute("SELECT schema_name, table_name FROM duckdb_tables() WHERE NOT internal "
                               "AND table_name NOT LIKE '\\_%' ESCAPE '\\' ORDER BY schema_name <> 'main', 1, 2").fetchall()
        finally:
            con.close()
        return [t if s == "main" else f"{s}.{t}" for s, t in rows]
    if kind == "postgres":
        with _pg_connect(location) as conn:
            rows = conn.execute(
                "SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
                "AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY table_schema <> 'public', 1, 2"
            ).fetchall()
        return [t if s == "public" else f"{s}.{t}" for s, t in rows]
    return [None]


_QUIET: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": False, "autoload_known_extensions": False}


def preview(ref: SourceRef, limit: int = 200) -> tuple[list[str], list[tuple[str | None, ...]]]:
    """Header and the first ``limit`` rows as text: what the mapping suggester looks at."""
    _exists(ref.location)
    if ref.kind == "excel":
        rows = _excel_rows(ref)
        header = next(rows, (0, []))[1]
        return [str(h) for h in header], [tuple(r) for _, r in itertools.islice(rows, limit)]
    if ref.kind == "postgres":
        with _pg_connect(ref.location) as conn:
            cur = conn.execute(f"SELECT * FROM {_pg_table(ref.table)} LIMIT {int(limit)}")
            names = [d.name for d in cur.description or []]
            return names, [tuple(None if v is None else _text(v) for v in row) for row in cur.fetchall()]
    con = duckdb.connect(config=_QUIET)
    try:
        with tempfile.TemporaryDirectory(prefix="chatbi-preview-") as tmp:
            source = _utf8(Path(ref.location), Path(tmp) / "preview.csv") if ref.kind == "csv" else None
            item = _csv_sql(str(source), tsv=_is_tsv(ref), lenient=True) if source else _reader_sql(con, ref)
            rel = con.sql(f"SELECT * FROM {item} LIMIT {int(limit)}")
            return list(rel.columns), rel.fetchall()
    finally:
        con.close()


def stage(con: duckdb.DuckDBPyConnection, ref: SourceRef, name: str, spool_dir: Path) -> Staged:
    """Copy one source into table ``name`` of ``con`` as VARCHAR columns; spool files go to ``spool_dir``."""
    _exists(ref.location)
    rejects = None
    if ref.kind == "excel":
        spool = spool_dir / f"{name}.csv"
        _write_spool(spool, _excel_rows(ref))
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM {_csv_sql(str(spool), spool=True)}")
        row_sql = "CAST(_row AS BIGINT)"
    elif ref.kind == "postgres":
        spool = spool_dir / f"{name}.csv"
        _pg_copy(ref, spool)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM {_csv_sql(str(spool), spool=True)}")
        row_sql = "rowid + 1"
    elif ref.kind == "csv":
        rejects = f"{name}__rejects"
        path = _utf8(Path(ref.location), spool_dir / f"{name}.utf8.csv")
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM {_csv_sql(str(path), rejects=rejects, tsv=_is_tsv(ref))}")
        row_sql = "rowid + 2"  # the header is line 1
    else:
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM {_reader_sql(con, ref)}")
        row_sql = "rowid + 1"
    columns = tuple(c for c in con.table(name).columns if not (ref.kind == "excel" and c == "_row"))
    rows = con.execute(f"SELECT count(*) FROM {name}").fetchone()
    return Staged(ref, name, columns, row_sql, int(rows[0]) if rows else 0, rejects)


def _is_tsv(ref: SourceRef) -> bool:
    return Path(ref.location).suffix.lower() == ".tsv"


def _csv_sql(path: str, *, rejects: str | None = None, spool: bool = False, tsv: bool = False,
             lenient: bool = False) -> str:
    """read_csv over text columns; ``rejects`` keeps unparseable lines, ``lenient`` skips them (previews only)."""
    opts = ["all_varchar = true", "header = true"]
    if lenient:
        opts.append("ignore_errors = true")
    if spool:
        opts += ["delim = ','", "quote = '\"'", "escape = '\"'"]
    elif tsv:
        opts.append("delim = '\\t'")
    if rejects:
        opts += ["store_rejects = true", f"rejects_table = {sql_str(rejects)}",
                 f"rejects_scan = {sql_str(rejects + '_scan')}"]
    return f"read_csv({sql_str(path)}, {', '.join(opts)})"


def _reader_sql(con: duckdb.DuckDBPyConnection, ref: SourceRef) -> str:
    """A FROM-clause item reading ``ref`` as VARCHAR columns (Parquet or a table of an attached DuckDB file)."""
    if ref.kind == "parquet":
        return f"(SELECT COLUMNS(*)::VARCHAR FROM read_parquet({sql_str(ref.location)}))"
    if ref.kind == "duckdb":
        alias = "src_" + hashlib.sha1(str(Path(ref.location).resolve()).encode()).hexdigest()[:12]
        attached = {r[0] for r in con.execute("SELECT database_name FROM duckdb_databases()").fetchall()}
        if alias not in attached:
            con.execute(f"ATTACH {sql_str(str(Path(ref.location).resolve()))} AS {alias} (READ_ONLY)")
        schema, _, table = (ref.table or "").rpartition(".")
        if not table:
            raise UserError(612, f"{ref.location} 是数据库, 请指定表名(table)", f"{ref.location} is a database: name a table")
        return f"(SELECT COLUMNS(*)::VARCHAR FROM {alias}.{ident(schema or 'main')}.{ident(table)})"
    raise AssertionError(ref.kind)  # pragma: no cover - excel and postgres are spooled


def _utf8(path: Path, spool: Path) -> Path:
    """``path`` itself when it is UTF-8; else a UTF-8 copy (Chinese Excel saves CSV as GB18030/GBK)."""
    with path.open("rb") as fh:
        head = fh.read(1 << 20)
    try:
        head.decode("utf-8")
        return path
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # a character cut by the 1 MiB boundary
            return path
    try:
        head.decode("gb18030")
    except UnicodeDecodeError:
        raise UserError(613, f"{path} 既不是 UTF-8 也不是 GB18030/GBK 编码", f"{path} is neither UTF-8 nor GB18030/GBK "
                        "encoded; save it as UTF-8") from None
    with path.open("r", encoding="gb18030", newline="") as src, spool.open("w", encoding="utf-8", newline="") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)
    return spool


# --- Excel -------------------------------------------------------------------------


def _excel_rows(ref: SourceRef) -> Iterator[tuple[int, list[str | None]]]:
    """(sheet row number, cell texts) for the header and every non-empty row, streamed."""
    import openpyxl

    try:
        wb = openpyxl.load_workbook(ref.location, read_only=True, data_only=True)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:  # a damaged file or not an .xlsx at all
        raise UserError(614, f"无法读取 Excel 文件 {ref.location}: {exc}", f"cannot read Excel file {ref.location}: {exc}",
                        ["请另存为 .xlsx / save it as .xlsx"]) from None
    try:
        if ref.table is not None and ref.table not in wb.sheetnames:
            raise UserError(612, f"{ref.location} 中没有工作表 '{ref.table}'", f"{ref.location} has no sheet '{ref.table}'",
                            list(wb.sheetnames))
        ws = wb[ref.table] if ref.table else wb.worksheets[0]
        header: list[str] | None = None
        for number, row in enumerate(ws.iter_rows(values_only=True), start=1):
            cells = [None if v is None else _text(v) for v in row]
            if all(c is None or not c.strip() for c in cells):
                continue
            if header is None:
                header = unique_names(cells)
                yield number, list(header)
                continue
            yield number, (cells + [None] * len(header))[: len(header)]
    finally:
        wb.close()


def _text(value: Any) -> str:
    """A cell as the text a person would type: dates ISO, 88.0 → 88."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def unique_names(cells: Iterable[str | None]) -> list[str]:
    """Header cells as column names: blanks become column3, repeats get _2.

    >>> unique_names(["a", None, "a", " b "])
    ['a', 'column2', 'a_2', 'b']
    """
    out: list[str] = []
    for i, cell in enumerate(cells, start=1):
        name = (cell or "").strip() or f"column{i}"
        base, n = name, 2
        while name in out:
            name, n = f"{base}_{n}", n + 1
        out.append(name)
    return out


def _write_spool(path: Path, rows: Iterator[tuple[int, list[str | None]]]) -> None:
    """The header (first row) and data rows as CSV, each led by its sheet row number."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        for i, (number, cells) in enumerate(rows):
            writer.writerow(["_row" if i == 0 else str(number)] + ["" if c is None else c for c in cells])


# --- PostgreSQL (optional: pip install 'chatbi[postgres]') -------------------------------


def _pg_connect(url: str) -> Any:
    try:
        import psycopg
    except ImportError:
        raise UserError(615, "读取 PostgreSQL 需要 psycopg: pip install 'chatbi[postgres]'",
                        "reading PostgreSQL needs psycopg: pip install 'chatbi[postgres]'") from None
    try:
        return psycopg.connect(url, connect_timeout=10)
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(616, f"无法连接 PostgreSQL: {first}", f"cannot connect to PostgreSQL: {first}") from None


def _pg_table(table: str | None) -> str:
    if not table:
        raise UserError(612, "PostgreSQL 数据源需要指定表名(table)", "a PostgreSQL source needs a table")
    schema, _, name = table.rpartition(".")
    return f"{ident(schema)}.{ident(name)}" if schema else ident(name)


def _pg_copy(ref: SourceRef, spool: Path) -> None:
    """Stream the table out of PostgreSQL as CSV (server-side COPY), chunk by chunk."""
    sql = f"COPY (SELECT * FROM {_pg_table(ref.table)}) TO STDOUT WITH (FORMAT csv, HEADER true)"
    with _pg_connect(ref.location) as conn, spool.open("wb") as fh, conn.cursor().copy(sql) as copy:
        for chunk in copy:
            fh.write(chunk)
