"""Run an import: stage → standardise → validate → dedupe → quarantine → write, into a new DuckDB file.

The work happens in a scratch DuckDB file beside the target (memory-limited,
spilling to disk), so a 10M-row CSV imports in bounded memory. The output is
built as ``<db>.importing`` and renamed over ``<db>`` only when complete, so
readers never see a half-written warehouse and a failed import leaves the old
one in place.

Order matters in three places: tables are cleaned parents first (a child's
references are checked against cleaned parents); within a table duplicate keys
go before references, and customer merges before the orders that point at them;
ids become integers only after merging, so orders re-point to the survivor.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from semantic_layer.catalog import Catalog
from semantic_layer.errors import UserError
from semantic_layer.loader import load_catalog

from .cells import ident, macros, sql_str
from .contract import FAMILY_OWNER, ORDER, TARGETS
from .keys import build_key_map, mark_duplicate_keys, mark_unknown_references, merge_customers
from .mapping import MappingFile, SourceMap
from .measure import measure
from .output import LOG_DDL, create_rule_text, write_id_map, write_log, write_quarantine, write_table
from .progress import ProgressFn, Tracker
from .report import QualityReport
from .sources import SourceRef, Staged, stage
from .synonyms import value_key, value_map
from .tables import Part, TableJob, build_cells, build_union, make_job


@dataclass(frozen=True)
class ImportResult:
    db: Path
    report: QualityReport


def import_sources(mapping: MappingFile, db: str | Path, *, base_dir: str | Path | None = None,
                   locations: Sequence[str | Path] = (), catalog: Catalog | None = None,
                   progress: ProgressFn | None = None, memory_limit: str = "2GB", threads: int = 2,
                   today: dt.date | None = None) -> ImportResult:
    """Import every source of ``mapping`` into a new warehouse at ``db`` (replaced atomically).

    Sources are found by their path in the mapping, relative to ``base_dir`` (the
    mapping file's folder); ``locations`` (paths given on the command line) win
    when one has the same file name.
    """
    started, started_at = time.perf_counter(), dt.datetime.now().isoformat(timespec="seconds")
    catalog = catalog or load_catalog()
    today = today or dt.date.today()
    target = Path(db).expanduser().resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    refs = [_resolve(src, base_dir, locations) for src in mapping.sources]
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.import-", dir=target.parent))
    building = target.with_name(target.name + ".importing")
    _remove(building, Path(f"{building}.wal"))
    con = duckdb.connect(str(work / "stage.duckdb"), config={
        "autoinstall_known_extensions": False, "autoload_known_extensions": False,
        "python_enable_replacements": False, "memory_limit": memory_limit, "threads": threads,
        "temp_directory": str(work / "spill"), "preserve_insertion_order": True})
    try:
        con.execute("SET enable_progress_bar = true")
        con.execute("SET enable_progress_bar_print = false")
        tracker = Tracker(progress, len(refs) + 2 * len({s.target for s in mapping.sources}) + 2, con)
        report = _run(con, mapping, refs, catalog, today, tracker, work, building)
        report.started_at, report.target = started_at, str(target)
        report.seconds = round(time.perf_counter() - started, 2)
        con.execute("CREATE TABLE out._import_report (imported_at TIMESTAMP, report JSON)")
        con.execute("INSERT INTO out._import_report VALUES (?, ?)", [dt.datetime.now(), report.to_json()])
        con.execute("DETACH out")
    except BaseException:
        con.close()
        _remove(building, Path(f"{building}.wal"))
        shutil.rmtree(work, ignore_errors=True)
        raise
    con.close()
    shutil.rmtree(work, ignore_errors=True)
    _remove(Path(f"{target}.wal"))  # a stale WAL would be replayed onto the new file
    os.replace(building, target)
    return ImportResult(target, report)


def _run(con: duckdb.DuckDBPyConnection, mapping: MappingFile, refs: list[SourceRef], catalog: Catalog,
         today: dt.date, tracker: Tracker, work: Path, building: Path) -> QualityReport:
    rules = mapping.rules
    for statement in macros(rules):
        con.execute(statement)
    _load_values(con, catalog, mapping.sources)
    create_rule_text(con)
    con.execute("CREATE TABLE merge_map (_rid BIGINT, survivor_rid BIGINT, matched_by VARCHAR)")
    con.execute(LOG_DDL.format(name="log_extra"))
    con.execute("CREATE TABLE src_labels (k INTEGER, label VARCHAR)")

    staged: list[Staged] = []
    for k, ref in enumerate(refs):
        with tracker.step(f"读取 / reading {ref.label}"):
            staged.append(stage(con, ref, f"raw_{k}", work))
        con.execute("INSERT INTO src_labels VALUES (?, ?)", [k, ref.label])
        _check_columns(staged[-1], mapping.sources[k])
    con.execute("SET preserve_insertion_order = false")  # row numbers are fixed now; let DuckDB stream freely

    jobs: dict[str, TableJob] = {}
    for name in ORDER:
        parts = [Part(k, staged[k], src) for k, src in enumerate(mapping.sources) if src.target == name]
        if parts:
            jobs[name] = make_job(TARGETS[name], parts, rules)
    merges: dict[str, object] = {}
    for name, job in jobs.items():
        with tracker.step(f"清洗 / cleaning {name}"):
            build_union(con, job)
            build_cells(con, job, rules, today)
        with tracker.step(f"校验 / checking {name}"):
            mark_duplicate_keys(con, job)
            if rules.unknown_reference == "quarantine":
                mark_unknown_references(con, job, set(jobs))
            if name == "customers" and rules.dedupe.enabled:
                merges = merge_customers(con, job, list(rules.dedupe.keys))
            _extremes(con, job, rules.extreme.columns, rules.extreme.factor, rules.extreme.action)

    families = sorted({c.family for j in jobs.values() for c in j.spec.columns
                       if c.family and c.name in j.mapped and c.kind in ("key", "ref")})
    surrogate = {f: build_key_map(con, f, jobs) for f in families}
    with tracker.step("写入 / writing the warehouse"):
        con.execute(f"ATTACH {sql_str(str(building))} AS out")
        for name in ORDER:
            write_table(con, TARGETS[name], jobs.get(name), bool(merges.get("merged")))
        write_quarantine(con, jobs)
        write_log(con, jobs)
        write_id_map(con, surrogate)
    with tracker.step("对账 / reconciling"):
        return measure(con, jobs, staged, rules, today, merges, surrogate, FAMILY_OWNER)


def _resolve(src: SourceMap, base_dir: str | Path | None, locations: Sequence[str | Path]) -> SourceRef:
    """The mapping's source as a readable location: a command-line path with that name, else relative to base_dir."""
    if src.source.startswith(("postgresql://", "postgres://")):
        return SourceRef(src.source, src.table)
    given = Path(src.source)
    for loc in locations:
        if Path(loc).name == given.name or Path(loc).resolve() == given.resolve():
            return SourceRef(str(loc), src.table)
    if not given.is_absolute() and base_dir is not None:
        given = Path(base_dir) / given
    return SourceRef(str(given), src.table)


def _check_columns(staged: Staged, src: SourceMap) -> None:
    """Every mapped source column must exist in the source (a renamed export column stops here, by name)."""
    missing = [c for c in src.mapped().values() if c not in staged.columns]
    if missing:
        from semantic_layer.errors import closest

        hints = sorted({h for c in missing for h in closest(c, staged.columns)})
        raise UserError(620, f"{staged.ref.label} 中没有映射文件里的列: {', '.join(missing)}(实际列: "
                        f"{', '.join(staged.columns)})", f"{staged.ref.label} has no column(s) {', '.join(missing)} "
                        f"named in the mapping (it has: {', '.join(staged.columns)})", hints)


def _load_values(con: duckdb.DuckDBPyConnection, catalog: Catalog, sources: list[SourceMap]) -> None:
    """``_values(col, key, value)``: the mapping's own value maps first, then the catalog's synonyms."""
    con.execute("CREATE TABLE _values (col VARCHAR, key VARCHAR, value VARCHAR, PRIMARY KEY (col, key))")
    rows: dict[tuple[str, str], str] = {}
    for src in sources:
        for column, spellings in src.values.items():
            for raw, value in spellings.items():
                rows.setdefault((column, value_key(raw)), value)
    columns = {c.name for t in TARGETS.values() for c in t.columns if c.kind in ("category", "city")}
    for column in sorted(columns):
        for key, value in value_map(catalog, column).items():
            rows.setdefault((column, key), value)
    con.executemany("INSERT INTO _values VALUES (?, ?, ?)", [(c, k, v) for (c, k), v in rows.items()])


def _extremes(con: duckdb.DuckDBPyConnection, job: TableJob, columns: list[str], factor: float, action: str) -> None:
    """Amounts over ``factor`` × the mean of the rows otherwise kept: flagged, capped or quarantined."""
    for ref in columns:
        table, _, col = ref.partition(".")
        if table != job.name or col not in job.mapped:
            continue
        c = ident(col)
        row = con.execute(f"SELECT avg({c}) FROM {job.s} WHERE _reason IS NULL").fetchone()
        if not row or row[0] is None:
            continue
        cap = round(float(row[0]) * factor, 2)
        over = f"_reason IS NULL AND {c} > {cap}"
        if action == "quarantine":
            con.execute(f"UPDATE {job.s} SET _reason = 'extreme_amount', _reason_col = {sql_str(col)}, "
                        f"_detail = '> {cap}' WHERE {over}")
            continue
        new = f"'{cap:.2f}'" if action == "cap" else f"CAST({c} AS VARCHAR)"
        con.execute(f"INSERT INTO log_extra SELECT {sql_str(job.name)}, _src, _row, {sql_str(col)}, 'extreme_amount', "
                    f"{sql_str(action)}, CAST({c} AS VARCHAR), {new} FROM {job.s} WHERE {over}")
        if action == "cap":
            con.execute(f"UPDATE {job.s} SET {c} = {cap} WHERE {over}")


def _remove(*paths: Path) -> None:
    for p in paths:
        p.unlink(missing_ok=True)
