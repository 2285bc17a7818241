"""The internal SQL of ingest (``k8saudit/sql/*.sql``): loaded, checked and run by name.

Each file has the query library's header (``-- name:``, a description, ``-- param:`` lines;
parsed by ``query_loader.parse_query``), so a ``$name`` used but not declared, or declared but
not used, fails when the file loads, naming file and line; a value for a parameter a file does
not declare fails when it runs. Steps are composed with the loader's ``compose``: the relations
a statement reads (``src``, ``events``, ``batch_rows``...) become a WITH clause in front of it,
so every step stays one file that can be run and tested on its own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from k8saudit.exceptions import QueryError
from k8saudit.query_loader import (
    NOT_CODE,
    PLACEHOLDER,
    Query,
    compose,
    parameters_in,
    parse_query,
)

if TYPE_CHECKING:
    import duckdb

_STATEMENT_END = re.compile(r";[ \t]*(?:\n|$)")


@cache
def internal_query(name: str) -> Query:
    """``k8saudit/sql/<name>.sql``, parsed and checked like a query of the library.

    >>> sorted(internal_query("parts_span").params)
    ['files']
    """
    text = resources.files("k8saudit.sql").joinpath(f"{name}.sql").read_text()
    return parse_query(text, f"k8saudit/sql/{name}.sql")


def internal_sql(name: str) -> str:
    """The SQL of ``k8saudit/sql/<name>.sql`` (its body, without the header).

    >>> internal_sql("has_access_lines").startswith("SELECT EXISTS")
    True
    """
    return internal_query(name).body


def variant(sql: str, suffix: str) -> str:
    """``sql`` with every parameter ``$name`` renamed ``$name_suffix`` (strings and comments
    left alone): one file read twice in one statement, each time with values of its own.

    >>> variant("SELECT $paths, '$paths' -- $paths", "gzip")
    "SELECT $paths_gzip, '$paths' -- $paths"
    """
    pieces = NOT_CODE.split(sql)
    kept = NOT_CODE.findall(sql)
    renamed = [PLACEHOLDER.sub(rf"$\1_{suffix}", piece) for piece in pieces]
    return "".join(part for pair in zip(renamed, [*kept, ""], strict=True) for part in pair)


def union_all(*relations: str) -> str:
    """One relation of the rows of every one of ``relations`` (SQL texts), matched by name.

    >>> union_all("SELECT 1 AS x", "SELECT 2 AS x")
    'SELECT * FROM (\\nSELECT 1 AS x\\n) UNION ALL BY NAME SELECT * FROM (\\nSELECT 2 AS x\\n)'
    """
    return " UNION ALL BY NAME ".join(f"SELECT * FROM (\n{sql}\n)" for sql in relations)


def run_sql(
    con: duckdb.DuckDBPyConnection,
    name: str,
    *,
    reading: Mapping[str, str] | None = None,
    **params: Any,
) -> list[tuple[Any, ...]]:
    """Run ``k8saudit/sql/<name>.sql`` with its parameters bound; the rows of its last statement.

    A file may hold several statements, each ending with ``;`` at the end of a line: DuckDB
    binds parameters of one statement at a time (a file without parameters runs as one
    script). ``reading`` names the files (relation -> file name) whose relations the last
    statement reads: they are composed in front of it and their parameters bound too
    (``access_scan`` reads ``lines``: ``log_lines``).
    """
    query = internal_query(name)
    relations = {relation: internal_query(file) for relation, file in (reading or {}).items()}
    known = set(query.params).union(*(part.params for part in relations.values()))
    unknown = sorted(set(params) - known)
    if unknown:
        raise QueryError(f"{query.path}: no parameter {unknown[0]!r}")
    if not query.params and not relations:  # nothing to bind: one script, one call into DuckDB
        return con.execute(query.body).fetchall()
    statements = [s for s in _STATEMENT_END.split(query.body) if s.strip()]
    if relations:
        statements[-1] = compose(
            statements[-1], **{relation: part.body for relation, part in relations.items()}
        )
    rows: list[tuple[Any, ...]] = []
    for statement in statements:
        used = {key: params[key] for key in parameters_in(statement) if key in params}
        rows = con.execute(statement, used or None).fetchall()
    return rows


def create_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Create the shared macros (``k8saudit/sql/macros.sql``) on a DuckDB connection."""
    run_sql(con, "macros")
