"""Target SQL dialects: the date, interval and aggregate nodes the compiler builds for each.

The compiler builds its tree for one target dialect and renders it once; it
never transpiles DuckDB text after the fact (shared/NOTES.md: transpiling is
best-effort and can emit invalid SQL silently). Two things differ per dialect:

- nodes the compiler makes itself (month truncation, period arithmetic, month
  differences): built here per dialect. For DuckDB they are exactly the nodes
  the compiler always built, so the DuckDB golden SQL does not move;
- catalog snippets, written in DuckDB syntax and parsed with ``read="duckdb"``
  into typed sqlglot nodes: ``adapt`` rewrites the typed nodes whose rendering
  in the target would change their meaning or not exist (DuckDB counts month
  *boundaries* in ``date_diff('month', …)``, Spark's ``DATEDIFF(MONTH, …)``
  counts whole months; PostgreSQL has no ``arg_min``).

Executable targets (an engine adapter exists and the metric-equivalence suite
runs on it): DuckDB, PostgreSQL, Spark SQL. Trino, Snowflake and BigQuery are
rendered and golden-tested as SQL only.
"""

from __future__ import annotations

from sqlglot import exp

#: Dialect names as sqlglot spells them; aliases users may write in config.
DIALECTS: tuple[str, ...] = ("duckdb", "postgres", "spark", "trino", "snowflake", "bigquery")
EXECUTABLE: frozenset[str] = frozenset({"duckdb", "postgres", "spark"})
_ALIASES = {"postgresql": "postgres", "pg": "postgres", "sparksql": "spark", "spark_sql": "spark",
            "databricks": "spark", "presto": "trino"}

#: Period lengths where a dialect has no interval of that unit (PostgreSQL has no QUARTER interval).
_PERIOD = {"day": ("1", "DAY"), "week": ("7", "DAY"), "month": ("1", "MONTH"), "quarter": ("3", "MONTH"),
           "year": ("1", "YEAR")}


def normalise_dialect(name: str) -> str:
    """The sqlglot name of a supported dialect.

    >>> normalise_dialect("PostgreSQL"), normalise_dialect("spark")
    ('postgres', 'spark')
    """
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key not in DIALECTS:
        raise ValueError(f"unsupported SQL dialect {name!r}; supported: {', '.join(DIALECTS)}")
    return key


def date_trunc(grain: str, expr: exp.Expression, dialect: str) -> exp.Expression:
    """The first day of ``expr``'s ``grain`` period, as a DATE.

    >>> date_trunc("month", exp.column("d"), "duckdb").sql("duckdb")
    "CAST(DATE_TRUNC('month', d) AS DATE)"
    >>> date_trunc("month", exp.column("d"), "spark").sql("spark")
    "CAST(TRUNC(d, 'MONTH') AS DATE)"
    """
    if dialect == "duckdb":
        trunc: exp.Expression = exp.Anonymous(this="date_trunc", expressions=[exp.Literal.string(grain), expr])
    else:
        trunc = exp.DateTrunc(unit=exp.Literal.string(grain.upper()), this=expr)
    return exp.cast(trunc, exp.DataType.Type.DATE)


def add_period(expr: exp.Expression, grain: str, dialect: str) -> exp.Expression:
    """``expr`` plus one ``grain`` period, as a DATE.

    >>> add_period(exp.column("p"), "quarter", "postgres").sql("postgres")
    "CAST(p + INTERVAL '3 MONTH' AS DATE)"
    """
    count, unit = ("1", grain.upper()) if dialect == "duckdb" else _PERIOD[grain]
    interval = exp.Interval(this=exp.Literal.string(count), unit=exp.var(unit))
    return exp.cast(exp.Add(this=expr, expression=interval), exp.DataType.Type.DATE)


def date_diff(unit: str, start: exp.Expression, end: exp.Expression, dialect: str) -> exp.Expression:
    """Number of ``unit`` boundaries from ``start`` to ``end`` (DuckDB's ``date_diff`` semantics).

    >>> date_diff("month", exp.column("a"), exp.column("b"), "duckdb").sql("duckdb")
    "DATE_DIFF('month', a, b)"
    >>> date_diff("day", exp.column("a"), exp.column("b"), "postgres").sql("postgres")
    '(CAST(b AS DATE) - CAST(a AS DATE))'
    """
    if dialect == "duckdb":
        return exp.Anonymous(this="date_diff", expressions=[exp.Literal.string(unit), start, end])
    return _typed_diff(unit.lower(), start, end, dialect)


def _typed_diff(unit: str, start: exp.Expression, end: exp.Expression, dialect: str) -> exp.Expression:
    if unit in ("month", "quarter", "year") and dialect in ("postgres", "spark"):
        # Boundaries, not elapsed whole units: 2025-01-31 → 2025-02-01 is one month.
        def part(name: str, e: exp.Expression) -> exp.Expression:
            return exp.Extract(this=exp.var(name.upper()), expression=e.copy())

        years = exp.Sub(this=part("year", end), expression=part("year", start))
        if unit == "year":
            return exp.cast(exp.paren(years), exp.DataType.Type.BIGINT)
        months = exp.Add(this=exp.Mul(this=exp.paren(years), expression=exp.Literal.number(12)),
                         expression=exp.paren(exp.Sub(this=part("month", end), expression=part("month", start))))
        if unit == "quarter":  # quarter index difference, from the quarters' first months
            q = lambda e: exp.Add(this=exp.Mul(this=part("year", e), expression=exp.Literal.number(4)),  # noqa: E731
                                  expression=exp.Extract(this=exp.var("QUARTER"), expression=e.copy()))
            return exp.cast(exp.Sub(this=q(end), expression=exp.paren(q(start))), exp.DataType.Type.BIGINT)
        return exp.cast(months, exp.DataType.Type.BIGINT)
    if unit == "day" and dialect == "postgres":  # date − date is a whole number of days
        return exp.paren(exp.Sub(this=exp.cast(end, exp.DataType.Type.DATE),
                                 expression=exp.cast(start, exp.DataType.Type.DATE)))
    return exp.DateDiff(this=end, expression=start, unit=exp.var(unit.upper()))


def adapt(tree: exp.Expression, dialect: str) -> exp.Expression:
    """A tree parsed from DuckDB-syntax catalog SQL, with nodes rewritten for ``dialect``.

    DuckDB: unchanged (the same object). Others: ``date_diff`` with DuckDB's
    boundary semantics, ``arg_min``/``arg_max`` where the target lacks them.

    >>> import sqlglot
    >>> t = sqlglot.parse_one("date_diff('month', a, b)", read="duckdb")
    >>> adapt(t, "spark").sql("spark")
    'CAST((EXTRACT(YEAR FROM b) - EXTRACT(YEAR FROM a)) * 12 + (EXTRACT(MONTH FROM b) - EXTRACT(MONTH FROM a)) AS BIGINT)'
    """
    if dialect == "duckdb":
        return tree
    return tree.transform(lambda node: _adapt_node(node, dialect))


def _adapt_node(node: exp.Expression, dialect: str) -> exp.Expression:
    if isinstance(node, exp.DateDiff):
        unit = node.args.get("unit")
        name = (unit.name if unit is not None else "day").lower()
        return _typed_diff(name, node.expression.copy(), node.this.copy(), dialect)
    if isinstance(node, exp.Anonymous) and node.name.lower() in ("date_diff", "datediff") \
            and len(node.expressions) == 3 and isinstance(node.expressions[0], exp.Literal):
        unit_arg, start, end = node.expressions
        return _typed_diff(unit_arg.name.lower(), start.copy(), end.copy(), dialect)
    if isinstance(node, (exp.ArgMin, exp.ArgMax)) and dialect == "postgres":
        # (ARRAY_AGG(value ORDER BY key [DESC]))[1]: the value at the smallest (largest) key.
        desc = isinstance(node, exp.ArgMax)
        ordered = exp.Order(expressions=[exp.Ordered(this=node.expression.copy(), desc=desc, nulls_first=False)])
        agg = exp.ArrayAgg(this=exp.Order(this=node.this.copy(), expressions=ordered.expressions))
        return exp.Bracket(this=exp.paren(agg), expressions=[exp.Literal.number(1)], offset=1)
    return node
