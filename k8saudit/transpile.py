"""DuckDB SQL to Spark SQL: sqlglot's transpiler plus the rules it does not know.

The query library stays the one source of every analysis (DESIGN.md §6a): a query written for
DuckDB runs on Spark after ``to_spark``, which parses it with sqlglot's DuckDB dialect, applies
the rewrite rules below to the tree, and writes it in the Spark dialect. Each rule is one
function with the reason in its docstring, tested on its own (tests/test_transpile.py) and by
the parity test of every analysis (tests/test_spark.py):

- the macros every DuckDB connection creates (``k8saudit/sql/macros.sql``) and the table macro
  ``observation_window`` (``k8saudit/sql/observation_window.sql``) are inlined: Spark has no macros;
- ``quantile_cont``/``median`` become Spark's exact ``percentile`` (never an approximation);
- ``time_bucket`` becomes integer arithmetic on microseconds from DuckDB's origin
  (2000-01-03, a Monday), ``epoch``/``epoch_us``/``epoch_ms`` microsecond arithmetic, and
  ``make_timestamptz`` of microseconds ``timestamp_micros``;
- ``ASOF LEFT JOIN`` becomes a join on the interval from each right row to the next;
- ``hash`` becomes ``xxhash64`` (64 bits, as DuckDB's; Spark's ``hash`` has 32) of each value and
  whether it is NULL (Spark skips NULLs, so ``(a, NULL)`` would hash as ``(NULL, a)``);
- ``histogram(x)`` becomes a map built from a grouped count joined back on the group keys,
  and the first element of an unnested list by an ORDER BY (``(SELECT e FROM (SELECT
  unnest(l) AS o) ORDER BY ... LIMIT 1)``, a correlated subquery Spark cannot run) a sort of
  the list in lambdas;
- ``list(x ORDER BY ...)`` keeps DuckDB's order, NULL values and NULL over no rows;
  ``list_slice`` becomes ``slice``, ``format('{}...')`` a ``concat`` (NULL when a value is),
  ``error`` ``raise_error``;
- ``first(x ORDER BY ...)``, list indexing, ``LIMIT NULL`` (no limit), ``HUGEINT``,
  ``MATERIALIZED`` CTEs, ``regexp_replace``'s first-match-only rule.

What has no equivalent raises ``Unportable`` with the reason (``read_parquet``: a Spark engine
reads the dataset's parts itself and registers them as the ``requests`` view).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, NamedTuple

from k8saudit.exceptions import QueryError
from k8saudit.sqlfiles import internal_sql

if TYPE_CHECKING:
    from sqlglot import exp

#: DuckDB's time_bucket origin for intervals without months: 2000-01-03 00:00:00 UTC, in
#: microseconds since the epoch
BUCKET_ORIGIN_US = 946_857_600_000_000
#: no limit (DuckDB's LIMIT NULL): Spark's LIMIT takes an INT
NO_LIMIT = 2_147_483_647

_MACRO = re.compile(
    r"CREATE\s+(?:OR\s+REPLACE\s+)?MACRO\s+(?P<name>\w+)\s*\((?P<params>[^)]*)\)\s+AS\s+"
    r"(?P<table>TABLE\s+)?(?P<body>.*)",
    re.IGNORECASE | re.DOTALL,
)
_STATEMENT_END = re.compile(r";[ \t]*(?:\n|$)")


class Unportable(QueryError):
    """SQL that has no Spark equivalent: the message names the construct and why."""


class Transpiled(NamedTuple):
    """A statement in Spark SQL and the names of the parameters it reads (``:name``)."""

    sql: str
    params: frozenset[str]


@dataclass(frozen=True)
class Macro:
    """A DuckDB macro: its parameters and its body (an expression, or a query for a table
    macro)."""

    name: str
    params: tuple[str, ...]
    body: exp.Expr
    table: bool


def to_spark(sql: str, intervals: frozenset[str] = frozenset()) -> Transpiled:
    """``sql`` (DuckDB, ``$name`` parameters) as Spark SQL (``:name`` parameters).

    ``intervals``: the parameters bound to an interval (a DURATION: ``$every``), which
    ``epoch`` and ``time_bucket`` read as lengths of time rather than instants.

    >>> to_spark("SELECT quantile_cont(latency_ms, 0.99) FROM requests LIMIT $limit").sql
    'SELECT PERCENTILE(latency_ms, 0.99) FROM requests LIMIT COALESCE(:limit, 2147483647)'
    """
    return _to_spark(sql, intervals)


@cache
def _to_spark(sql: str, intervals: frozenset[str]) -> Transpiled:
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except SqlglotError as exc:
        raise QueryError(f"cannot read the SQL for Spark: {str(exc).splitlines()[0]}") from exc
    if len(statements) != 1:
        raise QueryError("Spark runs one statement at a time")
    tree = rewrite(statements[0], intervals)
    params = frozenset(p.name for p in tree.find_all(exp.Placeholder))
    return Transpiled(tree.sql(dialect="spark"), params)


def rewrite(tree: exp.Expr, intervals: frozenset[str] = frozenset()) -> exp.Expr:
    """The rewrite pass: every rule of ``RULES``, in order, over a DuckDB syntax tree."""
    for rule in RULES:
        tree = rule(tree, intervals)
    return tree


# --- the rules -------------------------------------------------------------------------------


def inline_macros(tree: exp.Expr, intervals: frozenset[str]) -> exp.Expr:
    """Spark has no macros: each call of a k8saudit macro becomes its body with the arguments
    in place of its parameters (a table macro in FROM becomes a subquery), repeatedly, since
    macros call macros (``group_key`` calls ``group_value``)."""
    from sqlglot import exp

    known = macros()

    def expand(node: exp.Expr) -> exp.Expr:
        call = node.this if isinstance(node, exp.Table) else node
        if not isinstance(call, exp.Anonymous):
            return node
        macro = known.get(call.name.lower())
        if macro is None:
            return node
        if len(call.expressions) != len(macro.params):
            raise QueryError(
                f"{macro.name}() takes {len(macro.params)} arguments, not {len(call.expressions)}"
            )
        args = dict(zip(macro.params, call.expressions, strict=True))
        body = _substitute(macro.body.copy(), args)
        if macro.table:
            if not isinstance(node, exp.Table):
                raise QueryError(f"the table macro {macro.name}() is used as a value")
            alias = node.args.get("alias")
            return exp.Subquery(this=body, alias=alias.copy() if alias else None)
        return exp.Paren(this=body)

    for _ in range(10):  # macros nest a few levels deep at most
        before = tree.sql(dialect="duckdb")
        tree = tree.transform(expand)
        if tree.sql(dialect="duckdb") == before:
            return tree
    raise QueryError("macros nest too deep to inline")


def _substitute(body: exp.Expr, args: dict[str, exp.Expr]) -> exp.Expr:
    from sqlglot import exp

    def replace(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column) and not node.table and node.name.lower() in args:
            value = args[node.name.lower()].copy()
            simple = isinstance(value, exp.Column | exp.Literal | exp.Placeholder | exp.Null)
            return value if simple else exp.Paren(this=value)
        return node

    return body.transform(replace)


def exact_percentiles(tree: exp.Expr, intervals: frozenset[str]) -> exp.Expr:
    """``quantile_cont(x, p)`` and ``median(x)`` are DuckDB's exact, interpolated quantiles;
    sqlglot writes ``percentile_cont(x, p)``, which Spark does not take in that form. Spark's
    ``percentile(x, p)`` is the same exact, interpolated quantile."""
    from sqlglot import exp

    def replace(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.PercentileCont) and node.expression is not None:
            return exp.Anonymous(this="PERCENTILE", expressions=[node.this, node.expression])
        if isinstance(node, exp.Median):
            value = exp.Literal.number("0.5")
            return exp.Anonymous(this="PERCENTILE", expressions=[node.this, value])
        if isinstance(node, exp.Quantile | exp.PercentileDisc | exp.ApproxQuantile):
            # sqlglot writes DuckDB's quantile (discrete) as Spark's percentile (interpolated)
            raise Unportable(
                "quantile(), quantile_disc() and approx_quantile() have no equal on Spark: "
                "use quantile_cont() (exact, interpolated)"
            )
        return node

    return tree.transform(replace)


def micro_epochs(tree: exp.Expr, intervals: frozenset[str]) -> exp.Expr:
    """``epoch(x)`` is seconds as a double: of an instant since 1970, of a length of time
    (``a - b``, an interval, a DURATION parameter) its length. sqlglot writes Spark's
    ``unix_timestamp``, whole seconds of instants only. Both become microsecond arithmetic
    (``unix_micros``), exact; ``epoch_us``/``epoch_ms`` of an instant likewise, and the
    instant of a count of microseconds, ``make_timestamptz(us)``, ``timestamp_micros``."""
    from sqlglot import exp

    def replace(node: exp.Expr) -> exp.Expr:
        # the arguments first: sqlglot does not visit what a replacement holds, and these
        # nest (the epoch of a utc_bucket, itself microseconds made an instant)
        if isinstance(node, exp.TimeToUnix):
            seconds = exp.Div(
                this=exp.Paren(this=_micros(node.this.transform(replace), intervals)),
                expression=exp.Literal.number(1_000_000),
            )
            return exp.Paren(this=seconds)
        if not isinstance(node, exp.Anonymous) or len(node.expressions) != 1:
            return node
        name, argument = node.name.lower(), node.expressions[0]
        if name == "epoch_us":
            return _micros(argument.transform(replace), intervals)
        if name == "epoch_ms":
            return exp.Anonymous(this="UNIX_MILLIS", expressions=[argument.transform(replace)])
        if name == "make_timestamptz":
            return exp.Anonymous(this="TIMESTAMP_MICROS", expressions=[argument.transform(replace)])
        return node

    return tree.transform(replace)


def _micros(value: exp.Expr, intervals: frozenset[str]) -> exp.Expr:
    """Microseconds of ``value``: since the epoch for an instant, its length for a duration."""
    from sqlglot import exp

    if isinstance(value, exp.Paren):
        return _micros(value.this, intervals)
    if isinstance(value, exp.Sub):
        return exp.Sub(
            this=_micros(value.this, intervals), expression=_micros(value.expression, intervals)
        )
    if _is_interval(value, intervals):
        return _interval_micros(value)
    return exp.Anonymous(this="UNIX_MICROS", expressions=[value])


def _is_interval(value: exp.Expr, intervals: frozenset[str]) -> bool:
    from sqlglot import exp

    if isinstance(value, exp.Interval):
        return True
    return isinstance(value, exp.Placeholder) and value.name in intervals


def _interval_micros(value: exp.Expr) -> exp.Expr:
    """The length of a day-time interval in microseconds: the epoch moved by it."""
    from sqlglot import exp

    moved = exp.Add(
        this=exp.Anonymous(this="TIMESTAMP_MICROS", expressions=[exp.Literal.number(0)]),
        expression=value,
    )
    return exp.Anonymous(this="UNIX_MICROS", expressions=[moved])


def time_buckets(tree: exp.Expr, intervals: frozenset[str]) -> exp.Expr:
    """``time_bucket(width, t)``: the start of the bucket of ``t``, buckets counted from
    DuckDB's origin 2000-01-03 (which matters for widths that do not divide a day). sqlglot
    writes ``date_bin``, which Spark lacks. Integer microseconds, so no rounding:
    ``t - pmod(t - origin, width)``."""
    from sqlglot import exp

    def replace(node: exp.Expr) -> exp.Expr:
        if not isinstance(node, exp.DateBin):
            return node
        if node.args.get("zone") is not None or node.args.get("origin") is not None:
            raise Unportable("time_bucket() with an origin or time zone has no Spark rule")
        width = node.this
        if not _is_interval(width, intervals):
            raise Unportable("time_bucket() of a width that is not an interval")
        instant = exp.Anonymous(this="UNIX_MICROS", expressions=[node.expression])
        offset = exp.Anonymous(
            this="PMOD",
            expressions=[
                exp.Sub(this=instant, expression=exp.Literal.number(BUCKET_ORIGIN_US)),
                _interval_micros(width),
            ],
        )
        start = exp.Sub(this=instant.copy(), expression=offset)
        return exp.Anonymous(this="TIMESTAMP_MICROS", expressions=[start])

    return tree.transform(replace)


def asof_joins(tree: exp.Expr, intervals: frozenset[str]) -> exp.Expr:
    """``L ASOF LEFT JOIN R ON eq... AND R.t <= L.x`` pairs each left row with the right row of
    the same keys whose ``t`` is the latest at or before ``x``. Spark SQL has no ASOF join: the
    right side gets each row's next ``t`` among its keys (``lead``), and the row whose interval
    ``[t, next)`` holds ``x`` is the one (``<``: ``(t, next]``)."""
    from sqlglot import exp

    for join in list(tree.find_all(exp.Join)):
        if (join.args.get("method") or "").upper() != "ASOF":
            continue
        right = join.this
        if not isinstance(right, exp.Table) or not isinstance(right.this, exp.Identifier):
            raise Unportable("an ASOF join's right side must be a named relation")
        alias = right.alias_or_name
        keys, inequality = [], None
        for condition in _conjuncts(join.args.get("on")):
            if isinstance(condition, exp.EQ):
                mine = _side(condition, alias)
                if mine is None:
                    raise Unportable("an ASOF join's equality must name a column of each side")
                keys.append(mine)
            elif isinstance(condition, exp.LTE | exp.LT | exp.GTE | exp.GT) and inequality is None:
                inequality = condition
            else:
                raise Unportable("an ASOF join needs equalities and one inequality")
        if inequality is None:
            raise Unportable("an ASOF join without an inequality")
        # normalize to  right.t OP left.x  with OP in (<=, <)
        if isinstance(inequality, exp.GTE | exp.GT):
            flipped = exp.LTE if isinstance(inequality, exp.GTE) else exp.LT
            inequality = flipped(this=inequality.expression, expression=inequality.this)
        at = inequality.this
        if not (isinstance(at, exp.Column) and at.table == alias):
            raise Unportable("an ASOF join's inequality must read `right.t <= left.x`")
        nxt = exp.column("__asof_next", table=alias)
        window = exp.Window(
            this=exp.Anonymous(this="LEAD", expressions=[exp.column(at.name)]),
            partition_by=[exp.column(k.name) for k in keys],
            order=exp.Order(expressions=[exp.Ordered(this=exp.column(at.name))]),
        )
        inner = exp.select(exp.Star(), exp.alias_(window, "__asof_next")).from_(
            exp.Table(this=right.this.copy())
        )
        beyond = (
            exp.GT(this=nxt, expression=inequality.expression.copy())
            if isinstance(inequality, exp.LTE)
            else exp.GTE(this=nxt, expression=inequality.expression.copy())
        )
        within = exp.or_(exp.Is(this=nxt.copy(), expression=exp.Null()), beyond)
        join.set(
            "this", exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier(alias)))
        )
        join.set("on", exp.and_(join.args["on"].copy(), exp.Paren(this=within)))
        join.set("method", None)
    return tree


def _conjuncts(condition: exp.Expr | None) -> list[exp.Expr]:
    from sqlglot import exp

    if condition is None:
        return []
    if isinstance(condition, exp.Paren):
        return _conjuncts(condition.this)
    if isinstance(condition, exp.And):
        return _conjuncts(condition.this) + _conjuncts(condition.expression)
    return [condition]


def _side(condition: exp.EQ, alias: str) -> exp.Column | None:
    """The column of the relation ``alias`` in an equality of the two sides of a join."""
    from sqlglot import exp

    for mine, other in (
        (condition.this, condition.expression),
        (condition.expression, condition.this),
    ):
        ours = isinstance(mine, exp.Column) and mine.table == alias
        if ours and isinstance(other, exp.Column) and other.table != alias:
            return mine
    return None


def aggregate_orders(tree: exp.Expr, intervals: frozenset[str]) -> exp.Expr:
    """``ORDER BY count(*) FILTER (WHERE ...)`` of a grouped query: Spark resolves an
    aggregate in ORDER BY against the output columns, where the filter's columns are gone.
    Each such aggregate becomes a hidden output column of the query, ordered by outside it."""
    from sqlglot import exp

    for select in list(tree.find_all(exp.Select)):
        order = select.args.get("order")
        if order is None or not any(o.find(exp.AggFunc) for o in order.expressions):
            continue
        names = [e.alias_or_name for e in select.expressions]
        if not all(names) or "*" in names:
            raise Unportable("ORDER BY an aggregate needs every output column named")
        keys = []
        for number, ordered in enumerate(order.expressions):
            if ordered.find(exp.AggFunc) is None:
                keys.append(ordered.copy())
                continue
            hidden = f"__order_{number}"
            select.select(exp.alias_(ordered.this.copy(), hidden), copy=False)
            key = ordered.copy()
            key.set("this", exp.column(hidden))
            keys.append(key)
        limit = select.args.get("limit")
        inner = select.copy()
        ctes = inner.args.get("with_")
        for arg in ("order", "limit", "with_"):
            inner.set(arg, None)
        outer = exp.select(*[exp.column(n) for n in names]).from_(
            exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier("__ordered")))
        )
        outer.set("with_", ctes)
        outer.set("order", exp.Order(expressions=keys))
        if limit is not None:
            outer.set("limit", limit.copy())
        if select is tree:
            tree = outer
        else:
            select.replace(outer)
    return tree


def wide_hashes(tree: exp.Expr, intervals: frozenset[str]) -> exp.Expr:
    """DuckDB's ``hash(a, b...)`` is 64 bits; Spark's ``hash`` is 32 (collisions among a few
    hundred thousand series are likely) and ``xxhash64`` skips NULL values, so that
    ``(a, NULL)`` and ``(NULL, a)`` collide. Each value goes in with whether it is NULL."""
    from sqlglot import exp

    def replace(node: exp.Expr) -> exp.Expr:
        if not (isinstance(node, exp.Anonymous) and node.name.lower() == "hash"):
            return node
        values: list[exp.Expr] = []
        for value in node.expressions:
            values += [value, exp.Is(this=exp.Paren(this=value.copy()), expression=exp.Null())]
        return exp.Anonymous(this="XXHASH64", expressions=values)

    return tree.transform(replace)


def ordered_first(tree: exp.Expr, intervals: frozenset[str]) -> exp.Expr:
    """``first(x ORDER BY k1 [DESC], k2...)``: Spark's aggregates take no ORDER BY. It is
    ``min_by(x, struct(k1, k2...))`` with a DESC key negated (DESC keys must be numbers)."""
    from sqlglot import exp

    def replace(node: exp.Expr) -> exp.Expr:
        if not isinstance(node, exp.First) or not isinstance(node.this, exp.Order):
            return node
        order = node.this
        keys = []
        for ordered in order.expressions:
            key = ordered.this.copy()
            keys.append(exp.Neg(this=exp.Paren(this=key)) if ordered.args.get("desc") else key)
        return exp.Anonymous(
            this="MIN_BY",
            expressions=[order.this.copy(), exp.Anonymous(this="STRUCT", expressions=keys)],
        )

    return tree.transform(replace)


def safe_indexes(tree: exp.Expr, intervals: frozenset[str]) -> exp.Expr:
    """A DuckDB list index past the end is NULL (``group_key`` reads ``names[3]`` of a list
    of one); Spark's ``a[i]`` fails there. ``try_element_at`` is 1-based and NULL past it."""
    from sqlglot import exp

    def replace(node: exp.Expr) -> exp.Expr:
        if not isinstance(node, exp.Bracket) or len(node.expressions) != 1:
            return node
        index = node.expressions[0]
        if not (isinstance(index, exp.Literal) and not index.is_string):
            return node
        one_based = exp.Literal.number(int(index.this) + 1)
        return exp.Anonymous(this="TRY_ELEMENT_AT", expressions=[node.this, one_based])

    return tree.transform(replace)


def open_limits(tree: exp.Expr, intervals: frozenset[str]) -> exp.Expr:
    """``LIMIT $limit`` bound to NULL is no limit in DuckDB; Spark's LIMIT takes a number."""
    from sqlglot import exp

    for limit in tree.find_all(exp.Limit):
        value = limit.expression
        if isinstance(value, exp.Placeholder):
            limit.set(
                "expression", exp.func("COALESCE", value.copy(), exp.Literal.number(NO_LIMIT))
            )
    return tree


def portable_types(tree: exp.Expr, intervals: frozenset[str]) -> exp.Expr:
    """``HUGEINT`` (DuckDB's 128-bit integer) is ``DECIMAL(38, 0)`` on Spark, which has no
    128-bit integer type; ``MATERIALIZED`` CTEs are a DuckDB planner hint Spark does not parse."""
    from sqlglot import exp

    for cast in tree.find_all(exp.DataType):
        if cast.this == exp.DataType.Type.INT128:
            cast.replace(exp.DataType.build("DECIMAL(38, 0)"))
    for cte in tree.find_all(exp.CTE):
        cte.set("materialized", None)
    return tree


def first_match_replace(tree: exp.Expr, intervals: frozenset[str]) -> exp.Expr:
    """DuckDB's ``regexp_replace`` without the ``'g'`` option replaces the first match only,
    Spark's every match: the same only when the pattern is anchored (``^...`` or ``...$``)."""
    from sqlglot import exp

    for node in tree.find_all(exp.RegexpReplace):
        options = node.args.get("modifiers")
        if options is not None and "g" in options.name:
            node.set("modifiers", None)
            continue
        pattern = node.expression
        anchored = (
            isinstance(pattern, exp.Literal)
            and pattern.is_string
            and (pattern.this.startswith("^") or pattern.this.endswith("$"))
        )
        if not anchored:
            raise Unportable(
                "regexp_replace() without 'g' replaces the first match only; Spark has no such "
                "form unless the pattern is anchored (^ or $)"
            )
    return tree


def histograms(tree: exp.Expr, intervals: frozenset[str]) -> exp.Expr:
    """DuckDB's ``histogram(x)``: per group, a map from each non-NULL value of ``x`` to how
    often it occurs (NULL where there is none). Spark has no such aggregate (its
    ``histogram_numeric`` is approximate): the map is built from a grouped count of
    (group keys, ``x``), ``map_from_entries(collect_list(struct(x, count)))`` per group, joined
    back to the rest of the aggregate on the group keys (NULL-safe). The select must name
    every output, group by explicit keys and hold ``histogram(x) AS name`` as one of them."""
    from sqlglot import exp

    for select in list(tree.find_all(exp.Select)):
        found = [
            e for e in select.expressions
            if isinstance(e, exp.Alias) and _is_call(e.this, "histogram")
        ]  # fmt: skip
        calls = [
            n for n in select.find_all(exp.Anonymous)
            if _is_call(n, "histogram") and n.find_ancestor(exp.Select) is select
        ]  # fmt: skip
        if len(calls) > len(found):
            raise Unportable("histogram() is portable only as an output column of its own")
        if not found:
            continue
        group = select.args.get("group")
        keys = list(group.expressions) if group is not None and not group.args.get("all") else []
        names = [e.alias_or_name for e in select.expressions]
        plain = all(select.args.get(a) is None for a in ("having", "order", "limit", "distinct"))
        if not keys or not plain or not all(names) or "*" in names:
            raise Unportable(
                "histogram() is portable only in a SELECT ... GROUP BY explicit keys with every "
                "output named, without HAVING, ORDER BY or LIMIT"
            )
        key_names = [f"__hist_key_{i}" for i in range(len(keys))]
        main = select.copy()
        main.set("with_", None)
        main.set("expressions", [e.copy() for e in select.expressions if e not in found])
        for name, key in zip(key_names, keys, strict=True):
            main.select(exp.alias_(key.copy(), name), copy=False)
        outer = exp.Select().from_(_aliased(main, "__main"))
        outputs: list[exp.Expr] = []
        for number, (expression, name) in enumerate(zip(select.expressions, names, strict=True)):
            if expression not in found:
                outputs.append(exp.column(name, table="__main"))
                continue
            alias = f"__hist_{number}"
            counted = _histogram(select, expression.this.expressions[0], keys, key_names)
            on = exp.and_(
                *[
                    exp.NullSafeEQ(
                        this=exp.column(n, table="__main"), expression=exp.column(n, table=alias)
                    )
                    for n in key_names
                ]
            )
            outer = outer.join(_aliased(counted, alias), on=on, join_type="LEFT")
            outputs.append(exp.alias_(exp.column("__map", table=alias), name))
        outer.set("expressions", outputs)
        outer.set("with_", select.args.get("with_"))
        if select is tree:
            tree = outer
        else:
            select.replace(outer)
    return tree


def _histogram(
    select: exp.Select, value: exp.Expr, keys: list[exp.Expr], key_names: list[str]
) -> exp.Select:
    """The histogram of ``value`` per group of ``select`` (its rows and keys) as ``__map``,
    with the keys as ``key_names``."""
    from sqlglot import exp

    counts = exp.Select(
        expressions=[
            *[exp.alias_(k.copy(), n) for n, k in zip(key_names, keys, strict=True)],
            exp.alias_(value.copy(), "__value"),
            exp.alias_(exp.Count(this=exp.Star()), "__count"),
        ]
    )
    for arg in ("from_", "joins", "where", "laterals"):
        part = select.args.get(arg)
        if part is not None:
            counts.set(arg, [p.copy() for p in part] if isinstance(part, list) else part.copy())
    null = exp.Is(this=exp.Paren(this=value.copy()), expression=exp.Null())
    counts = counts.where(exp.Not(this=null))
    counts.set("group", exp.Group(expressions=[*[k.copy() for k in keys], value.copy()]))
    entries = exp.Anonymous(
        this="COLLECT_LIST",
        expressions=[exp.func("STRUCT", exp.column("__value"), exp.column("__count"))],
    )
    per_group = exp.select(
        *[exp.column(n) for n in key_names],
        exp.alias_(exp.Anonymous(this="MAP_FROM_ENTRIES", expressions=[entries]), "__map"),
    ).from_(_aliased(counts, "__counts"))
    per_group.set("group", exp.Group(expressions=[exp.column(n) for n in key_names]))
    return per_group


def _aliased(query: exp.Select, alias: str) -> exp.Subquery:
    from sqlglot import exp

    return exp.Subquery(this=query, alias=exp.TableAlias(this=exp.to_identifier(alias)))


def _is_call(node: exp.Expr, name: str) -> bool:
    from sqlglot import exp

    return isinstance(node, exp.Anonymous) and node.name.lower() == name


def first_of_unnest(tree: exp.Expr, intervals: frozenset[str]) -> exp.Expr:
    """``(SELECT e FROM (SELECT unnest(list) AS o) ORDER BY k... LIMIT 1)``: ``e`` of the first
    element of a list of the outer row, NULL for an empty list. Spark cannot run a correlated
    subquery over a generator: the list is sorted by the keys (``sort_array`` of
    ``struct(k IS NULL, k, ...)``, a DESC key negated, so DESC keys must be numbers) and ``e``
    is applied to its first element, in lambdas."""
    from sqlglot import exp

    def replace(node: exp.Expr) -> exp.Expr:
        if not isinstance(node, exp.Subquery) or not isinstance(node.this, exp.Select):
            return node
        select = node.this
        source = select.args.get("from_")
        inner = source.this if source is not None else None
        if not (isinstance(inner, exp.Subquery) and isinstance(inner.this, exp.Select)):
            return node
        unnested = inner.this.expressions
        if len(unnested) != 1 or not isinstance(unnested[0], exp.Alias):
            return node
        if not isinstance(unnested[0].this, exp.Explode | exp.Unnest):
            return node
        limit = select.args.get("limit")
        one = limit is not None and limit.expression == exp.Literal.number(1)
        others = ("where", "group", "having", "joins", "with_", "distinct")
        if not one or len(select.expressions) != 1 or any(select.args.get(a) for a in others):
            raise Unportable("a subquery over unnest() is portable only as SELECT e ... LIMIT 1")
        variable = unnested[0].alias
        listed = unnested[0].this.this
        keys: list[exp.Expr] = []
        order = select.args.get("order")
        for ordered in order.expressions if order is not None else []:
            key = ordered.this.copy()
            keys += _sort_keys(ordered, key)
        lam = exp.to_identifier(variable)
        keyed = exp.Anonymous(
            this="TRANSFORM",
            expressions=[
                listed.copy(),
                exp.Lambda(
                    this=exp.Anonymous(
                        this="STRUCT", expressions=[*keys, exp.alias_(exp.column(variable), "__v")]
                    ),
                    expressions=[lam],
                ),
            ],
        )
        first = exp.Anonymous(
            this="SLICE",
            expressions=[
                exp.Anonymous(this="SORT_ARRAY", expressions=[keyed]),
                exp.Literal.number(1),
                exp.Literal.number(1),
            ],
        )
        value = exp.Anonymous(
            this="TRANSFORM",
            expressions=[
                first,
                exp.Lambda(
                    this=exp.Dot(
                        this=exp.to_identifier("__s"), expression=exp.to_identifier("__v")
                    ),
                    expressions=[exp.to_identifier("__s")],
                ),
            ],
        )
        result = exp.Anonymous(
            this="TRANSFORM",
            expressions=[
                value,
                exp.Lambda(this=select.expressions[0].copy(), expressions=[lam.copy()]),
            ],
        )
        return exp.Anonymous(this="TRY_ELEMENT_AT", expressions=[result, exp.Literal.number(1)])

    return tree.transform(replace)


def _sort_keys(ordered: exp.Ordered, key: exp.Expr) -> list[exp.Expr]:
    """The struct fields that sort as ``ORDER BY key [DESC] [NULLS FIRST]`` (DuckDB's NULLS LAST
    by default) in an ascending sort of structs: whether it is NULL, then it (negated: DESC)."""
    from sqlglot import exp

    number = ordered.parent.expressions.index(ordered) if ordered.parent else 0
    null: exp.Expr = exp.Is(this=exp.Paren(this=key.copy()), expression=exp.Null())
    if ordered.args.get("nulls_first"):
        null = exp.Not(this=null)
    value = exp.Neg(this=exp.Paren(this=key)) if ordered.args.get("desc") else key
    return [exp.alias_(null, f"__n{number}"), exp.alias_(value, f"__k{number}")]


def full_lists(tree: exp.Expr, intervals: frozenset[str]) -> exp.Expr:
    """DuckDB's ``list(x [ORDER BY k...])`` keeps NULL values, is in the ORDER BY's order and
    is NULL over no rows; Spark's ``collect_list`` skips NULLs, keeps no order and is ``[]``
    over no rows (so ``array_to_string`` gives ``''`` for DuckDB's NULL). Each value is
    collected in a struct with the keys (``k IS NULL`` first, as NULLs sort last; a DESC key
    negated, so DESC keys must be numbers), the structs sorted, the values taken out, and an
    empty list is NULL. ``list(DISTINCT x ORDER BY x)`` likewise with ``array_distinct``."""
    from sqlglot import exp

    def replace(node: exp.Expr) -> exp.Expr:
        where = None
        if isinstance(node, exp.Filter) and isinstance(node.this, exp.ArrayAgg):
            where, call = node.expression, node.this
        elif isinstance(node, exp.ArrayAgg):  # (a FILTER is met first, with its list)
            call = node
        else:
            return node
        value, order = call.this, None
        if isinstance(value, exp.Order):
            value, order = value.this, value
        distinct = isinstance(value, exp.Distinct)
        if distinct:
            if len(value.expressions) != 1:
                raise Unportable("list(DISTINCT ...) of more than one value")
            value = value.expressions[0]
        keys: list[exp.Expr] = []
        for ordered in order.expressions if order is not None else []:
            key = ordered.this
            if distinct and key != value:
                raise Unportable("list(DISTINCT x ORDER BY y) is portable only with y = x")
            keys += _sort_keys(ordered, key.copy())
        entry = exp.Anonymous(this="STRUCT", expressions=[*keys, exp.alias_(value.copy(), "__v")])
        collected: exp.Expr = exp.Anonymous(this="COLLECT_LIST", expressions=[entry])
        if where is not None:
            collected = exp.Filter(this=collected, expression=where.copy())
        if distinct:
            collected = exp.Anonymous(this="ARRAY_DISTINCT", expressions=[collected])
        if keys:
            collected = exp.Anonymous(this="SORT_ARRAY", expressions=[collected])
        variable = exp.to_identifier("__e")
        values = exp.Anonymous(
            this="TRANSFORM",
            expressions=[
                collected,
                exp.Lambda(
                    this=exp.Dot(this=variable.copy(), expression=exp.to_identifier("__v")),
                    expressions=[variable],
                ),
            ],
        )
        return exp.Anonymous(
            this="NULLIF", expressions=[values, exp.Anonymous(this="ARRAY", expressions=[])]
        )

    return tree.transform(replace)


def list_slices(tree: exp.Expr, intervals: frozenset[str]) -> exp.Expr:
    """DuckDB's ``list_slice(l, begin, end)`` (1-based, ``end`` included) is Spark's
    ``slice(l, begin, end - begin + 1)``; portable for literal bounds, ``1 <= begin``."""
    from sqlglot import exp

    def replace(node: exp.Expr) -> exp.Expr:
        if not _is_call(node, "list_slice"):
            return node
        if len(node.expressions) != 3:
            raise Unportable("list_slice() with a step has no Spark rule")
        listed, begin, end = node.expressions
        bounds = [b for b in (begin, end) if isinstance(b, exp.Literal) and b.is_int]
        if len(bounds) != 2 or int(begin.this) < 1 or int(end.this) < 0:
            raise Unportable("list_slice() is portable with literal bounds, 1 <= begin")
        length = max(int(end.this) - int(begin.this) + 1, 0)
        return exp.Anonymous(this="SLICE", expressions=[listed, begin, exp.Literal.number(length)])

    return tree.transform(replace)


def fmt_formats(tree: exp.Expr, intervals: frozenset[str]) -> exp.Expr:
    """DuckDB's ``format('{} of {}', a, b)`` (fmt syntax; NULL when a value is NULL) is
    ``concat(CAST(a AS STRING), ' of ', CAST(b AS STRING))`` on Spark, which sqlglot writes as
    ``format_string`` (printf syntax, NULL printed as ``null``). Only ``{}`` (and ``{{``,
    ``}}``) are portable."""
    from sqlglot import exp

    def replace(node: exp.Expr) -> exp.Expr:
        if not isinstance(node, exp.Format):
            return node
        pattern = node.this
        if not (isinstance(pattern, exp.Literal) and pattern.is_string):
            raise Unportable("format() of a pattern that is not a literal")
        pieces = re.split(r"(\{\{|\}\}|\{[^{}]*\})", pattern.this)
        values = list(node.expressions)
        parts: list[exp.Expr] = []
        text = ""
        for piece in pieces:
            if piece == "{}":
                if not values:
                    raise QueryError("format() has more {} than values")
                value = values.pop(0).copy().transform(replace)  # a format() in a value
                parts += [exp.Literal.string(text)] if text else []
                parts.append(exp.Cast(this=value, to=exp.DataType.build("STRING")))
                text = ""
            elif piece.startswith("{") and piece != "{{":
                raise Unportable(f"format()'s {piece}: only {{}} is portable to Spark")
            else:
                text += {"{{": "{", "}}": "}"}.get(piece, piece)
        if values:
            raise QueryError("format() has more values than {}")
        parts += [exp.Literal.string(text)] if text or not parts else []
        return exp.Anonymous(this="CONCAT", expressions=parts)

    return tree.transform(replace)


def raised_errors(tree: exp.Expr, intervals: frozenset[str]) -> exp.Expr:
    """DuckDB's ``error(message)`` (a query refusing its values: ``inflight --every 1500ms``)
    is Spark's ``raise_error(message)``."""
    from sqlglot import exp

    def replace(node: exp.Expr) -> exp.Expr:
        if _is_call(node, "error"):
            return exp.Anonymous(this="RAISE_ERROR", expressions=list(node.expressions))
        return node

    return tree.transform(replace)


def no_file_reads(tree: exp.Expr, intervals: frozenset[str]) -> exp.Expr:
    """DuckDB's file readers (``read_parquet``, ``read_json``...) have no Spark SQL form: the
    Spark engine reads the dataset's parts itself and registers them as the ``requests``
    view, which the queries read."""
    from sqlglot import exp

    for node in tree.find_all(exp.Anonymous, exp.ReadCSV, exp.ReadParquet):
        name = node.name.lower() if isinstance(node, exp.Anonymous) else _READERS[node.key]
        if name.startswith("read_") or isinstance(node, exp.ReadCSV | exp.ReadParquet):
            raise Unportable(
                f"{name}(): files are not read by SQL on Spark; query the `requests` view"
            )
    return tree


_READERS = {"readcsv": "read_csv", "readparquet": "read_parquet"}

Rule = Callable[["exp.Expr", frozenset[str]], "exp.Expr"]

#: the rewrite pass, in order: macros first (their bodies hold what the other rules rewrite)
RULES: tuple[Rule, ...] = (
    inline_macros,
    no_file_reads,
    histograms,
    first_of_unnest,
    full_lists,
    list_slices,
    fmt_formats,
    raised_errors,
    asof_joins,
    aggregate_orders,
    exact_percentiles,
    time_buckets,
    micro_epochs,
    wide_hashes,
    ordered_first,
    safe_indexes,
    open_limits,
    portable_types,
    first_match_replace,
)


@cache
def macros() -> dict[str, Macro]:
    """The DuckDB macros of ``k8saudit/sql/macros.sql`` and the table macro of
    ``k8saudit/sql/observation_window.sql``, by name.

    >>> sorted(macros())[:3]
    ['audit_status', 'event_time', 'first_few']
    """
    import sqlglot

    found = {}
    for source in ("macros", "observation_window"):
        for statement in _STATEMENT_END.split(internal_sql(source)):
            match = _MACRO.search(statement)
            if match is None:
                continue
            params = tuple(p.strip().lower() for p in match["params"].split(",") if p.strip())
            body = sqlglot.parse_one(match["body"], read="duckdb")
            name = match["name"].lower()
            found[name] = Macro(name, params, body, bool(match["table"]))
    return found


def observation_view() -> Transpiled:
    """The Spark SQL of the ``observation`` view (``k8saudit/sql/observation.sql``, its query
    transpiled), over the ``_observed`` and ``requests`` views.

    >>> observation_view().sql.startswith("SELECT apiserver, MIN(")
    True
    """
    statement = _STATEMENT_END.split(internal_sql("observation"))[0]
    query = re.sub(r"^.*?CREATE\s+VIEW\s+observation\s+AS\s+", "", statement, flags=re.S | re.I)
    return to_spark(query)
