"""Golden compiled SQL per target dialect: tests/golden/<dialect>/<case>.sql.

The same cases as tests/semantic_layer/test_compiler_golden.py (whose DuckDB
files stay in tests/golden/), compiled *for* each dialect — the tree is built
per dialect, not transpiled from the DuckDB text. PostgreSQL and Spark SQL are
also executed by the equivalence suite; Trino, Snowflake and BigQuery are
rendered only, so their goldens must at least parse back in their dialect.
Written only by ``pytest --update-golden``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from semantic_layer.compiler import compile_query
from semantic_layer.dialects import DIALECTS
from semantic_layer.query import SemanticQuery

from .conftest import AS_OF, load_test_module

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
CASES = load_test_module("semantic_layer/test_compiler_golden.py").CASES
TARGETS = [d for d in DIALECTS if d != "duckdb"]
PARAMS = [(d, c, q) for d in TARGETS for c, q in CASES]


@pytest.mark.parametrize("dialect,case,query", PARAMS, ids=[f"{d}-{c}" for d, c, _ in PARAMS])
def test_golden_sql(dialect: str, case: str, query: dict, catalog, update_golden: bool) -> None:
    compiled = compile_query(SemanticQuery.model_validate(query), catalog, as_of=AS_OF, dialect=dialect)
    reparsed = sqlglot.parse_one(compiled.sql, read=dialect)
    assert isinstance(reparsed, (exp.Select, exp.SetOperation))
    header = (f"-- case: {case}\n-- dialect: {dialect}\n-- as_of: {AS_OF}\n"
              f"-- query: {json.dumps(query, ensure_ascii=False, sort_keys=True)}\n")
    text = header + compiled.sql + "\n"
    path = GOLDEN / dialect / f"{case}.sql"
    if update_golden:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {dialect}/{path.name}: run pytest --update-golden and review the diff"
    assert path.read_text(encoding="utf-8") == text


@pytest.mark.parametrize("dialect", TARGETS)
def test_no_stale_golden_files(dialect: str) -> None:
    assert {p.name for p in (GOLDEN / dialect).glob("*.sql")} == {f"{c}.sql" for c, _ in CASES}


def test_duckdb_only_constructs_do_not_leak() -> None:
    """What other engines lack never appears in their goldens (ARG_MIN, DATE_DIFF('month') on Spark …)."""
    for dialect in ("postgres", "spark"):
        for path in (GOLDEN / dialect).glob("*.sql"):
            text = path.read_text(encoding="utf-8")
            assert "REPLACE (" not in text and "DATE_DIFF(" not in text.upper(), path
            if dialect == "spark":
                assert "DATEDIFF(MONTH" not in text, path
