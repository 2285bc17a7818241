"""The internal SQL of ingest (``k8saudit/sql/*.sql``): loaded, checked and run by name.

Each file has the query library's header (``-- name:``, a description, ``-- param:`` lines;
parsed by ``query_loader.parse_query``), so a ``$name`` used but not declared, or declared but
not used, fails when the file loads, naming file and line. Steps are composed with ``compose``:
the relations a statement reads (``src``, ``events``, ``batch_rows``...) become a WITH clause in
front of it, so every step stays one file that can be run and tested on its own.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

_STATEMENT_END = re.compile(r";[ \t]*(?:\n|$)")
_PLACEHOLDER = re.compile(r"\$([A-Za-z_]\w*)")
#: ``CREATE [TEMP] TABLE name AS``: its query is what a WITH clause goes in front of
_CREATE_AS = re.compile(r"\s*CREATE\s+(?:TEMP\s+)?TABLE\s+\w+\s+AS\s+", re.IGNORECASE)


@cache
def internal_sql(name: str) -> str:
    """The SQL of ``k8saudit/sql/<name>.sql`` (its body, without the header).

    >>> internal_sql("has_access_lines").startswith("SELECT EXISTS")
    True
    """
    text = resources.files("k8saudit.sql").joinpath(f"{name}.sql").read_text()
    lines = text.splitlines()
    body = next(i for i, line in enumerate(lines) if not line.startswith("--"))
    return "\n".join(lines[body:]).strip()


def compose(statement: str, **relations: str) -> str:
    """``statement`` (SQL text of a SELECT, INSERT or ``CREATE [TEMP] TABLE name AS`` query)
    reading ``relations`` (name -> SQL), as one statement: the relations become a WITH clause,
    in the order given, in front of the query.

    >>> compose("SELECT * FROM b", a="SELECT 1 AS x", b="SELECT x FROM a")
    'WITH a AS (\\nSELECT 1 AS x\\n), b AS (\\nSELECT x FROM a\\n)\\nSELECT * FROM b'
    >>> compose("CREATE TABLE t AS SELECT * FROM a", a="SELECT 1 AS x").splitlines()[0]
    'CREATE TABLE t AS WITH a AS ('
    """
    ctes = ", ".join(f"{name} AS (\n{sql}\n)" for name, sql in relations.items())
    create = _CREATE_AS.match(statement)
    head, query = (create[0], statement[create.end() :]) if create else ("", statement)
    return f"{head}WITH {ctes}\n{query}"


def run_sql(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> list[tuple[Any, ...]]:
    """Run ``k8saudit/sql/<name>.sql`` with its parameters bound; the rows of its last statement.

    A file may hold several statements, each ending with ``;`` at the end of a line: DuckDB
    binds parameters of one statement at a time.
    """
    rows: list[tuple[Any, ...]] = []
    for statement in _STATEMENT_END.split(internal_sql(name)):
        if statement.strip():
            used = {key: params[key] for key in _PLACEHOLDER.findall(statement) if key in params}
            rows = con.execute(statement, used or None).fetchall()
    return rows


def create_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Create the shared macros (``k8saudit/sql/macros.sql``) on a DuckDB connection."""
    run_sql(con, "macros")
