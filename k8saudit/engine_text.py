"""An answer as CSV or JSON written by DuckDB: the bytes ``render`` writes, values never fetched.

A long answer (``who``: 140 k rows of 16 columns) cost more to fetch as Python values and
write cell by cell than to compute: ~0.4 s each of a 1.1 s command in CSV. Here DuckDB writes
every line (``sql/text_cells.sql``: one macro per format and kind of column) and Python joins
them. Python builds the statement, because the cell of a column is chosen by its type, which
SQL cannot ask of a relation; and it checks the text: a value that needs ``render``'s own
writing (a control character to escape, a time the macros do not write as it does: they yield
a control character then) makes ``written_text`` give None, and the caller renders the
answer's ``Rows`` as before. ``tests/test_engine_text.py`` holds both to the same bytes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from k8saudit.rows import KINDS
from k8saudit.sqlfiles import run_sql

if TYPE_CHECKING:
    from collections.abc import Mapping

    import duckdb

#: the SQL of a column's cell by format and kind (``rows.KINDS``), ``{}`` its quoted name
CELLS = {
    "csv": {
        "string": "csv_text({})",
        "integer": "CAST({} AS VARCHAR)",
        "boolean": "text_boolean({})",
        "float": "csv_double({})",
        "timestamptz": "csv_time({})",
        "list": "csv_list({})",
    },
    "json": {
        "string": "json_text({})",
        "integer": "CAST({} AS VARCHAR)",
        "boolean": "text_boolean({})",
        "float": "json_double({})",
        "timestamptz": "json_time({})",
        "list": "json_list({})",
    },
}
#: what a NULL is written as
_NULL = {"csv": "", "json": "null"}
#: the ASCII characters each format never writes as they are: CSV every control character
#: (rows_csv escapes them; a line feed in a value is one more than the lines' own), JSON those
#: json.dumps escapes (its lines are joined by commas)
_ASCII_CONTROLS = bytes([*range(32), 127])
_JSON_CONTROLS = bytes(range(32))
_CSV_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")
_JSON_CONTROL = re.compile("[\x00-\x1f]")


@dataclass(frozen=True)
class WrittenText:
    """An answer written in the text format ``fmt``: its column names, rows and the text."""

    fmt: str
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


def written_text(
    con: duckdb.DuckDBPyConnection,
    statement: str,
    params: Mapping[str, Any],
    fmt: str,
    rename: Mapping[str, str] | None = None,
) -> WrittenText | None:
    """The result of ``statement`` (run with ``params`` over ``con``, a connection in UTC) as
    ``render`` writes its ``Rows`` in ``fmt`` (csv or json), its columns renamed by
    ``rename``; None when DuckDB cannot write it so: a column of a type ``Rows`` does not
    hold, no column at all, or a value ``render`` writes itself (the statement is then run
    again by the caller).

    >>> import duckdb
    >>> con = duckdb.connect()
    >>> written_text(con, "SELECT 'a,b' AS s, 0.5::DOUBLE AS x, true AS ok", {}, "csv").text
    's,x,ok\\n"a,b",0.5,true\\n'
    >>> written_text(con, "SELECT 'a\\"b' AS s, NULL::INTEGER AS n", {}, "json").text
    '[{"s":"a\\\\"b","n":null}]\\n'
    >>> written_text(con, "SELECT 'ua\\x1b' AS s", {}, "csv") is None
    True
    """
    described = con.execute(f"DESCRIBE {statement}", dict(params) or None).fetchall()
    kinds = [KINDS.get(str(kind)) for _, kind, *_ in described]
    if not described or None in kinds:
        return None
    names = tuple((rename or {}).get(name, name) for name, *_ in described)
    run_sql(con, "text_cells")
    cells = [
        f"coalesce({CELLS[fmt][kind].format(_quoted(name))}, '{_NULL[fmt]}')"  # type: ignore[index]
        for (name, *_), kind in zip(described, kinds, strict=True)
    ]
    if fmt == "csv":
        line = ", ',', ".join(cells)
    else:
        keys = [_literal(json.dumps(name, ensure_ascii=False) + ":") for name in names]
        members = ", ',', ".join(f"{key}, {cell}" for key, cell in zip(keys, cells, strict=True))
        line = f"'{{', {members}, '}}'"
    result = con.execute(
        f"SELECT concat({line}) AS line FROM (\n{statement}\n)", dict(params) or None
    )
    rows = result.fetchall()
    lines = map(itemgetter(0), rows)  # taken out of their rows in C, not a comprehension
    if fmt == "csv":
        body = "\n".join(lines)
        if not _csv_clean(body, len(rows)):
            return None
        header = ",".join(csv_field(name) for name in names)
        text = f"{header}\n{body}\n" if rows else f"{header}\n"
    else:
        body = ",".join(lines)
        if not _json_clean(body):
            return None
        text = f"[{body}]\n"
    return WrittenText(fmt, names, len(rows), text)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _csv_clean(body: str, rows: int) -> bool:
    """Does ``body`` (the lines joined) hold no control character but the ``rows - 1`` line
    feeds that join them? A str of ASCII alone is checked as its bytes, at C's speed."""
    feeds = max(rows - 1, 0)
    if body.isascii():
        data = body.encode("ascii")
        return len(data) - len(data.translate(None, _ASCII_CONTROLS)) == feeds
    return body.count("\n") == feeds and _CSV_CONTROL.search(body) is None


def _json_clean(body: str) -> bool:
    """Does ``body`` hold no character json.dumps escapes but quotes and backslashes?"""
    if body.isascii():
        data = body.encode("ascii")
        return len(data.translate(None, _JSON_CONTROLS)) == len(data)
    return _JSON_CONTROL.search(body) is None
