"""An answer as CSV written by DuckDB: the bytes ``render.rows_csv`` writes, values never fetched.

A long answer (``who``: 140 k rows of 16 columns) cost more to fetch as Python values and
write cell by cell than to compute: ~0.4 s each of a 1.1 s command. Here DuckDB writes every
line (``sql/csv_cells.sql``: one macro per kind of column) and Python joins them: the same
answer's CSV in ~0.15 s. Python builds the statement, because the cell of a column is chosen by
its type, which SQL cannot ask of a relation; and it checks the text: a value that needs
``rows_csv``'s own writing (a control character to escape, a double or a time the macros do not
write as it does: they yield a control character then) makes ``csv_text`` give None, and the
caller renders the answer's ``Rows`` as before. ``tests/test_engine_csv.py`` holds both to the
same bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from k8saudit.rows import KINDS
from k8saudit.sqlfiles import run_sql

if TYPE_CHECKING:
    from collections.abc import Mapping

    import duckdb

#: the SQL of a column's cell by its kind (``rows.KINDS``), ``{}`` its quoted name
CELLS = {
    "string": "csv_text({})",
    "integer": "CAST({} AS VARCHAR)",
    "boolean": "csv_boolean({})",
    "float": "csv_double({})",
    "timestamptz": "csv_time({})",
    "list": "csv_list({})",
}
#: the ASCII control characters (``rows_csv`` escapes every control character, and a line
#: feed in a value is one more than the lines' own)
_ASCII_CONTROLS = bytes([*range(32), 127])
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class CsvText:
    """An answer written as CSV: its column names, its number of rows and the text."""

    names: tuple[str, ...]
    height: int
    text: str

    @property
    def columns(self) -> list[str]:
        return list(self.names)


def csv_field(text: str) -> str:
    """``text`` as one CSV field: quoted when empty or holding a comma, a quote or a line break.

    >>> csv_field("kubelet"), csv_field(""), csv_field('a "b", c')
    ('kubelet', '""', '"a ""b"", c"')
    """
    if text and not any(c in text for c in ',"\n\r'):
        return text
    return '"' + text.replace('"', '""') + '"'


def csv_text(
    con: duckdb.DuckDBPyConnection,
    statement: str,
    params: Mapping[str, Any],
    rename: Mapping[str, str] | None = None,
) -> CsvText | None:
    """The result of ``statement`` (run with ``params`` over ``con``, a connection in UTC) as
    ``render.rows_csv`` writes its ``Rows``, its columns renamed by ``rename``; None when
    DuckDB cannot write it so: a column of a type ``Rows`` does not hold, no column at all, or
    a value ``rows_csv`` writes itself (the statement is then run again by the caller).

    >>> import duckdb
    >>> con = duckdb.connect()
    >>> csv_text(con, "SELECT 'a,b' AS s, 0.5::DOUBLE AS x, true AS ok", {}).text
    's,x,ok\\n"a,b",0.5,true\\n'
    >>> csv_text(con, "SELECT 'ua\\x1b' AS s", {}) is None
    True
    """
    described = con.execute(f"DESCRIBE {statement}", dict(params) or None).fetchall()
    kinds = [KINDS.get(str(kind)) for _, kind, *_ in described]
    if not described or None in kinds:
        return None
    names = tuple((rename or {}).get(name, name) for name, *_ in described)
    run_sql(con, "csv_cells")
    cells = [
        f"coalesce({CELLS[kind].format(_quoted(name))}, '')"  # type: ignore[index]
        for (name, *_), kind in zip(described, kinds, strict=True)
    ]
    line = ", ',', ".join(cells)
    result = con.execute(
        f"SELECT concat({line}) AS line FROM (\n{statement}\n)", dict(params) or None
    )
    lines = [line for (line,) in result.fetchall()]
    body = "\n".join(lines)
    if not _written_as_rows_csv_writes(body, len(lines)):
        return None
    header = ",".join(csv_field(name) for name in names)
    return CsvText(names, len(lines), f"{header}\n{body}\n" if lines else f"{header}\n")


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _written_as_rows_csv_writes(body: str, rows: int) -> bool:
    """Does ``body`` (the lines joined) hold no control character but the ``rows - 1`` line
    feeds that join them? A str of ASCII alone is checked as its bytes, at C's speed."""
    feeds = max(rows - 1, 0)
    if body.isascii():
        data = body.encode("ascii")
        return len(data) - len(data.translate(None, _ASCII_CONTROLS)) == feeds
    return body.count("\n") == feeds and _CONTROL.search(body) is None
