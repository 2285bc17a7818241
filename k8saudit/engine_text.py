"""An answer as CSV, JSON, markdown or its terminal table written by DuckDB: the bytes
``render`` writes, values never fetched.

A long answer (``who``: 140 k rows of 16 columns) cost more to fetch as Python values and
write cell by cell than to compute: ~0.4 s each of a 1.1 s command in CSV. Here DuckDB writes
every line (``sql/text_cells.sql``: one macro per format and kind of column) and Python joins
them. Python builds the statement, because the cell of a column is chosen by its type, which
SQL cannot ask of a relation; and it checks the text: a value that needs ``render``'s own
writing (a control character to escape, in markdown any character that does not print, a time
the macros do not write as it does: they yield a control character then) makes
``written_text`` give None, and the caller renders the answer's ``Rows`` as before. So does a
markdown answer with a footer (``render.footer_lines``: the window its rates divide by), which
only the aggregates have: they are short. The terminal table (``written_table``) is laid out by
``tables``' own functions from the widths DuckDB finds, its cut texts cut by them too, and its
lines padded and joined by DuckDB. ``tests/test_engine_text.py`` holds both to the same bytes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from k8saudit.params import HEADINGS
from k8saudit.rows import KINDS, NUMERIC
from k8saudit.sqlfiles import run_sql
from k8saudit.tables import (
    DECIMALS,
    EXCLUDED,
    MAX_CELL,
    REWRITTEN,
    WINDOW,
    fit,
    key_columns,
    markdown_cells,
    shorten,
    table_text,
)  # fmt: skip

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    import duckdb

#: the SQL of a value as ``tables.cell`` writes it (the terminal table's cells) by kind
#: (``rows.KINDS``), ``{}`` its column's quoted name, ``{decimals}`` those a double's column
#: needs
TABLE_CELLS = {
    "string": "{}",
    "integer": "format('{{:,}}', {})",
    "boolean": "text_boolean({})",
    "float": "cell_double({}, {decimals})",
    "timestamptz": "cell_time({})",
    "list": "cell_list({})",
}
#: the SQL of a column's cell by format and kind, as ``TABLE_CELLS``
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
    "markdown": {
        **TABLE_CELLS,
        "string": "md_text({})",
        "list": "md_text(cell_list({}))",
    },
}
#: what a NULL is written as
_NULL = {"csv": "", "json": "null", "markdown": ""}
#: the ASCII characters each format never writes as they are: CSV every control character
#: (rows_csv escapes them; a line feed in a value is one more than the lines' own), JSON every
#: one too (DuckDB's writer escapes those of a text: one left is a time's mark)
_ASCII_CONTROLS = bytes([*range(32), 127])
_JSON_CONTROLS = bytes(range(32))
#: the most different texts of a column a table cuts in DuckDB (each line looks its cut up),
#: and the most it fetches to find them (past those render cuts them: they are not cut twice)
MAX_CUTS, MAX_TEXTS = 256, 10_000
#: the characters of a text checked at once as bytes (``_ascii_held``)
_PIECE = 1 << 22
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
    ``render`` writes its ``Rows`` in ``fmt`` (csv, json or markdown), its columns renamed by
    ``rename``; None when DuckDB cannot write it so: a column of a type ``Rows`` does not
    hold, no column at all, a markdown footer, or a value ``render`` writes itself (the
    statement is then run again by the caller).

    >>> import duckdb
    >>> con = duckdb.connect()
    >>> written_text(con, "SELECT 'a,b' AS s, 0.5::DOUBLE AS x, true AS ok", {}, "csv").text
    's,x,ok\\n"a,b",0.5,true\\n'
    >>> written_text(con, "SELECT 'a\\"b' AS s, NULL::INTEGER AS n", {}, "json").text
    '[{"s":"a\\\\"b","n":null}]\\n'
    >>> print(written_text(con, "SELECT 'a|b' AS s, 2518::DOUBLE AS x", {}, "markdown").text)
    | s | x |
    |---|---:|
    | a\\|b | 2,518 |
    <BLANKLINE>
    >>> written_text(con, "SELECT 'ua\\x1b' AS s", {}, "csv") is None
    True
    """
    described = _described(con, statement, params)
    if described is None:
        return None
    columns, kinds = described
    if fmt == "markdown" and any(set(footer) <= set(columns) for footer in (WINDOW, EXCLUDED)):
        return None
    names = tuple((rename or {}).get(name, name) for name in columns)
    run_sql(con, "text_cells")
    decimals = _decimals(con, statement, params, columns, kinds) if fmt == "markdown" else {}
    cells = [
        f"coalesce({CELLS[fmt][kind].format(_quoted(name), decimals=decimals.get(name))}, "
        f"'{_NULL[fmt]}')"
        for name, kind in zip(columns, kinds, strict=True)
    ]
    if fmt == "json":
        keys = [_literal(json.dumps(name, ensure_ascii=False) + ":") for name in names]
        members = ", ',', ".join(f"{key}, {cell}" for key, cell in zip(keys, cells, strict=True))
        line = f"'{{', {members}, '}}'"
    elif fmt == "markdown":
        line = "'| ', " + ", ' | ', ".join(cells) + ", ' |'"
    else:
        line = ", ',', ".join(cells)
    height, body = _lines(
        con, f"concat({line})", statement, dict(params) or None, "," if fmt == "json" else "\n"
    )
    if fmt == "json":
        if not _json_clean(body):
            return None
        return WrittenText(fmt, names, height, f"[{body}]\n")
    if fmt == "markdown":
        if not _lines_clean(body, height, _printable):
            return None
        header = "| " + " | ".join(markdown_cells(list(names))) + " |"
        rule = "|" + "|".join("---:" if kind in NUMERIC else "---" for kind in kinds) + "|"
        head = f"{header}\n{rule}\n"
    else:
        if not _lines_clean(body, height, _csv_clean):
            return None
        head = ",".join(csv_field(name) for name in names) + "\n"
    return WrittenText(fmt, names, height, f"{head}{body}\n" if height else head)


def _decimals(
    con: duckdb.DuckDBPyConnection,
    statement: str,
    params: Mapping[str, Any],
    columns: list[str],
    kinds: list[str],
) -> dict[str, int]:
    """The decimals each double column of ``statement`` needs in markdown (``tables.
    column_decimals``: the most any of its values needs), found by one more run of it."""
    doubles = [name for name, kind in zip(columns, kinds, strict=True) if kind == "float"]
    if not doubles:
        return {}
    most = ", ".join(f"coalesce(max(cell_decimals({_quoted(name)})), 0)" for name in doubles)
    return dict(zip(doubles, _one_row(con, most, statement, dict(params) or None), strict=True))


def written_table(
    con: duckdb.DuckDBPyConnection,
    statement: str,
    params: Mapping[str, Any],
    rename: Mapping[str, str] | None,
    width: int,
) -> WrittenText | None:
    """The result of ``statement`` (over ``con``, a connection in UTC), its columns renamed by
    ``rename``, as its terminal table ``width`` columns wide (``render.render_view`` of its
    ``Rows``, without a query's ``-- table:``): the same columns shown, the same cells, cut
    where they are cut. None when DuckDB does not write it so: a column the view rewrites or
    states below the table (shares, rates, the window...), a type ``Rows`` does not hold, a
    text that does not print among the cells the table looks at, or more than ``MAX_CUTS``
    different texts of a column cut (or ``MAX_TEXTS`` different texts of a column to cut).

    DuckDB finds each column's widest cell, the layout is ``tables.fit``'s, the cut texts are
    ``tables.shorten``'s (over the column's distinct texts, fetched), and DuckDB pads and joins
    the cells of every line.

    >>> import duckdb
    >>> con = duckdb.connect()
    >>> print(written_table(con, "SELECT 'kubelet' AS client, 1234 AS n", {}, None, 80).text)
    client       n
    -------  -----
    kubelet  1,234
    <BLANKLINE>
    """
    described = _described(con, statement, params)
    if described is None:
        return None
    columns, kinds = described
    names = tuple((rename or {}).get(name, name) for name in columns)
    if any(n in WINDOW or n in EXCLUDED or n.endswith(REWRITTEN) for n in names):
        return None
    labels = [HEADINGS.get(name, name) for name in names]
    keys = {HEADINGS.get(name, name) for name in key_columns(names, kinds)}
    run_sql(con, "text_cells")
    values = dict(params) or None

    def cell_of(name: str, kind: str, decimals: int | None = None) -> str:
        return f"coalesce({TABLE_CELLS[kind].format(_quoted(name), decimals=decimals)}, '')"

    # one pass finds the widest cell of each column, and a double column's decimals with the
    # widest of its cells for each number of them it may need
    aggregates: list[str] = []
    first: list[int] = []
    for name, kind in zip(columns, kinds, strict=True):
        first.append(len(aggregates))
        if kind == "float":
            aggregates.append(f"coalesce(max(cell_decimals({_quoted(name)})), 0)")
            aggregates += [f"max(length({cell_of(name, kind, d)}))" for d in range(DECIMALS + 1)]
        else:
            aggregates.append(f"max(length({cell_of(name, kind)}))")
    found = _one_row(con, ", ".join(aggregates), statement, values)
    decimals = {n: found[i] for n, k, i in zip(columns, kinds, first, strict=True) if k == "float"}
    widest = [
        (found[i + 1 + decimals[n]] if k == "float" else found[i]) or 0
        for n, k, i in zip(columns, kinds, first, strict=True)
    ]
    cells = [cell_of(n, k, decimals.get(n)) for n, k in zip(columns, kinds, strict=True)]
    cuts: dict[int, dict[str, str]] = {}
    widths: dict[int, int] = {}

    def cut(i: int, target: int) -> None:
        found = con.execute(
            f"SELECT DISTINCT {cells[i]} FROM (\n{statement}\n) LIMIT {MAX_TEXTS + 1}", values
        )
        texts = [text for (text,) in found.fetchall()]
        if len(texts) > MAX_TEXTS or not all(map(str.isprintable, texts)):
            raise _Declined  # too many to cut twice; render escapes them before it cuts them
        cut_texts = dict(zip(texts, shorten(texts, target), strict=True))
        cuts[i] = {text: short for text, short in cut_texts.items() if short != text}
        if len(cuts[i]) > MAX_CUTS:
            raise _Declined
        widths[i] = max([len(labels[i]), *map(len, cut_texts.values())])

    def width_of(i: int) -> int:
        if i not in widths:
            if labels[i] not in keys and widest[i] > MAX_CELL:
                cut(i, MAX_CELL)
            else:
                widths[i] = max(len(labels[i]), widest[i])
        return widths[i]

    try:
        shown = fit(labels, width_of, keys, width, cut)
    except _Declined:
        return None
    numeric = [kinds[i] in NUMERIC for i in shown]
    padded = []
    for i, right in zip(shown, numeric, strict=True):
        cell = cells[i]
        if cuts.get(i):  # the cut texts, looked up: no text from a log enters the SQL
            whole, short = f"k8saudit_whole_{i}", f"k8saudit_short_{i}"
            values = {**(values or {}), whole: list(cuts[i]), short: list(cuts[i].values())}
            cell = f"coalesce(MAP(${whole}, ${short})[{cell}], {cell})"
        padded.append(f"{'lpad' if right else 'rpad'}({cell}, {widths[i]}, ' ')")
    line = "rtrim(concat(" + ", '  ', ".join(padded) + "), ' ')"
    height, body = _lines(con, line, statement, values, "\n")
    if not _lines_clean(body, height, _printable):
        return None
    heading = "  ".join(
        labels[i].rjust(widths[i]) if right else labels[i].ljust(widths[i])
        for i, right in zip(shown, numeric, strict=True)
    ).rstrip()
    text = table_text(heading, [widths[i] for i in shown], body if height else None)
    return WrittenText("table", names, height, text)


class _Declined(Exception):
    """A table ``written_table`` leaves to ``render``, found while it lays it out."""


def _described(
    con: duckdb.DuckDBPyConnection, statement: str, params: Mapping[str, Any]
) -> tuple[list[str], list[str]] | None:
    """The names and kinds (``rows.KINDS``) of ``statement``'s columns; None when it has
    none, or one of a type ``Rows`` does not hold."""
    described = con.execute(f"DESCRIBE {statement}", dict(params) or None).fetchall()
    kinds = [KINDS.get(str(kind)) for _, kind, *_ in described]
    if not described or None in kinds:
        return None
    return [name for name, *_ in described], kinds  # type: ignore[return-value]


def _one_row(
    con: duckdb.DuckDBPyConnection, aggregates: str, statement: str, params: Any
) -> tuple[Any, ...]:
    """The one row of ``aggregates`` over the rows of ``statement``."""
    found = con.execute(f"SELECT {aggregates} FROM (\n{statement}\n)", params).fetchone()
    assert found is not None  # an aggregate has one row
    return found


def _lines(
    con: duckdb.DuckDBPyConnection, line: str, statement: str, params: Any, separator: str
) -> tuple[int, str]:
    """How many rows ``statement`` has and their ``line`` (SQL of a line of text) joined by
    ``separator``."""
    result = con.execute(
        f"SELECT {line} AS line FROM (\n{statement}\n)", dict(params or {}) or None
    )
    fetched = result.fetchall()
    # the lines taken out of their rows in C, not a comprehension; their rows let go before
    # the text is checked and copied (a long answer's peak memory)
    return len(fetched), separator.join(map(itemgetter(0), fetched))


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _lines_clean(body: str, rows: int, clean: Callable[[str], bool]) -> bool:
    """Does ``body`` (the lines joined) hold no character its format leaves to ``render`` but
    the ``rows - 1`` line feeds that join them? A str of ASCII alone is checked as its bytes,
    at C's speed (no ASCII control character then), any other by ``clean``."""
    feeds = max(rows - 1, 0)
    if body.isascii():
        return _ascii_held(body, _ASCII_CONTROLS) == feeds
    return body.count("\n") == feeds and clean(body)


def _csv_clean(body: str) -> bool:
    """No control character but line feeds (CSV: ``render.CONTROL``)."""
    return _CSV_CONTROL.search(body) is None


def _printable(body: str) -> bool:
    """Every character prints but line feeds (markdown: ``tables.escape_text``)."""
    return body.replace("\n", "").isprintable()


def _json_clean(body: str) -> bool:
    """Does ``body`` hold neither a control character (the mark of a time the macros do not
    write) nor a ``\\u00`` escape? DuckDB's JSON writer escapes a control character as
    json.dumps does but for the hexadecimal digits' case (``\\u001B``, not ``\\u001b``), so an
    answer with one is render's; the short escapes (``\\t``, ``\\n``...) are the same. (A text
    holding a backslash then ``u00`` is render's too: its escape holds one.)"""
    if "\\u00" in body:
        return False
    if body.isascii():
        return _ascii_held(body, _JSON_CONTROLS) == 0
    return _JSON_CONTROL.search(body) is None


def _ascii_held(body: str, characters: bytes) -> int:
    """How many of ``characters`` the ASCII ``body`` holds, counted in its bytes a piece at a
    time (``bytes.translate``), so that their copies stay small beside a long answer."""
    held = 0
    for at in range(0, len(body), _PIECE):
        data = body[at : at + _PIECE].encode("ascii")
        held += len(data) - len(data.translate(None, characters))
    return held
