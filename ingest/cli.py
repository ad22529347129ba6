"""``chatbi import``: suggest a mapping, then import sources into a warehouse with a quality report.

    chatbi import crm.csv orders.xlsx --suggest --mapping m.yaml     # propose; edit m.yaml
    chatbi import --mapping m.yaml --db shop.duckdb --report q.html  # import, clean, report
    chatbi import crm.csv orders.xlsx --db shop.duckdb               # suggest + import in one go

The main CLI mounts ``import_command`` as ``chatbi import``. Bad input (a
mapping error, a missing file, an unknown column) exits 1 with every problem
on stderr, bilingual; bad usage exits 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from semantic_layer.errors import UserError

if TYPE_CHECKING:
    from ingest.mapping import MappingFile
    from ingest.pipeline import ImportResult
    from ingest.report import QualityReport


def _fail(exc: UserError, code: int = 1) -> None:
    typer.echo(str(exc), err=True)
    if exc.suggestions and not getattr(exc, "issues", None):
        typer.echo(f"  可选 / hints: {', '.join(exc.suggestions)}", err=True)
    raise typer.Exit(code)


def import_command(
    sources: Optional[list[str]] = typer.Argument(
        None, help="CSV / Excel (.xlsx) / Parquet / DuckDB files or postgresql:// URLs (default: the mapping's) / 数据源"),
    mapping: Optional[Path] = typer.Option(
        None, "--mapping", "-m", help="mapping YAML to use; with --suggest, where to write one / 映射文件"),
    db: Optional[Path] = typer.Option(None, "--db", help="warehouse to build (replaced atomically when done) / 目标数仓"),
    suggest: bool = typer.Option(False, "--suggest", help="only propose a mapping (to --mapping, else stdout) / 只生成映射建议"),
    force: bool = typer.Option(False, "--force", help="with --suggest: overwrite an existing mapping file / 覆盖已有映射"),
    report: Optional[Path] = typer.Option(
        None, "--report", help="write the data-quality report as HTML, with the JSON beside it / 质量报告"),
    memory_limit: str = typer.Option("2GB", "--memory-limit", help="DuckDB memory limit; the rest spills to disk"),
    threads: int = typer.Option(2, "--threads", min=1, help="DuckDB threads"),
    as_json: bool = typer.Option(False, "--json", help="print the report JSON on stdout / 输出 JSON"),
) -> None:
    """Import CSV, Excel, Parquet, DuckDB or PostgreSQL data with column mapping and cleaning / 导入并清洗数据."""
    from ingest.mapping import load_mapping, save_mapping
    from ingest.suggest import suggest_mapping

    sources = sources or []
    try:
        if suggest:
            if not sources:
                _fail(UserError(630, "--suggest 需要至少一个数据源", "--suggest needs at least one source"), 2)
            if mapping is not None and mapping.exists() and not force:
                _fail(UserError(631, f"{mapping} 已存在; 换个文件名或加 --force", f"{mapping} exists; pick another name "
                                "or add --force"), 2)
            proposal = suggest_mapping(sources, relative_to=mapping.parent if mapping else Path.cwd())
            if mapping is None:
                typer.echo(proposal.to_yaml(), nl=False)
            else:
                save_mapping(proposal, mapping)
                typer.echo(f"映射建议已写入 / mapping suggestion written: {mapping}", err=True)
            _echo_mapping(proposal.mapping)
            return
        if db is None:
            _fail(UserError(632, "请用 --db 指定要生成的数仓文件", "name the warehouse to build with --db"), 2)
            return
        if mapping is None:
            if not sources:
                _fail(UserError(633, "需要数据源或 --mapping", "give sources, or --mapping"), 2)
            mapping = db.with_name(db.stem + ".mapping.yaml")
            if mapping.exists():
                _fail(UserError(634, f"{mapping} 已存在: 用 --mapping {mapping} 复用它, 或删除后重新生成",
                                f"{mapping} exists: reuse it with --mapping {mapping}, or delete it to suggest anew"), 2)
            save_mapping(suggest_mapping(sources, relative_to=mapping.parent), mapping)
            typer.echo(f"已按建议生成映射 / mapping suggested and saved: {mapping} (编辑后可用 --mapping 复用 / edit and "
                       "reuse with --mapping)", err=True)
        loaded = load_mapping(mapping)
        result = _run(loaded, db, mapping.parent, sources, memory_limit, threads)
    except UserError as exc:
        _fail(exc)
        return
    rep = result.report
    if report is not None:
        page, data = rep.write(report)
        typer.echo(f"质量报告 / quality report: {page} ({data.name})", err=True)
    if as_json:
        typer.echo(rep.to_json())
    else:
        _echo_summary(rep, result.db)
    if not rep.reconciled:
        typer.echo("对账不平: 这是程序缺陷, 请报告 / totals do not reconcile: a bug, please report it", err=True)
        raise typer.Exit(1)


def _run(loaded: MappingFile, db: Path, base: Path, sources: list[str], memory_limit: str,
         threads: int) -> ImportResult:
    from ingest.pipeline import import_sources
    from ingest.progress import terminal_progress

    progress, close = terminal_progress()
    try:
        return import_sources(loaded, db, base_dir=base, locations=sources, progress=progress,
                              memory_limit=memory_limit, threads=threads)
    finally:
        close()


def _echo_mapping(mapping: MappingFile) -> None:
    for src in mapping.sources:
        mapped = src.mapped()
        label = f"{src.source}#{src.table}" if src.table else src.source
        typer.echo(f"  {label} → {src.target}: " + ", ".join(f"{s}→{t}" for t, s in mapped.items()), err=True)


def _echo_summary(rep: QualityReport, db: Path) -> None:
    typer.echo(f"导入完成 / imported into {db} in {rep.seconds:.1f}s — "
               f"{'对账通过 / reconciled' if rep.reconciled else '对账不平 / NOT reconciled'}")
    for t in rep.tables:
        typer.echo(f"  {t.table:<16} raw {t.raw_rows:>10,}  clean {t.clean_rows:>10,}  quarantined {t.quarantined_rows:>8,}")
    fixes = [r for r in rep.rules if r.action != "fix"]
    if fixes:
        typer.echo("  规则 / rules:")
    for r in fixes:
        where = f"{r.table}.{r.column}" if r.column else r.table
        typer.echo(f"    {r.code:<20} {where:<32} {r.action:<10} {r.count:>8,}")
    fixed = sum(r.count for r in rep.rules if r.action == "fix")
    typer.echo(f"  标准化的值 / values standardised: {fixed:,}; 明细见 _quarantine、_import_log 和报告 / details in "
               "_quarantine, _import_log and the report")
