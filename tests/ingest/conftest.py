"""Fixtures for the importer: the messy demo export and its import (built once), and a PostgreSQL server.

``pg_url`` is ``$CHATBI_TEST_PG_URL`` when set; otherwise a throwaway cluster is
started with the machine's ``initdb``/``pg_ctl`` on a Unix socket in a temp
folder (no TCP). Only when neither is possible — no server reachable — do the
PostgreSQL tests skip.
"""

from __future__ import annotations

import datetime as dt
import glob
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

TODAY = dt.date(2026, 6, 30)  # fixed "import day": the future-date rule must not move with the clock


@pytest.fixture(scope="session")
def dirty_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ingest.dirty import write_dirty

    folder = tmp_path_factory.mktemp("dirty")
    write_dirty(folder, seed=7)
    return folder


@pytest.fixture(scope="session")
def manifest(dirty_dir: Path) -> dict:
    return json.loads((dirty_dir / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def dirty_files(dirty_dir: Path) -> list[str]:
    return sorted(glob.glob(str(dirty_dir / "*.csv")) + glob.glob(str(dirty_dir / "*.xlsx")))


@pytest.fixture(scope="session")
def dirty_import(dirty_dir: Path, dirty_files: list[str]):
    """Suggested mapping, saved and loaded back, then imported: what a user does with the defaults."""
    from ingest import import_sources, load_mapping, save_mapping, suggest_mapping

    path = save_mapping(suggest_mapping(dirty_files, relative_to=dirty_dir), dirty_dir / "mapping.yaml")
    return import_sources(load_mapping(path), dirty_dir / "shop.duckdb", base_dir=dirty_dir, today=TODAY)


@pytest.fixture(scope="session")
def report(dirty_import):
    return dirty_import.report


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


@pytest.fixture(scope="session")
def pg_url():
    psycopg = pytest.importorskip("psycopg", reason="psycopg not installed: pip install 'chatbi[postgres]'")
    url = os.environ.get("CHATBI_TEST_PG_URL")
    if url:
        yield url
        return
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("no PostgreSQL server reachable: set CHATBI_TEST_PG_URL or install postgresql")
    base = Path(tempfile.mkdtemp(prefix="chatbi-pg-"))  # short: a socket path must stay under ~100 bytes
    run_as: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root
        shutil.chown(base, "postgres", "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    data, port = base / "data", "54329"
    try:
        subprocess.run([*run_as, initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                        "--locale=C"], check=True, capture_output=True, timeout=120)
        subprocess.run([*run_as, pg_ctl, "-D", str(data), "-l", str(base / "log"), "-w", "-t", "60", "-o",
                        f"-k {base} -c listen_addresses='' -p {port}", "start"], check=True, capture_output=True,
                       timeout=120)
    except (OSError, subprocess.SubprocessError) as exc:
        shutil.rmtree(base, ignore_errors=True)
        pytest.skip(f"no PostgreSQL server reachable (could not start one: {exc})")
    url = f"postgresql://postgres@/postgres?host={base}&port={port}"
    try:
        with psycopg.connect(url, connect_timeout=10):
            pass
        yield url
    finally:
        subprocess.run([*run_as, pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"], check=False,
                       capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)
