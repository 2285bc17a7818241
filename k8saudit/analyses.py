"""Binding and running a library query over a connection, and the analyses as Python functions.

Below ``Dataset`` and knowing nothing of it: ``run_query`` takes anything with a
``sql(query, **params)`` method (a ``Dataset`` is one) and a memo for the values that do not
change while a dataset is open (the end of the data, the audit logs' span). From each query's
header ``analysis_method`` builds a function with a real signature and docstring, which
``Dataset`` exposes as ``ds.top_talkers(...)``; nothing here is written per analysis.
"""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from k8saudit.params import Param
from k8saudit.query_loader import Query, get_query, list_queries, load_all

if TYPE_CHECKING:
    import polars as pl

    from k8saudit.engine_text import WrittenText
    from k8saudit.rows import Rows

#: Python types of the declared parameter types, for the generated signatures
PYTHON_TYPES = {
    "VARCHAR": "str | None",
    "INTEGER": "int | None",
    "BIGINT": "int | None",
    "DOUBLE": "float | None",
    "BOOLEAN": "bool | None",
    "TIMESTAMPTZ": "str | datetime | None",
    "DATE": "date | None",
    "VARCHAR[]": "list[str] | None",
    "DURATION": "str | timedelta",
    "GROUPING": "str",
}
_SHAPES = {
    "grouped": "One row per group (--by).",
    "over-time": "One row per interval and group.",
    "listing": "One row per item.",
}


class Connection(Protocol):
    """What a query runs on: ``Dataset.sql``'s and ``Dataset.query_rows``' contracts, and the
    statement it runs for a library query and the values that binds (``Dataset.statement``:
    its own, one reading the parts kept, or one reading an answer kept)."""

    def sql(self, query: str, **params: Any) -> pl.DataFrame: ...

    def query_rows(self, query: str, **params: Any) -> Rows | pl.DataFrame: ...

    def query_text(
        self, query: str, fmt: str, rename: Mapping[str, str], width: int | None, /, **params: Any
    ) -> WrittenText | None: ...

    def statement(
        self, query: Query, bound: Mapping[str, Any]
    ) -> tuple[str, Mapping[str, Any]]: ...


class _Context:
    """The values binding needs from the data, each computed once per ``memo``."""

    def __init__(self, con: Connection, memo: dict[str, Any]) -> None:
        self.con = con
        self.memo = memo

    def row(self, source: str) -> dict[str, Any]:
        if source not in self.memo:
            query = load_all()[source]
            statement, params = self.con.statement(query, query.bind({}))
            rows = self.con.query_rows(statement, **params)
            self.memo[source] = rows.row(0, named=True)
        row: dict[str, Any] = self.memo[source]
        return row

    def end(self) -> datetime | None:
        end: datetime | None = self.row("_data_end")["data_end"]
        return end


def run_query(
    con: Connection, name: str, values: Mapping[str, Any], memo: dict[str, Any]
) -> pl.DataFrame:
    """Run the library query ``name`` over ``con`` with ``values`` (strings are converted).

    ``since``/``until`` may be relative (``30m``), ``by`` a comma list and ``every`` a duration;
    the result's group column is named after the grouping (``client``, ``client,verb``).

    >>> run_query(ds, "top_talkers", {"by": "user", "limit": "5"}, {})  # doctest: +SKIP
    """
    query, bound, statement, params = _statement(con, name, values, memo)
    frame = con.sql(statement, **params)
    return frame.rename(_group_name(query, bound, frame.columns))


def run_query_rows(
    con: Connection, name: str, values: Mapping[str, Any], memo: dict[str, Any]
) -> Rows | pl.DataFrame:
    """``run_query``'s result as ``Connection.query_rows`` gives it: plain Python values, no
    polars imported, when every column is of a type ``Rows`` holds (what a command renders).

    >>> run_query_rows(ds, "top_talkers", {"limit": "5"}, {}).height  # doctest: +SKIP
    5
    """
    return _rows(con, *_statement(con, name, values, memo))


def run_query_text(
    con: Connection,
    name: str,
    values: Mapping[str, Any],
    memo: dict[str, Any],
    fmt: str,
    width: int | None = None,
) -> WrittenText | Rows | pl.DataFrame:
    """``run_query_rows``' result written by DuckDB in ``fmt`` (csv, json, markdown, or table:
    the terminal's, ``width`` columns wide; ``Connection.query_text``), or, when DuckDB cannot
    write it as ``render`` does, that result itself (so is a table of a query that names the
    columns it shows: ``-- table:``).

    >>> run_query_text(ds, "top_talkers", {"limit": "5"}, {}, "csv").height  # doctest: +SKIP
    5
    """
    query, bound, statement, params = _statement(con, name, values, memo)
    written = None
    if fmt != "table" or not query.table:
        rename = _group_name(query, bound, ["grp"])
        written = con.query_text(statement, fmt, rename, width, **params)
    return _rows(con, query, bound, statement, params) if written is None else written


def _statement(
    con: Connection, name: str, values: Mapping[str, Any], memo: dict[str, Any]
) -> tuple[Query, dict[str, Any], str, Mapping[str, Any]]:
    """The library query ``name``, its values bound over ``con``, the statement that runs it
    and the values that binds (``Connection.statement``)."""
    query = get_query(name)
    bound = bind_query(con, name, values, memo)
    return query, bound, *con.statement(query, bound)


def _rows(
    con: Connection, query: Query, bound: Mapping[str, Any], statement: str,
    params: Mapping[str, Any],
) -> Rows | pl.DataFrame:  # fmt: skip
    """``statement`` run as ``Connection.query_rows`` runs it, its group column named."""
    result = con.query_rows(statement, **params)
    return result.rename(_group_name(query, bound, result.columns))


def _group_name(query: Query, bound: Mapping[str, Any], columns: list[str]) -> dict[str, str]:
    """The renaming that names a result's group column after the grouping (``client,verb``)."""
    if query.uses_filters and "grp" in columns:
        return {"grp": ",".join(bound["by"])}
    return {}


def bind_query(
    con: Connection, name: str, values: Mapping[str, Any], memo: dict[str, Any]
) -> dict[str, Any]:
    """Every parameter of the library query ``name`` as it binds over ``con`` (relative times
    counted back from the data's end, computed parameters computed).

    >>> bind_query(ds, "top_talkers", {"since": "30m"}, {})["since"]  # doctest: +SKIP
    datetime.datetime(2019, 2, 4, 11, 34, 59, 987375, tzinfo=datetime.timezone.utc)
    """
    return get_query(name).bind(values, _Context(con, memo))


def read_internal(
    con: Connection, name: str, memo: dict[str, Any], values: Mapping[str, Any] | None = None
) -> pl.DataFrame:
    """The result of a part of the library (``queries/_info_span.sql``...) with ``values``
    bound to the parameters it declares (none: their defaults).

    >>> read_internal(ds, "_filter_values", {}, {"column": "verb"})  # doctest: +SKIP
    """
    query = load_all()[name]
    statement, params = con.statement(query, query.bind(values or {}, _Context(con, memo)))
    return con.sql(statement, **params)


def library_frame() -> pl.DataFrame:
    """The query library as a table: each analysis's name, shape, chart, parameters and
    whole description (what ``k8saudit queries`` lists).

    >>> library_frame().columns
    ['name', 'shape', 'chart', 'parameters', 'description']
    """
    import polars as pl

    rows = [
        {
            "name": q.name,
            "shape": q.shape,
            "chart": q.chart,
            "parameters": ", ".join(p.name for p in q.options),
            "description": q.description,
        }
        for q in list_queries()
    ]
    columns = ("name", "shape", "chart", "parameters", "description")
    return pl.DataFrame(rows, schema=dict.fromkeys(columns, pl.String))


def analysis_names() -> list[str]:
    """The names of the analyses, as methods and shortcuts have them.

    >>> "top_talkers" in analysis_names()
    True
    """
    return [q.name for q in list_queries()]


def analysis_method(name: str) -> Callable[..., pl.DataFrame]:
    """The ``Dataset`` method of the analysis ``name``: its signature and help from the header.

    >>> import inspect
    >>> list(inspect.signature(analysis_method("timeline")).parameters)[:5]
    ['self', 'by', 'every', 'limit', 'since']
    """
    query = get_query(name)
    if query.path not in _METHODS:
        _METHODS[query.path] = _build_method(query)
    return _METHODS[query.path]


#: generated methods by query file: a library's files are loaded once, so their methods are too
_METHODS: dict[str, Callable[..., pl.DataFrame]] = {}


def _build_method(query: Query) -> Callable[..., pl.DataFrame]:
    signature = signature_of(query, first=[_SELF])

    def method(self: Any, *args: Any, **kwargs: Any) -> pl.DataFrame:
        bound = signature.bind(self, *args, **kwargs)
        values = {k: v for k, v in bound.arguments.items() if k != "self"}
        result: pl.DataFrame = self.query(query.name, **values)
        return result

    method.__name__ = method.__qualname__ = query.name
    method.__doc__ = docstring(query)
    method.__signature__ = signature  # type: ignore[attr-defined]
    return method


_SELF = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)


def signature_of(query: Query, first: list[inspect.Parameter]) -> inspect.Signature:
    """The Python signature of an analysis: its arguments (``-- arg:``; the required ones
    without a default), grouping and its own parameters by position or keyword, the common
    filters by keyword, each with its declared default.

    >>> str(signature_of(get_query("latency"), []))[:44]
    "(by: 'str' = 'client', limit: 'int | None' ="
    """
    params = list(first)
    positional = query.positional
    # after a parameter with a default (a shortcut's dataset) a required argument defaults to
    # None, and binding says it is missing
    can_require = all(p.default is inspect.Parameter.empty for p in first)
    for param in query.options:
        arg = positional.get(param.name)
        by_keyword = arg is None and param.name not in query.own and param.type != "GROUPING"
        kind = (
            inspect.Parameter.KEYWORD_ONLY
            if by_keyword
            else inspect.Parameter.POSITIONAL_OR_KEYWORD
        )
        required = arg is not None and arg.required and can_require
        default = inspect.Parameter.empty if required else param.default
        annotation = PYTHON_TYPES[param.type]
        params.append(inspect.Parameter(param.name, kind, default=default, annotation=annotation))
    return inspect.Signature(params, return_annotation="pl.DataFrame")


def docstring(query: Query) -> str:
    """The help of an analysis: its description, shape and parameters, from its header.

    >>> docstring(get_query("latency")).splitlines()[0][:40]
    'How long the API server took, per client'
    """
    lines = [textwrap.fill(query.description, 76), "", _SHAPES.get(query.shape or "", "")]
    lines += ["", "Parameters:"]
    lines += [f"    {p.name}: {_describe(p)}" for p in query.options]
    lines += ["", f"Runs {query.path}; returns a polars DataFrame."]
    return "\n".join(lines)


def _describe(param: Param) -> str:
    text = param.description or param.type.lower()
    if param.choices:
        text += " (" + ", ".join(param.choices) + ")"
    if param.default is not None:
        text += f"; default {param.default!r}"
    return text
