"""What the Data page's import does besides drawing: workspace, sources, mapping draft, run, quarantine export.

Each import gets a private folder ``$CHATBI_HOME/imports/<id>/`` (0700): uploads
go to ``sources/``, the mapping used is saved as ``mapping.yaml``, the report as
``quality.html`` / ``quality.json``, and the new warehouse is built as
``warehouse.duckdb`` unless the admin names another *new* file. The warehouse
the app is serving is never a valid target.

The mapping being edited is one YAML text (``Draft.text``): the form on the page
and the YAML editor both rewrite it, and it is checked with ``ingest``'s own
loader, so the page and ``chatbi import --mapping`` accept the same files.
Nothing here imports Streamlit (STYLE 26: the view stays thin).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shlex
import shutil
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import yaml
from pydantic import ValidationError

from assistant.export import to_csv
from assistant.session import chatbi_home
from ingest.contract import TARGETS
from ingest.mapping import MappingError, MappingFile, SourceMap, load_mapping, to_yaml
from ingest.pipeline import ImportResult, import_sources
from ingest.rules import Rules
from ingest.sources import kind_of
from ingest.suggest import Candidate, assign_columns, suggest_mapping
from semantic_layer.catalog import Catalog
from semantic_layer.errors import Issue, UserError
from semantic_layer.loader import DEFAULT_CATALOG
from semantic_layer.store import write_atomic

#: What the uploader accepts (DuckDB files and databases are named by path or URL instead).
UPLOAD_TYPES = ("csv", "tsv", "txt", "xlsx", "xlsm", "parquet")
#: Files a server folder contributes: data exports only (no .txt notes, no .duckdb warehouses by accident).
FOLDER_SUFFIXES = (".csv", ".tsv", ".xlsx", ".xlsm", ".parquet", ".pq")
MAX_FOLDER_FILES = 50
PREVIEW_ROWS = 200
QUARANTINE_COLUMNS = ("target_table", "source", "row_number", "reason_code", "reason_zh", "reason_en",
                      "column_name", "value", "detail", "raw")
_QUIET = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
# An upload's name as a plain file name: letters (any script), digits, . _ - and spaces; "../x;y.csv" → "x_y.csv".
_UNSAFE = re.compile(r"[^\w.\- ]+")

Reasons = dict[tuple[str, str | None], dict[str, list[Candidate]]]


@dataclass
class Draft:
    """One import being prepared: its folder, its sources, and the mapping YAML being edited."""

    workspace: Path
    locations: list[str]
    text: str
    #: (mapping source, table) → source column → the suggester's candidates, best first
    reasons: Reasons = field(default_factory=dict)

    @property
    def mapping_path(self) -> Path:
        return self.workspace / "mapping.yaml"

    @property
    def default_target(self) -> Path:
        return self.workspace / "warehouse.duckdb"


# --- sources ---------------------------------------------------------------------------


def new_workspace() -> Path:
    """A fresh private folder under ``$CHATBI_HOME/imports`` named by time (mkdtemp: unique, mode 0700)."""
    root = chatbi_home().expanduser() / "imports"
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path(tempfile.mkdtemp(prefix=f"{stamp}-", dir=root)).resolve()


def safe_name(name: str) -> str:
    """An uploaded file's name, reduced to a plain name inside the workspace.

    >>> safe_name("../../etc/订单 2025;x.csv")
    '订单 2025_x.csv'
    """
    base = _UNSAFE.sub("_", Path(name.replace("\\", "/")).name).strip(" .")
    return base or "upload"


def save_uploads(workspace: Path, uploads: Iterable[tuple[str, bytes | memoryview]]) -> list[str]:
    """Write each upload to ``workspace/sources/`` (owner-only); repeated names get ``_2``."""
    folder = workspace / "sources"
    out: list[str] = []
    for name, data in uploads:
        folder.mkdir(mode=0o700, exist_ok=True)
        path = folder / safe_name(name)
        n = 2
        while path.exists():
            path = folder / f"{Path(safe_name(name)).stem}_{n}{Path(safe_name(name)).suffix}"
            n += 1
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        out.append(str(path))
    return out


def server_locations(text: str) -> list[str]:
    """Lines of the paths box as sources: a folder gives its export files, a file itself, a URL as is.

    Every problem is reported at once (bilingual); an unsupported file type says why (``kind_of``).
    """
    out: list[str] = []
    missing: list[str] = []
    for line in (raw.strip() for raw in text.splitlines()):
        if not line or line.startswith("#"):
            continue
        if line.startswith(("postgresql://", "postgres://")):
            out.append(line)
            continue
        path = Path(line).expanduser()
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith((".", "~$"))
                           and p.suffix.lower() in FOLDER_SUFFIXES)
            if not files:
                raise UserError(645, f"文件夹 {line} 中没有 CSV、Excel 或 Parquet 文件",
                                f"folder {line} holds no CSV, Excel or Parquet file")
            out += [str(p.resolve()) for p in files[:MAX_FOLDER_FILES]]
        elif path.is_file():
            kind_of(str(path))  # raises for .xls and unknown types
            out.append(str(path.resolve()))
        else:
            missing.append(line)
    if missing:
        raise UserError(641, f"服务器上找不到: {', '.join(missing)}", f"not found on the server: {', '.join(missing)}")
    return list(dict.fromkeys(out))


def start(uploads: Iterable[tuple[str, bytes | memoryview]], paths_text: str, catalog: Catalog) -> Draft:
    """Save the uploads into a new workspace and suggest a mapping for them and the server sources."""
    server = server_locations(paths_text)
    uploads = list(uploads)
    if not server and not uploads:
        raise UserError(640, "请上传文件, 或填写服务器上的路径或数据库地址", "upload files, or name paths or a database URL "
                        "on the server")
    workspace = new_workspace()
    try:
        locations = save_uploads(workspace, uploads) + server
        suggestion = suggest_mapping(locations, catalog)
    except BaseException:
        shutil.rmtree(workspace, ignore_errors=True)
        raise
    # Uploads are stored relative to the workspace (the saved mapping stays valid beside them); server paths absolute.
    sources = [src.model_copy(update={"source": _relative(src.source, workspace)})
               for src in suggestion.mapping.sources]
    mapping = suggestion.mapping.model_copy(update={"sources": sources})
    reasons: Reasons = {}
    for (i, column), cands in suggestion.candidates.items():
        reasons.setdefault((sources[i].source, sources[i].table), {})[column] = cands
    return Draft(workspace, locations, render_yaml(mapping, reasons), reasons)


def _relative(location: str, workspace: Path) -> str:
    path = Path(location)
    if location.startswith(("postgresql://", "postgres://")) or not path.is_relative_to(workspace):
        return location
    return path.relative_to(workspace).as_posix()


# --- the mapping draft ----------------------------------------------------------------


def form_model(text: str) -> MappingFile | None:
    """The YAML as a mapping for the form, if it parses and fits the schema (column names are checked later)."""
    try:
        return MappingFile.model_validate(yaml.safe_load(text))
    except (yaml.YAMLError, ValidationError, ValueError, TypeError):
        return None


def validate(draft: Draft, catalog: Catalog) -> tuple[MappingFile | None, list[Issue]]:
    """The mapping as ``chatbi import --mapping`` would load it, or every issue with line and field."""
    try:
        return load_mapping(draft.mapping_path, catalog, text=draft.text), []
    except MappingError as exc:
        return None, list(exc.issues) or [Issue("error", exc.code, exc.message_zh, exc.message_en,
                                                str(draft.mapping_path))]


def label(src: SourceMap) -> str:
    """How reports name the source (``orders.xlsx#Sheet1``, a URL without its password); the text as is for a
    kind the importer will refuse with its own message (``.xls``)."""
    try:
        return src.ref.label
    except UserError:
        return src.source + (f"#{src.table}" if src.table else "")


def seen(reasons: Reasons, src: SourceMap) -> dict[str, list[Candidate]]:
    """What the suggester saw of this source: by its path, else by file name (as the importer finds sources)."""
    if (src.source, src.table) in reasons:
        return reasons[(src.source, src.table)]
    name = Path(src.source).name
    return next((v for (source, table), v in reasons.items() if Path(source).name == name and table == src.table), {})


def reason(reasons: Reasons, src: SourceMap, column: str, target: str | None) -> Candidate | None:
    """Why ``column`` maps to ``target``: the suggester's candidate for it, if it had one."""
    if target is None:
        return None
    cands = seen(reasons, src).get(column, [])
    return next((c for c in cands if c.table == src.target and c.column == target), None)


def comments(mapping: MappingFile, reasons: Reasons) -> dict[tuple[int, str], str]:
    """YAML comments: why each column is mapped (as ``suggest`` writes them), and a TODO per missing required column."""
    out: dict[tuple[int, str], str] = {}
    for i, src in enumerate(mapping.sources):
        for column, target in src.columns.items():
            found = reason(reasons, src, column, target)
            out[(i, column)] = ("not imported / 不导入" if target is None else
                                f"{found.method} {found.score:.2f}" if found else "set by hand / 手动设置")
        missing = [c for c in mapping.rules.required_for(src.target) if c not in src.columns.values()]
        if missing:
            out[(i, "")] = f"TODO 必填列未找到 / required, not found: {', '.join(missing)} — map a source column to it"
    return out


def render_yaml(mapping: MappingFile, reasons: Reasons) -> str:
    return to_yaml(mapping, comments(mapping, reasons))


def reassign(src: SourceMap, target: str, reasons: Reasons) -> dict[str, str | None]:
    """The columns for a new target table: the suggester's best per column when it saw this source, else by name."""
    found = seen(reasons, src)
    if found and set(found) >= set(src.columns):
        columns, _ = assign_columns(target, {c: found[c] for c in src.columns})  # the suggester's own assignment
        return columns
    names = TARGETS[target].names
    return {c: c if c in names else None for c in src.columns}


def with_source(mapping: MappingFile, i: int, *, target: str | None = None,
                columns: dict[str, str | None] | None = None) -> MappingFile:
    src = mapping.sources[i]
    update: dict[str, Any] = {}
    if target is not None:
        update["target"] = target
    if columns is not None:
        update["columns"] = columns
    sources = [*mapping.sources[:i], src.model_copy(update=update), *mapping.sources[i + 1:]]
    return mapping.model_copy(update={"sources": sources})


def with_rules(mapping: MappingFile, **changes: Any) -> MappingFile:
    """The mapping with some cleaning settings changed (``extreme_factor``, ``dedupe_keys``… map to nested fields)."""
    data = mapping.rules.model_dump()
    nested = {"extreme_factor": ("extreme", "factor"), "extreme_action": ("extreme", "action"),
              "dedupe_keys": ("dedupe", "keys")}
    for name, value in changes.items():
        if name == "dedupe_keys":
            data["dedupe"] = {"enabled": bool(value), "keys": list(value) or data["dedupe"]["keys"]}
        elif name in nested:
            outer, inner = nested[name]
            data[outer][inner] = value
        else:
            data[name] = value
    return mapping.model_copy(update={"rules": Rules.model_validate(data)})


# --- the run ----------------------------------------------------------------------------


def check_target(text: str, draft: Draft, running: Path) -> Path:
    """The new warehouse file: a ``.duckdb`` path that is not the served warehouse nor an existing file elsewhere.

    Re-running an import into its own workspace replaces that import's earlier result.
    """
    if not text.strip():
        raise UserError(644, "请填写新数仓文件的路径", "name the new warehouse file")
    path = Path(text.strip()).expanduser().resolve()
    if path.suffix.lower() != ".duckdb":
        raise UserError(644, f"新数仓文件须以 .duckdb 结尾: {path}", f"the new warehouse must end in .duckdb: {path}")
    if path == running.resolve() or (path.exists() and running.exists() and os.path.samefile(path, running)):
        raise UserError(642, "不能导入到正在使用的数仓, 请选择一个新文件", "cannot import into the warehouse in use; "
                        "choose a new file")
    if path.exists() and not path.is_relative_to(draft.workspace):
        raise UserError(643, f"{path} 已存在: 导入会替换它, 请选择一个新文件", f"{path} exists and an import would "
                        "replace it; choose a new file")
    return path


class ImportRun:
    """``import_sources`` in a worker thread; the page polls ``progress`` and draws it from its own thread."""

    def __init__(self, mapping: MappingFile, db: Path, draft: Draft, catalog: Catalog) -> None:
        self.progress: tuple[float, str] = (0.0, "")
        self.result: ImportResult | None = None
        self.error: BaseException | None = None
        self._args = (mapping, db, draft, catalog)
        self._thread = threading.Thread(target=self._work, name="chatbi-import", daemon=True)

    def _report(self, label: str, fraction: float) -> None:
        self.progress = (max(self.progress[0], fraction), label)  # one tuple: read whole by the page's thread

    def _work(self) -> None:
        mapping, db, draft, catalog = self._args
        try:
            self.result = import_sources(mapping, db, base_dir=draft.workspace, locations=draft.locations,
                                         catalog=catalog, progress=self._report)
        except BaseException as exc:  # noqa: BLE001 — handed to the page's thread, which decides what is shown
            self.error = exc

    def start(self) -> ImportRun:
        self._thread.start()
        return self

    def wait(self, seconds: float | None = None) -> bool:
        """True once the import has finished (or failed)."""
        self._thread.join(seconds)
        return not self._thread.is_alive()


@dataclass(frozen=True)
class Outcome:
    """What the page shows after a run (kept in the session, so reruns do not repeat the import)."""

    db: str
    mapping: str
    report: dict[str, Any] | None = None
    html: str | None = None
    json: str | None = None
    quarantined: int = 0
    preview: list[dict[str, Any]] = field(default_factory=list)
    error: tuple[str, str] | None = None  # (zh, en)


def finish(run: ImportRun, db: Path, draft: Draft) -> Outcome:
    """The run's outcome: the report written beside the import and a quarantine preview, or a bilingual error.

    Errors of the input (a missing column, an unreadable file, bad data DuckDB refuses) become the
    message shown; anything else is a bug and is raised.
    """
    if run.error is not None:
        exc = run.error
        if isinstance(exc, UserError):
            return Outcome(str(db), str(draft.mapping_path), error=(exc.message("zh"), exc.message("en")))
        if isinstance(exc, (duckdb.Error, OSError)):
            text = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
            return Outcome(str(db), str(draft.mapping_path), error=(text, text))
        raise exc
    assert run.result is not None
    report = run.result.report
    page, data = report.write(draft.workspace / "quality.html")
    total, preview = quarantine_preview(run.result.db)
    return Outcome(str(run.result.db), str(draft.mapping_path), report.to_dict(), str(page), str(data), total, preview)


def save_mapping_text(draft: Draft) -> Path:
    """The mapping exactly as shown, beside the import, for ``chatbi import --mapping`` later."""
    write_atomic(draft.mapping_path, draft.text)
    return draft.mapping_path


# --- after the run ------------------------------------------------------------------------


def _connect(db: str | Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(db), read_only=True, config=dict(_QUIET))


def quarantine_preview(db: str | Path, limit: int = PREVIEW_ROWS) -> tuple[int, list[dict[str, Any]]]:
    """(rows in ``_quarantine``, the first ``limit`` without the raw JSON) of an imported warehouse."""
    names = [c for c in QUARANTINE_COLUMNS if c != "raw"]
    con = _connect(db)
    try:
        count = con.execute("SELECT count(*) FROM _quarantine").fetchone()
        cur = con.execute(f"SELECT {', '.join(names)} FROM _quarantine ORDER BY target_table, source, row_number, "
                          f"reason_code LIMIT {int(limit)}")
        rows = [dict(zip(names, r)) for r in cur.fetchall()]
    finally:
        con.close()
    return (int(count[0]) if count else 0), rows


def quarantine_csv(db: str | Path) -> bytes:
    """Every quarantined row with its raw source row, as spreadsheet-safe CSV (formulas neutralised)."""
    con = _connect(db)
    try:
        rows = con.execute(f"SELECT {', '.join(QUARANTINE_COLUMNS)} FROM _quarantine ORDER BY target_table, source, "
                           "row_number, reason_code").fetchall()
    finally:
        con.close()
    return to_csv(QUARANTINE_COLUMNS, rows)


def serve_command(db: str | Path, catalog_dir: Path) -> str:
    """How to serve the new warehouse (with the app's catalog when it is not the default one)."""
    argv = ["chatbi", "serve", "--db", str(db)]
    if catalog_dir.resolve() != Path(DEFAULT_CATALOG).resolve():
        argv += ["--catalog", str(catalog_dir)]
    return shlex.join(argv)
