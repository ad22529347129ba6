"""The SQL guard: admit exactly one read-only query over the semantic layer's tables.

The guard parses the SQL with sqlglot, checks the whole tree against allow-lists,
qualifies every column against the catalog, caps the row count and renders the
tree again. Callers execute ``GuardedSQL.sql`` (the regenerated text), never the
string they passed in: comments are dropped, literals re-escaped, ``*`` expanded to
the catalog's columns only (so a column left out of ``schema``, e.g. PII, cannot
come back through ``SELECT *``).

Assumptions:

- ``schema`` maps every table a query may read to the columns it may read.
  Names are compared case-insensitively (DuckDB is case-insensitive even for
  quoted identifiers). Table references must be unqualified (``orders``, not
  ``main.orders`` or ``warehouse.orders``); CTE names and subquery aliases are
  resolved per scope, so a CTE only hides a table where it is visible.
- The engine adds its own limits (time, memory, external access off); the guard
  is the first of two walls, not the only one.

Error codes (all ``GuardError``, bilingual; 31x so they never collide with the
compiler's own 30x codes):

=====  ==============================================================
310    empty, too long or unparseable SQL
311    more than one statement
312    not a read-only query: writes, DDL, PRAGMA, SET, ATTACH, COPY,
       INSTALL/LOAD, transactions, any ``exp.Command``, also nested
313    forbidden function (not on the allow-list, or known dangerous)
314    unknown table (including catalog tables and qualified names)
315    unknown column, whole-row reference, or ``*`` that cannot expand
316    table function, file or remote reader, a path used as a table,
       LATERAL or UNNEST in FROM
317    LIMIT / OFFSET that is not a non-negative integer literal
318    read-only construct the guard does not admit (PIVOT, TABLESAMPLE,
       recursive CTE, placeholders, column aliases on a table, ...)
=====  ==============================================================
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import NoReturn

import sqlglot
from sqlglot import Token, TokenType, exp
from sqlglot.errors import OptimizeError, SqlglotError
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope, traverse_scope, walk_in_scope

from semantic_layer.errors import GuardError, closest, first_line

MAX_SQL_CHARS = 100_000

E_PARSE = 310
E_MULTIPLE = 311
E_NOT_READ_ONLY = 312
E_FUNCTION = 313
E_TABLE = 314
E_COLUMN = 315
E_TABLE_FUNCTION = 316
E_LIMIT = 317
E_UNSUPPORTED = 318


@dataclass(frozen=True)
class GuardedSQL:
    """A query that passed the guard; only the guard should build one.

    ``sql`` carries ``LIMIT limit``. ``probe_sql`` is the same query with
    ``LIMIT limit + 1`` when the guard's row cap (``max_rows``) was the binding
    limit, so the engine can tell whether rows were cut off; when the query's
    own LIMIT was at most ``max_rows`` it equals ``sql`` (nothing is hidden).
    """

    sql: str
    tables: frozenset[str]
    limit: int
    probe_sql: str = ""

    @property
    def capped(self) -> bool:
        """True when the row cap, not the query's own LIMIT, bounds the result."""
        return bool(self.probe_sql) and self.probe_sql != self.sql


# --- allow-lists ---------------------------------------------------------------

# Structural nodes a read-only query may contain. Every exp.Func, exp.Binary and
# exp.Unary is judged separately (functions against the lists below; operators
# are pure). Anything else is refused: an allow-list misses nothing by accident.
_ALLOWED_NODES: frozenset[type[exp.Expr]] = frozenset(
    {
        exp.Select, exp.Union, exp.Intersect, exp.Except, exp.With, exp.CTE,
        exp.Subquery, exp.From, exp.Join, exp.Where, exp.Group, exp.Having,
        exp.Order, exp.Ordered, exp.Limit, exp.LimitOptions, exp.Offset,
        exp.Qualify, exp.Window, exp.WindowSpec, exp.Column, exp.Identifier,
        exp.Table, exp.TableAlias, exp.Alias, exp.Star, exp.Literal,
        exp.Boolean, exp.Null, exp.DataType, exp.DataTypeParam, exp.Interval,
        exp.IntervalSpan, exp.Between, exp.In, exp.Distinct, exp.Tuple,
        exp.Bracket, exp.Slice, exp.Lambda, exp.Filter, exp.IgnoreNulls,
        exp.RespectNulls, exp.Var, exp.Any, exp.All, exp.Cube, exp.Rollup,
        exp.GroupingSets, exp.Values, exp.AtTimeZone, exp.Comprehension,
        exp.JSONPath, exp.JSONPathKey, exp.JSONPathRoot, exp.JSONPathSubscript,
        exp.JSONPathWildcard, exp.JSONPathSlice,
    }
)

# Statements (and statement fragments) that change or administer the database.
_WRITE_NODES: tuple[type[exp.Expr], ...] = (
    exp.DML, exp.DDL, exp.Command, exp.Pragma, exp.Set, exp.SetItem, exp.Use,
    exp.Transaction, exp.Commit, exp.Rollback, exp.Copy, exp.Attach, exp.Detach,
    exp.Install, exp.Into, exp.Returning, exp.LoadData, exp.Grant, exp.Revoke,
    exp.Analyze, exp.Cache, exp.Uncache, exp.Refresh, exp.Kill, exp.Lock,
    exp.Export, exp.Summarize, exp.Describe, exp.Show, exp.Execute, exp.Put,
    exp.Get,
)

# Functions sqlglot does not type (exp.Anonymous) must be named here. They are
# DuckDB scalar, aggregate and window functions with no side effect and no access
# to files, settings or the catalog. list_aggregate is left out on purpose: it
# calls any function named in a string argument. Typed functions (exp.Sum, exp.DateTrunc ...)
# are admitted unless listed in _DENIED_FUNC_CLASSES.
SAFE_ANONYMOUS_FUNCTIONS: frozenset[str] = frozenset(
    """
    add subtract multiply divide fdiv fmod even gamma lgamma gcd lcm
    greatest_common_divisor least_common_multiple isfinite nextafter round_even
    roundbankers signbit bit_count
    date_part datepart date_sub datesub date_diff datediff date_add date_trunc
    datetrunc age century decade era epoch_ns epoch_us isoyear julian microsecond
    millisecond nanosecond millennium days_in_month weekday yearweek
    make_timestamp_ms make_timestamptz make_time time_bucket timezone
    timezone_hour timezone_minute to_centuries to_decades to_years to_months
    to_quarters to_weeks to_hours to_minutes to_seconds to_milliseconds
    to_microseconds to_millennia try_strptime strptime strftime normalized_interval
    last_day dayname monthname now today get_current_timestamp
    arbitrary arg_max_null arg_min_null entropy favg fsum kahan_sum sumkahan
    sum_no_overflow geomean geometric_mean kurtosis_pop mad mean product
    reservoir_quantile sem weighted_avg wavg count_star rank_dense
    quantile quantile_cont quantile_disc approx_quantile median mode nth_value
    covar_pop covar_samp corr regr_avgx regr_avgy regr_sxx regr_sxy regr_syy
    strlen strip_accents prefix suffix printf ord octet_length left right
    left_grapheme right_grapheme length_grapheme substring_grapheme hamming
    jaccard jaro_similarity jaro_winkler_similarity damerau_levenshtein
    mismatches regexp_escape regexp_split_to_array regexp_matches regexp_replace
    regexp_extract regexp_extract_all regexp_full_match url_encode url_decode
    base64 md5_number hash nfc_normalize format_bytes bar like_escape
    ilike_escape not_like_escape not_ilike_escape lpad rpad repeat replace
    instr strpos position starts_with ends_with contains string_split
    str_split string_split_regex str_split_regex string_to_array translate
    nullif ifnull if mod pow power atan2 xor
    array_extract array_has array_has_any array_has_all array_indexof
    array_position array_pop_back array_pop_front array_push_back
    array_push_front array_append array_prepend array_resize array_select
    array_transform array_apply array_filter array_unique array_value
    array_where array_zip array_grade_up array_reduce
    array_slice array_contains array_to_string array_cosine_similarity
    array_distance array_inner_product array_dot_product
    list_apply list_transform list_filter list_reduce
    list_any_value list_avg list_bool_and list_bool_or list_cat list_count
    list_element list_extract list_first list_last list_has list_has_all
    list_has_any list_contains list_indexof list_position list_intersect
    list_median list_mode list_product list_resize list_reverse list_select
    list_slice list_string_agg list_sum list_unique list_where list_zip
    list_stddev_pop list_stddev_samp list_var_pop list_var_samp list_entropy
    list_histogram list_kurtosis list_skewness list_sem list_mad
    list_approx_count_distinct list_pack list_grade_up list_append
    list_prepend cardinality element_at generate_subscripts
    struct_extract struct_extract_at struct_insert struct_keys struct_values
    struct_concat row map_concat map_contains map_entries map_extract
    map_values map_extract_value
    enum_code enum_first enum_last enum_range constant_or_null equi_width_bins
    to_json json_array_length json_contains json_exists json_valid json_value
    json_quote json_extract json_extract_string json_extract_path
    json_extract_path_text json_group_array json_group_object
    """.split()
)

_DENIED_FUNC_CLASSES: frozenset[str] = frozenset(
    {
        "ReadCSV", "ReadParquet", "ToFile", "Secret", "Columns", "StarMap",
        "DynamicIdentifier", "NextValueFor", "SessionUser", "Predict",
        "GenerateEmbedding", "GenerateText", "GenerateTable", "GenerateBool",
        "GenerateDouble", "GenerateInt", "VectorSearch", "FeaturesAtTime",
        "JSONTable", "XMLTable", "OpenJSON", "Apply",
    }
)
# Typed Current* functions reveal the session (user, catalog, version); the
# clock ones are harmless.
_ALLOWED_CURRENT = frozenset(
    {"CurrentDate", "CurrentDatetime", "CurrentTime", "CurrentTimestamp",
     "CurrentTimestampLTZ", "CurrentTimezone"}
)

# Last wall: any call in the rendered SQL whose name matches is refused, whatever
# node produced it (a typed sqlglot function may render as a DuckDB name that
# reads files or settings). Example: read_csv_auto(...) or duckdb_settings(); on Spark
# reflect()/java_method() call into the JVM, on PostgreSQL lo_import() reads server files.
_DENIED_CALL = re.compile(
    r"""^(?:read_\w* | \w*_scan | glob | query | query_table | sniff_csv
      | parquet_\w* | iceberg_\w* | delta_\w* | getenv | current_setting
      | current_query | getvariable | current_(?:user|role|schemas?|database|catalog)
      | session_user | user | version | pg_\w* | duckdb_\w* | pragma_\w*
      | sqlite_\w* | postgres_\w* | mysql_\w* | has_\w*_privilege
      | \w*_description | in_search_path | txid_current | inet_\w* | nextval
      | currval | setval | setseed | write_log | sleep_ms | checkpoint
      | force_checkpoint | columns | which_secret | load_\w* | install_\w* | stats
      | json_serialize_plan | test_\w* | icu_\w*
      | reflect | try_reflect | java_method | input_file_\w* | lo_\w* | dblink\w* )$""",
    re.X,
)

# A name that looks like a path or URL: FROM 'data/x.csv' parses as a quoted
# table name, which DuckDB would read as a file.
_PATH_LIKE = re.compile(r"[/\\.:*?~]")
# Var nodes render verbatim; only plain words (MONTH, ALL, ...) are admitted.
_PLAIN_WORD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DIGITS = re.compile(r"^[0-9]+$")


# --- entry point ---------------------------------------------------------------


def guard_sql(
    sql: str,
    schema: Mapping[str, Collection[str]],
    *,
    max_rows: int = 10_000,
    dialect: str = "duckdb",
) -> GuardedSQL:
    """Check ``sql`` and return the regenerated, row-capped query to execute.

    >>> g = guard_sql("SELECT region FROM customers LIMIT 50000", {"customers": ["region"]}, max_rows=100)
    >>> g.sql, g.limit
    ('SELECT "customers"."region" AS "region" FROM "customers" AS "customers" LIMIT 100', 100)
    """
    if max_rows < 1:
        raise ValueError(f"max_rows must be >= 1, got {max_rows}")
    catalog = _normalise_schema(schema)
    root = _parse_one(sql, dialect)
    for rule in _TREE_RULES:
        rule(root, catalog)
    tables = _check_tables(root, catalog)
    root = _qualify(root, catalog, dialect)
    _check_columns(root, catalog)
    _check_nodes(root, catalog)  # qualify rewrote the tree: check it again
    return _apply_limit_and_render(root, tables, max_rows, dialect)


# --- parsing -------------------------------------------------------------------


def _normalise_schema(schema: Mapping[str, Collection[str]]) -> dict[str, tuple[str, ...]]:
    # Order matters: ``*`` expands in the order given (the table's own order).
    return {t.lower(): tuple(dict.fromkeys(c.lower() for c in cols)) for t, cols in schema.items()}


def _parse_one(sql: str, dialect: str) -> exp.Query:
    if not isinstance(sql, str) or not sql.strip():
        raise GuardError(E_PARSE, "SQL 为空。", "The SQL is empty.")
    if len(sql) > MAX_SQL_CHARS:
        raise GuardError(
            E_PARSE,
            f"SQL 过长(超过 {MAX_SQL_CHARS} 个字符)。",
            f"The SQL is too long (over {MAX_SQL_CHARS} characters).",
        )
    try:
        parsed = sqlglot.parse(sql, read=dialect)
    except (SqlglotError, RecursionError) as err:
        raise GuardError(
            E_PARSE,
            f"无法解析 SQL:{first_line(err, 200)}",
            f"The SQL could not be parsed: {first_line(err, 200)}",
        ) from None
    statements = [s for s in parsed if s is not None]
    if not statements:
        raise GuardError(E_PARSE, "SQL 中没有语句。", "The SQL holds no statement.")
    if len(statements) > 1:
        raise GuardError(
            E_MULTIPLE,
            f"只允许一条查询语句,收到 {len(statements)} 条。",
            f"Only one statement is allowed; got {len(statements)}.",
        )
    root = statements[0]
    if not isinstance(root, (exp.Select, exp.SetOperation)):
        kind = _kind(root)
        raise GuardError(
            E_NOT_READ_ONLY,
            f"只允许只读的 SELECT 查询,不允许 {kind}。",
            f"Only a read-only SELECT query is allowed, not {kind}.",
        )
    if any(not select.expressions for select in root.find_all(exp.Select)):
        raise GuardError(E_PARSE, "SELECT 没有要返回的列。", "The SELECT names no columns to return.")
    return root


def _kind(node: exp.Expr) -> str:
    if isinstance(node, exp.Command):
        return f"{node.name.upper()} (command)"
    return node.key.upper()


# --- tree rules (each walks the whole tree; adding a rule = adding a function) ---


def _check_nodes(root: exp.Query, catalog: Mapping[str, tuple[str, ...]]) -> None:
    """Every node must be admitted: writes anywhere (e.g. a DELETE in a CTE) are refused."""
    for node in root.walk():
        if isinstance(node, _WRITE_NODES):
            kind = _kind(node)
            raise GuardError(
                E_NOT_READ_ONLY,
                f"查询中包含修改或管理数据库的操作({kind}),只允许只读查询。",
                f"The query contains a statement that changes or administers the database ({kind}); only read-only queries are allowed.",
            )
        if isinstance(node, exp.Func):
            _check_function(node)
        elif isinstance(node, (exp.Binary, exp.Unary)) or type(node) in _ALLOWED_NODES:
            pass
        else:
            _unsupported(node.key.upper())
        if isinstance(node, exp.With) and node.args.get("recursive"):
            _unsupported("WITH RECURSIVE")
        if isinstance(node, exp.Var) and not _PLAIN_WORD.match(node.name):
            _unsupported(f"keyword {node.name[:40]!r}")


def _unsupported(what: str) -> NoReturn:
    raise GuardError(
        E_UNSUPPORTED,
        f"查询中使用了不支持的 SQL 结构:{what}。",
        f"The query uses an SQL construct that is not supported: {what}.",
    )


def _check_function(node: exp.Func) -> None:
    if isinstance(node, (exp.Anonymous, exp.AnonymousAggFunc, exp.CombinedAggFunc,
                         exp.ParameterizedAgg, exp.CombinedParameterizedAgg)):
        name = node.name.lower()
        if name in SAFE_ANONYMOUS_FUNCTIONS and not _DENIED_CALL.match(name):
            return
    else:
        cls = type(node).__name__
        denied = (
            cls in _DENIED_FUNC_CLASSES
            or (cls.startswith("Current") and cls not in _ALLOWED_CURRENT)
            or cls.startswith(("AI", "ML"))
        )
        if not denied:
            return
        name = node.sql_name().lower()
    raise GuardError(
        E_FUNCTION,
        f"不允许使用函数 {name}()。",
        f"The function {name}() is not allowed.",
        closest(name, SAFE_ANONYMOUS_FUNCTIONS),
    )


def _check_limits(root: exp.Query, catalog: Mapping[str, tuple[str, ...]]) -> None:
    """LIMIT and OFFSET anywhere must be plain non-negative integer literals."""
    for node in root.walk():
        if isinstance(node, exp.Fetch):
            _bad_limit("FETCH")
        if isinstance(node, exp.Limit):
            options = node.args.get("limit_options")
            if options is not None and (options.args.get("percent") or options.args.get("with_ties")):
                _bad_limit("LIMIT ... PERCENT / WITH TIES")
            _require_count(node.expression, "LIMIT")
            if node.args.get("offset") is not None:
                _require_count(node.args["offset"], "OFFSET")
        if isinstance(node, exp.Offset):
            _require_count(node.expression, "OFFSET")


def _require_count(value: exp.Expr | None, clause: str) -> int:
    if isinstance(value, exp.Literal) and not value.is_string and _DIGITS.match(value.this):
        return int(value.this)
    _bad_limit(clause)


def _bad_limit(clause: str) -> NoReturn:
    raise GuardError(
        E_LIMIT,
        f"{clause} 只能是非负整数常量。",
        f"{clause} must be a non-negative integer literal.",
    )


def _check_sources(root: exp.Query, catalog: Mapping[str, tuple[str, ...]]) -> None:
    """FROM and JOIN read named tables, subqueries or VALUES: no table functions, no paths."""
    for node in root.walk():
        if isinstance(node, (exp.From, exp.Join)):
            source = node.this
            if isinstance(source, exp.Subquery) and isinstance(source.this, exp.Query):
                continue
            if isinstance(source, exp.Values) or isinstance(source, exp.Table):
                continue
            _table_function(source.sql()[:80] if isinstance(source, exp.Expr) else "?")
        if isinstance(node, exp.Table):
            if not isinstance(node.this, exp.Identifier):
                _table_function(node.this.sql()[:80] if isinstance(node.this, exp.Expr) else "?")
            if _PATH_LIKE.search(node.name):
                _table_function(node.name[:80])
            alias = node.args.get("alias")
            if isinstance(alias, exp.TableAlias) and alias.columns:
                # customers AS c(a, b, ...) renames columns by position, so a name
                # could land on a column the schema leaves out (e.g. PII).
                _unsupported("column aliases on a table, e.g. t(a, b)")


def _table_function(what: str) -> NoReturn:
    raise GuardError(
        E_TABLE_FUNCTION,
        f"不允许读取文件、网址或表函数:{what}。只能查询语义层中的表。",
        f"Reading files, URLs or table functions is not allowed: {what}. Query the semantic layer's tables only.",
    )


_TREE_RULES = (_check_sources, _check_limits, _check_nodes)


# --- tables --------------------------------------------------------------------


def _scopes(root: exp.Query) -> list[Scope]:
    try:
        return traverse_scope(root)
    except (OptimizeError, SqlglotError) as err:
        raise GuardError(
            E_UNSUPPORTED,
            f"无法分析查询的结构:{first_line(err, 200)}",
            f"The query's structure could not be analysed: {first_line(err, 200)}",
        ) from None


def _check_tables(root: exp.Query, catalog: Mapping[str, tuple[str, ...]]) -> frozenset[str]:
    """Every table that is not a CTE visible in its scope must be in the catalog."""
    cte_refs: set[int] = set()
    for scope in _scopes(root):
        for node, source in scope.selected_sources.values():
            if isinstance(node, exp.Table) and isinstance(source, Scope):
                cte_refs.add(id(node))
    used: set[str] = set()
    for table in root.find_all(exp.Table):
        if id(table) in cte_refs:
            continue
        name = table.name.lower()
        qualified = table.args.get("db") is not None or table.args.get("catalog") is not None
        if qualified or name not in catalog:
            shown = ".".join(p.name for p in table.parts)
            raise GuardError(
                E_TABLE,
                f"未知的表:{shown}。只能查询语义层中的表(不带库名前缀)。",
                f"Unknown table: {shown}. Only the semantic layer's tables (without a schema prefix) can be queried.",
                closest(name, catalog),
            )
        used.add(name)
    return frozenset(used)


# --- columns -------------------------------------------------------------------


def _qualify(root: exp.Query, catalog: Mapping[str, tuple[str, ...]], dialect: str) -> exp.Query:
    names = _output_names(root, dialect)
    mapping: dict[str, object] = {t: {c: "UNKNOWN" for c in cols} for t, cols in catalog.items()}
    try:
        qualified = qualify(root, schema=mapping, dialect=dialect, validate_qualify_columns=True)
    except OptimizeError as err:
        message = first_line(err, 200)
        match = re.search(r"Column '([^']+)'", message)
        word = match.group(1) if match else ""
        every = {c for cols in catalog.values() for c in cols}
        raise GuardError(
            E_COLUMN,
            f"未知或无法解析的列:{word or message}。",
            f"Unknown or unresolvable column: {word or message}.",
            closest(word.lower(), every) if word else [],
        ) from None
    except SqlglotError as err:
        raise GuardError(
            E_UNSUPPORTED,
            f"无法分析查询的列:{first_line(err, 200)}",
            f"The query's columns could not be analysed: {first_line(err, 200)}",
        ) from None
    _restore_output_names(qualified, names)
    return qualified


def _leftmost_select(root: exp.Query) -> exp.Select | None:
    node: exp.Expr = root
    while isinstance(node, exp.SetOperation):
        node = node.this
    while isinstance(node, exp.Subquery):
        node = node.this
    return node if isinstance(node, exp.Select) else None


def _output_names(root: exp.Query, dialect: str) -> list[str | None]:
    """The names the user wrote for the result's columns (qualify lowercases them).

    ``SUM(amount) AS Revenue`` keeps ``Revenue``; ``COUNT(*)`` with no alias is
    named by its SQL text instead of sqlglot's ``_col_1``. Columns and stars keep
    the catalog's (lowercase) names.
    """
    select = _leftmost_select(root)
    if select is None:
        return []
    names: list[str | None] = []
    for projection in select.expressions:
        if isinstance(projection, exp.Alias):
            names.append(projection.alias)
        elif isinstance(projection, (exp.Column, exp.Star)):
            names.append(None)
        else:
            names.append(projection.sql(dialect=dialect, comments=False))
        projection.meta["chatbi_output"] = len(names) - 1
    return names


def _restore_output_names(root: exp.Query, names: list[str | None]) -> None:
    select = _leftmost_select(root)
    if select is None:
        return
    for projection in select.expressions:
        if not isinstance(projection, exp.Alias):
            continue
        index = projection.meta.get("chatbi_output", projection.this.meta.get("chatbi_output"))
        if isinstance(index, int) and index < len(names) and names[index]:
            projection.set("alias", exp.to_identifier(names[index], quoted=True))


def _check_columns(root: exp.Query, catalog: Mapping[str, tuple[str, ...]]) -> None:
    """After qualify: every column is qualified and exists in its source.

    An unqualified column that qualify left alone names a whole table row in
    DuckDB (``SELECT c FROM customers c`` returns every column of c, PII
    included); only ORDER BY references to the query's own output names may stay
    unqualified.
    """
    for whole_row in root.find_all(exp.TableColumn):
        _bad_column(whole_row.name, "指向整行数据,不允许整行引用", "refers to a whole row; whole-row references are not allowed")
    seen: set[int] = set()
    for scope in _scopes(root):
        expression = scope.expression
        named = {n.lower() for n in expression.named_selects} if isinstance(expression, exp.Query) else set()
        for node in walk_in_scope(expression):
            if isinstance(node, exp.Star) and not isinstance(node.parent, exp.Count):
                raise GuardError(
                    E_COLUMN,
                    "“*” 无法展开为语义层中的列,请写出列名。",
                    "“*” could not be expanded to the semantic layer's columns; name the columns.",
                )
            if not isinstance(node, exp.Column):
                continue
            seen.add(id(node))
            if node.args.get("db") is not None or node.args.get("catalog") is not None:
                _bad_column(node.sql(), "列名不能带库名前缀", "column names cannot carry a schema prefix")
            if node.table:
                source = _resolve(scope, node.table)
                if isinstance(source, exp.Table):
                    allowed = catalog.get(source.name.lower(), ())
                    if node.name.lower() not in allowed:
                        _bad_column(node.name, "不在语义层中", "is not in the semantic layer",
                                    closest(node.name.lower(), allowed))
                elif not isinstance(source, Scope):
                    _bad_column(node.sql(), "无法解析", "could not be resolved")
            elif not _is_output_reference(node, expression, named, scope):
                _bad_column(node.name, "无法解析(不允许整行引用)", "could not be resolved (whole-row references are not allowed)")
    for column in root.find_all(exp.Column):
        if id(column) not in seen:
            _bad_column(column.sql(), "无法解析", "could not be resolved")


def _resolve(scope: Scope | None, name: str) -> exp.Table | Scope | None:
    while scope is not None:
        source = scope.sources.get(name)
        if source is not None:
            return source if isinstance(source, (exp.Table, Scope)) else None
        scope = scope.parent
    return None


def _is_output_reference(column: exp.Column, expression: exp.Expr, named: set[str], scope: Scope) -> bool:
    """ORDER BY / DISTINCT ON naming one of the query's own outputs (``ORDER BY revenue``)."""
    name = column.name.lower()
    if name not in named or name in {s.lower() for s in scope.sources}:
        return False
    clause = column.find_ancestor(exp.Order, exp.Distinct, exp.Window, exp.Select, exp.SetOperation)
    return isinstance(clause, (exp.Order, exp.Distinct)) and clause.parent is expression


def _bad_column(name: str, why_zh: str, why_en: str, suggestions: list[str] | None = None) -> NoReturn:
    raise GuardError(
        E_COLUMN,
        f"列 {name} {why_zh}。",
        f"Column {name} {why_en}.",
        suggestions or [],
    )


# --- limit and rendering -------------------------------------------------------


def _apply_limit_and_render(
    root: exp.Query, tables: frozenset[str], max_rows: int, dialect: str
) -> GuardedSQL:
    """Cap the outermost LIMIT at ``max_rows``; never widen one the query has.

    ``Select.limit(n)`` would replace an existing LIMIT, so the minimum is taken
    by hand. Select and set operations both carry the LIMIT of the whole result.
    """
    existing = root.args.get("limit")
    own = _require_count(existing.expression, "LIMIT") if isinstance(existing, exp.Limit) else None
    effective = max_rows if own is None else min(own, max_rows)
    capped = own is None or own > max_rows
    limit_node = existing if isinstance(existing, exp.Limit) else exp.Limit()
    root.set("limit", limit_node)

    limit_node.set("expression", exp.Literal.number(effective + 1))
    probe = _render(root, dialect) if capped else ""
    limit_node.set("expression", exp.Literal.number(effective))
    sql = _render(root, dialect)
    return GuardedSQL(sql=sql, tables=tables, limit=effective, probe_sql=probe or sql)


def _render(root: exp.Query, dialect: str) -> str:
    sql = root.sql(dialect=dialect, comments=False)
    _lint_rendered(sql, dialect)
    return sql


def _lint_rendered(sql: str, dialect: str) -> None:
    """The rendered text must be one query and call no denied function."""
    tokens = list(_tokens(sql, dialect))
    if any(t.token_type == TokenType.SEMICOLON for t in tokens):
        raise GuardError(E_MULTIPLE, "只允许一条查询语句。", "Only one statement is allowed.")
    for token, following in zip(tokens, tokens[1:]):
        if following.token_type == TokenType.L_PAREN and _DENIED_CALL.match(token.text.lower()):
            raise GuardError(
                E_FUNCTION,
                f"不允许使用函数 {token.text.lower()}()。",
                f"The function {token.text.lower()}() is not allowed.",
            )
    try:
        reparsed = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except SqlglotError:
        reparsed = []
    if len(reparsed) != 1 or not isinstance(reparsed[0], (exp.Select, exp.SetOperation)):
        raise GuardError(
            E_NOT_READ_ONLY,
            "重新生成的 SQL 不是单条只读查询。",
            "The regenerated SQL is not a single read-only query.",
        )


def _tokens(sql: str, dialect: str) -> Iterator[Token]:
    yield from sqlglot.Dialect.get_or_raise(dialect).tokenize(sql)
