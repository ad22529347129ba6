"""The ``chatbi`` command: one entry point for the demo data, the catalog and questions.

Exit codes: 0 for answered, clarified or refused questions; 1 when the user's
input could not be served (unknown metric, missing database); 2 for bad usage.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any, Optional

import typer

from semantic_layer.errors import CatalogError, UserError

app = typer.Typer(
    help="ChatBI: governed natural-language BI for customer value analysis / 面向客户价值分析的自然语言 BI",
    no_args_is_help=True,
    add_completion=False,
)

DEFAULT_DB = os.environ.get("CHATBI_DB", "chatbi_demo.duckdb")

DbOption = typer.Option(DEFAULT_DB, "--db", help="DuckDB warehouse file (env CHATBI_DB) / 数仓文件")
AsOfOption = typer.Option(None, "--as-of", help="override the as-of date YYYY-MM-DD / 指定数据截止日")
CatalogOption = typer.Option(None, "--catalog", help="catalog folder (default: the built-in one) / 指标目录")
UserOption = typer.Option(None, "--user", help=("who asks: a user id from users.yaml ($CHATBI_USERS); row rules, "
                                                "masking and limits follow that user. Default: you, the local "
                                                "operator (admin) / 提问用户"))


def _fail(exc: UserError, code: int = 1) -> None:
    typer.echo(str(exc), err=True)
    raise typer.Exit(code)


def _as_of(value: Optional[str]) -> Optional[dt.date]:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        _fail(UserError(221, f"--as-of 需要 YYYY-MM-DD 格式的日期, 收到 '{value}'",
                        f"--as-of needs a date as YYYY-MM-DD, got '{value}'"), 2)
        raise


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


@app.command()
def demo(
    db: Path = DbOption,
    scale: float = typer.Option(1.0, "--scale", min=0.01, max=100, help="1 ≈ 200k orders; 5 ≈ 1M; 50 ≈ 10M"),
    seed: int = typer.Option(7, "--seed", help="random seed (same seed, same data)"),
    dirty: Optional[Path] = typer.Option(
        None, "--dirty", help="instead, write a messy export (CSV + Excel + manifest.json) of the demo shop into "
        "this folder, for `chatbi import`; --scale 1 = 2,000 customers / 生成待清洗的演示导出文件"),
) -> None:
    """Build the demo warehouse deterministically / 生成演示数仓."""
    if dirty is not None:
        from ingest.dirty import DEFAULT_CUSTOMERS, write_dirty

        manifest = write_dirty(dirty, seed=seed, customers=max(50, round(DEFAULT_CUSTOMERS * scale)))
        files = ", ".join(f["file"] for f in manifest["files"])
        typer.echo(f"待清洗的演示导出已生成 / messy demo export written: {dirty}  ({files}; defects in manifest.json)")
        return
    from warehouse.demo import build_demo

    stats = build_demo(db, scale=scale, seed=seed)
    typer.echo(f"演示数仓已生成 / demo warehouse built: {db}  "
               f"customers={stats.customers:,} orders={stats.orders:,} order_items={stats.order_items:,} "
               f"({stats.seconds:.1f}s)")


@app.command()
def validate(
    path: Optional[Path] = typer.Argument(None, help="catalog folder (default: built-in) / 指标目录"),
    db: Optional[Path] = typer.Option(None, "--db", help="also dry-run every metric on this warehouse"),
    users: Optional[Path] = typer.Option(
        None, "--users", help="also check this user directory (default: $CHATBI_USERS, else the demo users.yaml)"),
) -> None:
    """Validate the catalog and the user directory: every problem with file, line and field / 校验指标目录."""
    try:
        from semantic_layer.loader import load_catalog

        from .identity import load_directory

        catalog = load_catalog(path)
        directory = load_directory(catalog, users)
    except CatalogError as exc:
        _fail(exc)
        return
    except UserError as exc:
        _fail(exc)
        return
    for w in catalog.warnings:
        typer.echo(f"warning: {w.render_both()}", err=True)
    checked = ""
    if db is not None:
        from semantic_layer.dry_run import dry_run
        from semantic_layer.engine import DuckDBEngine

        try:
            issues, count = dry_run(catalog, DuckDBEngine(db))
        except UserError as exc:
            _fail(exc)
            return
        if issues:
            for i in issues:
                typer.echo(f"  - {i.render_both()}", err=True)
            raise typer.Exit(1)
        checked = f", {count} 条试运行查询通过 / {count} dry-run queries passed"
    typer.echo(f"指标目录有效 / catalog is valid: {len(catalog.models)} models, {len(catalog.metrics)} metrics, "
               f"{len(catalog.policy.row_rules)} row rules, {len(directory.users)} users{checked}")


@app.command("metrics")
def list_metrics(
    lang: str = typer.Option("zh", "--lang", help="zh | en"),
    catalog_dir: Optional[Path] = CatalogOption,
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """List the metric catalog / 列出指标目录."""
    from semantic_layer.lineage import formula
    from semantic_layer.loader import load_catalog

    try:
        catalog = load_catalog(catalog_dir)
    except CatalogError as exc:
        _fail(exc)
        return
    rows = [
        {"name": m.name, "label": m.label.get(lang), "synonyms": m.synonyms.zh if lang == "zh" else m.synonyms.en,
         "formula": formula(m), "description": m.description.get(lang) if m.description else ""}
        for m in catalog.metrics.values() if "helper" not in m.tags
    ]
    if as_json:
        _print_json(rows)
        return
    for r in rows:
        typer.echo(f"{r['name']:<22} {r['label']}  —  {r['description']}\n{'':<22} {r['formula']}")


def _read_query(path: Path) -> Any:
    from pydantic import ValidationError

    from semantic_layer.query import SemanticQuery

    try:
        return SemanticQuery.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValidationError) as exc:
        _fail(UserError(222, f"无法读取语义查询 {path}: {exc}", f"cannot read semantic query {path}: {exc}"), 2)


@app.command()
def sql(
    query_file: Path = typer.Argument(..., help="semantic query JSON / 语义查询 JSON 文件"),
    as_of: Optional[str] = typer.Option("2025-12-31", "--as-of", help="as-of date for relative ranges"),
    dialect: str = typer.Option("duckdb", "--dialect", help="target SQL dialect"),
    catalog_dir: Optional[Path] = CatalogOption,
) -> None:
    """Print the SQL compiled from a semantic query / 打印编译后的 SQL."""
    from semantic_layer.compiler import compile_query
    from semantic_layer.loader import load_catalog

    try:
        compiled = compile_query(_read_query(query_file), load_catalog(catalog_dir),
                                 as_of=_as_of(as_of) or dt.date.today(), dialect=dialect)
    except UserError as exc:
        _fail(exc)
        return
    typer.echo(compiled.sql)


@app.command()
def query(
    query_file: Path = typer.Argument(..., help="semantic query JSON / 语义查询 JSON 文件"),
    db: Path = DbOption,
    as_of: Optional[str] = AsOfOption,
    lang: str = typer.Option("zh", "--lang"),
    catalog_dir: Optional[Path] = CatalogOption,
    user: Optional[str] = UserOption,
) -> None:
    """Run a semantic query and print the answer JSON / 执行语义查询."""
    from .identity import resolve_user
    from .service import ChatBI

    try:
        bi = ChatBI(db, catalog_dir=catalog_dir, as_of=_as_of(as_of))
        answer = bi.run(_read_query(query_file), lang=lang, access=bi.access_for(resolve_user(bi.catalog, user)))
    except UserError as exc:
        _fail(exc)
        return
    _print_json(answer.to_json())
    if answer.status == "error":
        raise typer.Exit(1)


@app.command()
def ask(
    question: str = typer.Argument(..., help="a question in Chinese or English / 中文或英文问题"),
    as_json: bool = typer.Option(False, "--json", help="print the answer JSON (DESIGN §5)"),
    db: Path = DbOption,
    as_of: Optional[str] = AsOfOption,
    session: Optional[str] = typer.Option(None, "--session", help="conversation id for follow-ups / 会话 ID"),
    lang: Optional[str] = typer.Option(None, "--lang", help="zh | en (default: the question's language)"),
    catalog_dir: Optional[Path] = CatalogOption,
    report: Optional[Path] = typer.Option(
        None, "--report", help="also write a one-page HTML report (chart, table, narrative, suggestions, "
        "definitions) / 同时生成 HTML 报告"),
    user: Optional[str] = UserOption,
) -> None:
    """Ask a question / 提问."""
    from .identity import resolve_user
    from .service import Answer, ChatBI
    from .session import SessionStore

    bi: Optional[ChatBI] = None  # kept for --report's column labels
    try:
        bi = ChatBI(db, catalog_dir=catalog_dir, as_of=_as_of(as_of))
        principal = resolve_user(bi.catalog, user)
        store = SessionStore()
        state = store.load(session) if session else None
        answer = bi.ask(question, session=state, lang=lang, user=principal)
        if state is not None:
            store.save(state)
    except UserError as exc:
        answer = Answer("error", question, lang or "zh", message=exc.message(lang or "zh"),
                        candidates=list(exc.suggestions), error_code=exc.code)
    if as_json:
        _print_json(answer.to_json())
    else:
        _print_answer(answer)
    if report is not None:
        _write_report(answer, report, bi)
    if answer.status == "error":
        raise typer.Exit(1)


def _write_report(answer: Any, path: Path, bi: Any) -> None:
    """The --report file; labels and formats come from the answer's compiled columns."""
    from .report import write_report

    columns: tuple[Any, ...] = ()
    if bi is not None and answer.status == "ok":
        try:
            columns = bi.output_columns(answer)
        except UserError:
            columns = ()
    try:
        write_report(answer, path, columns)
    except OSError as exc:
        _fail(UserError(224, f"无法写入报告 {path}: {exc}", f"cannot write report {path}: {exc}"), 1)
    typer.echo(f"报告已写入 / report written: {path}", err=True)


@app.command("eval")
def evaluate(
    suite: Path = typer.Argument(..., help="golden suite YAML / 黄金测试集"),
    db: Path = DbOption,
    as_of: Optional[str] = AsOfOption,
    catalog_dir: Optional[Path] = CatalogOption,
    show: str = typer.Option("all", "--show", help="all | failures"),
) -> None:
    """Run a golden suite and print per-case results and accuracy / 运行黄金测试集."""
    from pydantic import ValidationError

    from .evaluate import load_suite, run_suite
    from .service import ChatBI

    try:
        cases = load_suite(suite)
    except (OSError, ValidationError, ValueError) as exc:
        _fail(UserError(223, f"无法读取测试集 {suite}: {exc}", f"cannot read suite {suite}: {exc}"), 2)
        return
    try:
        bi = ChatBI(db, catalog_dir=catalog_dir, as_of=_as_of(as_of))
    except UserError as exc:
        _fail(exc)
        return
    report = run_suite(cases, bi, db)
    for line in report.lines():
        if show == "all" or not line.startswith("PASS"):
            typer.echo(line)
    if report.accuracy < 1.0:
        raise typer.Exit(1)


#: Streamlit flags for serving (NOTES: production flags); the address comes from --host.
SERVE_FLAGS = {
    "server.headless": "true",
    "server.fileWatcherType": "none",
    "server.runOnSave": "false",
    "client.toolbarMode": "viewer",
    "client.showErrorDetails": "type",
    "browser.gatherUsageStats": "false",
}


LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def is_loopback(host: str) -> bool:
    """True for an address only this machine reaches (127.0.0.0/8, ::1, localhost); anything else is shared.

    >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("0.0.0.0"), is_loopback("example.com")
    (True, True, False, False)
    """
    import ipaddress

    if host.strip().lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost: possibly reachable by others


def serve_command(db: Path, port: int, host: str, user: Optional[str], catalog_dir: Optional[Path],
                  suite: Optional[Path], lang: str) -> tuple[list[str], dict[str, str]]:
    """The ``streamlit run`` argv and environment ``chatbi serve`` executes.

    Who the app serves: ``CHATBI_USER`` for ``--user``; otherwise, on a loopback
    address only, ``CHATBI_LOCAL_OPERATOR=1`` (the local operator, an admin).
    Off loopback without ``--user`` neither is set, so visitors must sign in
    (OIDC, configured in ``.streamlit/secrets.toml``). Inherited values of
    either variable are dropped: this decision is the only one.
    """
    app_file = Path(__file__).resolve().parent.parent / "ui" / "app.py"
    argv = [sys.executable, "-m", "streamlit", "run", str(app_file),
            "--server.address", host, "--server.port", str(port)]
    for key, value in SERVE_FLAGS.items():
        argv += [f"--{key}", value]
    drop = {"CHATBI_USER", "CHATBI_LOCAL_OPERATOR", "CHATBI_ROLE"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update({"CHATBI_DB": str(db.resolve()), "CHATBI_LANG": lang})
    if user:
        env["CHATBI_USER"] = user
    elif is_loopback(host):
        env["CHATBI_LOCAL_OPERATOR"] = "1"
    if catalog_dir is not None:
        env["CHATBI_CATALOG"] = str(catalog_dir.resolve())
    if suite is not None:
        env["CHATBI_SUITE"] = str(suite.resolve())
    return argv, env


def _check_user(user: str, catalog_dir: Optional[Path]) -> None:
    """Exit 2 unless ``user`` is in the user directory, naming the closest ids (did you mean)."""
    from semantic_layer.loader import load_catalog

    from .identity import resolve_user

    try:
        resolve_user(load_catalog(catalog_dir), user)
    except UserError as exc:
        hint = ", ".join(exc.suggestions) if exc.code == 230 else ""
        typer.echo(f"{exc}\n  您是不是要找 / did you mean: {hint}" if hint else str(exc), err=True)
        raise typer.Exit(2) from exc


@app.command()
def serve(
    db: Path = DbOption,
    port: int = typer.Option(8501, "--port", min=1, max=65535, help="port / 端口"),
    host: str = typer.Option("127.0.0.1", "--host", help="address to listen on (default: this machine only)"),
    user: Optional[str] = typer.Option(
        None, "--user",
        help="serve every session as this user id from users.yaml; without it a loopback address serves the "
             "local operator (admin) and any other address needs OIDC sign-in (.streamlit/secrets.toml) / 用户"),
    catalog_dir: Optional[Path] = CatalogOption,
    suite: Optional[Path] = typer.Option(None, "--suite", help="golden suite the Admin page runs and promotes to"),
    lang: str = typer.Option("zh", "--lang", help="default UI language zh | en"),
) -> None:
    """Serve the web app (chat, metric catalog, admin, data) / 启动网页应用."""
    if lang not in ("zh", "en"):
        _fail(UserError(225, f"--lang 只能是 zh 或 en, 收到 '{lang}'", f"--lang must be zh or en, got '{lang}'"), 2)
    if user:
        _check_user(user, catalog_dir)  # an unknown id stops here, not at the first visitor
    if not db.exists():
        from warehouse.demo import build_demo

        typer.echo(f"找不到 {db}, 正在生成演示数仓 / {db} not found, building the demo warehouse…")
        build_demo(db)
    argv, env = serve_command(db, port, host, user, catalog_dir, suite, lang)
    if user:
        who = f"user={user}"
    elif "CHATBI_LOCAL_OPERATOR" in env:
        who = "local operator (admin) / 本机操作员"
    else:
        who = "sign-in required: OIDC in .streamlit/secrets.toml, or --user / 需要登录"
    typer.echo(f"ChatBI → http://{host}:{port}  ({who}, db={db})")
    sys.stdout.flush()
    os.execve(argv[0], argv, env)  # Streamlit takes over this process: signals reach it directly


def _print_answer(answer: Any) -> None:
    if answer.status != "ok":
        typer.echo(f"[{answer.status}] {answer.message}")
        for c in answer.candidates:
            typer.echo(f"  · {c}")
        return
    typer.echo(answer.narrative)
    typer.echo("")
    typer.echo(" | ".join(answer.columns))
    for row in answer.rows[:50]:
        typer.echo(" | ".join("" if v is None else (f"{v:,.2f}" if isinstance(v, float) else str(v)) for v in row))
    if len(answer.rows) > 50:
        typer.echo(f"… {len(answer.rows) - 50} more rows")
    typer.echo("")
    for line in answer.clauses:
        typer.echo(f"· {line}")
    for d in answer.definitions:
        typer.echo(f"· {d['label']} = {d['formula']}")


def _mount_clv() -> None:
    try:
        from metrics.clv_cli import clv_app
    except ImportError:  # pragma: no cover - the CLV module ships with the package
        return
    app.add_typer(clv_app, name="clv", help="CLV models on your own transactions / 客户终身价值模型")


_mount_clv()


def _mount_import() -> None:
    try:
        from ingest.cli import import_command
    except ImportError:  # pragma: no cover - the ingest package ships with the package
        return
    app.command("import")(import_command)


_mount_import()


def main() -> None:  # pragma: no cover
    app(prog_name="chatbi")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
