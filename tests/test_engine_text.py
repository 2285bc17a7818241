"""An answer written by DuckDB as CSV, JSON or markdown (``k8saudit.engine_text``) is what
``render`` writes of its ``Rows`` in that format, byte for byte, and DuckDB leaves to
``render`` exactly the answers with a value it would not write so: generated values of every
kind ``Rows`` holds (the hostile strings, floats and times of ``test_rows``), every analysis on
sample_logs/, and hostile user agents through the command line."""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import k8saudit
from k8saudit.analyses import run_query_rows, run_query_text
from k8saudit.dataset import Dataset
from k8saudit.engine_text import WrittenText, written_table, written_text
from k8saudit.query_loader import get_query, list_queries
from k8saudit.render import CONTROL, float_text, render, render_view
from k8saudit.rows import Rows
from k8saudit.tables import EXCLUDED, REWRITTEN, WINDOW

from .helpers import event, jsonl, run_cli
from .test_queries import EXAMPLE_ARGS
from .test_rows import FLOATS, TEXT, VALUES

FORMATS = ("csv", "json", "markdown")
#: the characters CSV's writer in Python escapes, which DuckDB leaves to it (markdown: every
#: character that does not print, ``tables.escape_text``; JSON: those escaped as ``\\u00XX``)
ESCAPED = {"csv": re.compile(CONTROL)}
#: the DuckDB type of each kind of ``Rows``
TYPES = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "float": "DOUBLE",
    "boolean": "BOOLEAN",
    "timestamptz": "TIMESTAMPTZ",
    "list": "VARCHAR[]",
}


def _connection() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con


def _left_to_render(fmt: str, kind: str, value: Any) -> bool:
    """Would the engine leave ``value`` to ``render``? (sql/text_cells.sql says which.)"""
    if value is None:
        return False
    if kind == "string":
        return _escaped(fmt, value)
    if kind == "list":
        return any(e is not None and _escaped(fmt, e) for e in value)
    if kind == "timestamptz":
        return not 1000 <= value.year <= 9999
    return False


def _escaped(fmt: str, text: str) -> bool:
    if fmt == "markdown":
        return not text.isprintable()
    if fmt == "json":  # DuckDB's \\u00XX escapes differ from json.dumps' in case: render's
        return "\\u00" in json.dumps(text, ensure_ascii=False)
    return bool(ESCAPED[fmt].search(text))


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[str], list[str], list[list[Any]]]:
    kinds = draw(st.lists(st.sampled_from(sorted(VALUES)), min_size=1, max_size=4))
    height = draw(st.integers(0, 5))
    names = [f"{draw(TEXT)}{i}" for i in range(len(kinds))]
    columns = [
        draw(st.lists(st.one_of(st.none(), VALUES[kind]), min_size=height, max_size=height))
        for kind in kinds
    ]
    return names, kinds, columns


def _table(con: duckdb.DuckDBPyConnection, names: list[str], kinds: list[str], columns: Any) -> str:
    """The table of ``columns`` made on ``con``: the statement that reads it in order."""
    quoted = ['"' + n.replace('"', '""') + '"' for n in names]
    con.execute(
        "CREATE TABLE t (_n INTEGER, "
        + ", ".join(f"{q} {TYPES[k]}" for q, k in zip(quoted, kinds, strict=True))
        + ")"
    )
    rows = list(zip(*columns, strict=True))
    if rows:
        marks = ", ".join("?" * (len(names) + 1))
        con.executemany(f"INSERT INTO t VALUES ({marks})", [[i, *r] for i, r in enumerate(rows)])
    return f"SELECT {', '.join(quoted)} FROM t ORDER BY _n"


@settings(max_examples=300, deadline=None)
@given(tables())
def test_duckdb_writes_what_render_writes(table: tuple[list[str], list[str], list[Any]]) -> None:
    names, kinds, columns = table
    con = _connection()
    statement = _table(con, names, kinds, columns)
    expected = Rows.from_relation(con.sql(statement))
    assert expected is not None
    for fmt in FORMATS:
        written = written_text(con, statement, {}, fmt)
        left = any(
            _left_to_render(fmt, kind, v)
            for kind, column in zip(kinds, columns, strict=True)
            for v in column
        ) or (fmt == "json" and len(columns[0]) > 0 and any(_escaped(fmt, n) for n in names))
        assert (written is None) == left, fmt
        if written is not None:
            assert written.text == render(expected, fmt), fmt
            assert written.height == expected.height and written.names == tuple(names)


@settings(max_examples=300, deadline=None)
@given(st.lists(FLOATS, min_size=1, max_size=40))
def test_doubles_are_written_as_float_text(values: list[float]) -> None:
    con = _connection()
    statement = _table(con, ["v"], ["float"], [values])
    written = written_text(con, statement, {}, "csv")
    assert written is not None
    finite = [float_text(v) if math.isfinite(v) else None for v in values]
    csv = [
        "NaN" if v != v else repr(v) if text is None else text
        for v, text in zip(values, finite, strict=True)
    ]
    assert written.text.splitlines()[1:] == csv
    written = written_text(con, statement, {}, "json")
    assert written is not None
    assert [row["v"] for row in json.loads(written.text)] == [
        None if text is None else float(text) for text in finite
    ]
    assert written.text == "[" + ",".join(f'{{"v":{text or "null"}}}' for text in finite) + "]\n"


#: the values JSON's writer escapes as json.dumps does (\\n, \\r)
SHORT = ("'a' || chr(10) || 'b'", "'a' || chr(13)")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "literal",
    ["'infinity'::TIMESTAMPTZ", "'-infinity'::TIMESTAMPTZ", "'10000-01-01'::TIMESTAMPTZ",
     "'0999-12-31'::TIMESTAMPTZ", "'a' || chr(10) || 'b'", "'a' || chr(13)", "chr(1)",
     "['x', chr(27)]"],
)  # fmt: skip
def test_a_value_duckdb_does_not_write_as_render_is_left_to_it(fmt: str, literal: str) -> None:
    con = _connection()
    written = written_text(con, f"SELECT 'ok' AS a, {literal} AS v", {}, fmt)
    if fmt == "json" and literal in SHORT:  # a line feed, a carriage return: as json.dumps
        assert written is not None
        assert json.loads(written.text)[0]["v"] == con.execute(f"SELECT {literal}").fetchall()[0][0]
    else:
        assert written is None
    assert written_text(con, f"SELECT 'ok' AS a, {literal} AS v WHERE false", {}, fmt) is not None


#: a row of every kind and of the values each format writes its own way
ROW = (
    "SELECT * FROM (VALUES ('=1', 'a,\"b\\', '', 2e-5::DOUBLE, 'NaN'::DOUBLE, 'inf'::DOUBLE, "
    "TIMESTAMPTZ '2019-02-04 12:00:00.5+00', ['x', NULL, 'y'], []::VARCHAR[], NULL::VARCHAR, "
    "true, chr(127))) "
    'AS v("f,1", s, e, small, nan, inf, t, l, empty, nothing, ok, del)'
)


def test_what_duckdb_writes_itself() -> None:
    con = _connection()
    names = ("f,1", "renamed", "e", "small", "nan", "inf", "t", "l", "empty", "nothing", "ok")
    written = written_text(con, ROW.replace(", chr(127)", "").replace(", del", ""), {}, "csv",
                           {"s": "renamed"})  # fmt: skip
    assert written == WrittenText(
        "csv",
        names,
        1,
        '"f,1",renamed,e,small,nan,inf,t,l,empty,nothing,ok\n'
        '\'=1,"a,""b\\","",0.00002,NaN,inf,2019-02-04T12:00:00.500000+0000,x;y,"",,true\n',
    )
    written = written_text(con, ROW, {}, "json", {"s": "renamed"})
    assert written is not None and written.names == (*names, "del")
    assert written.text == (
        '[{"f,1":"=1","renamed":"a,\\"b\\\\","e":"","small":0.00002,"nan":null,"inf":null,'
        '"t":"2019-02-04T12:00:00.500+00:00","l":["x",null,"y"],"empty":[],"nothing":null,'
        '"ok":true,"del":"\x7f"}]\n'
    )
    assert written_text(con, "SELECT 1::HUGEINT AS h", {}, "csv") is None  # not a kind of Rows
    assert written_text(con, "SELECT 'kubelet' AS c WHERE false", {}, "csv") == WrittenText(
        "csv", ("c",), 0, "c\n"
    )
    assert written_text(con, "SELECT 'kubelet' AS c WHERE false", {}, "json") == WrittenText(
        "json", ("c",), 0, "[]\n"
    )


@pytest.fixture(scope="module")
def sample(sample_dataset: Path) -> Dataset:
    return k8saudit.open(sample_dataset)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", [q.name for q in list_queries()])
def test_every_analysis_is_written_by_duckdb_as_render_writes_it(
    sample: Dataset, name: str, fmt: str
) -> None:
    values = EXAMPLE_ARGS.get(name, {})
    written = run_query_text(sample, name, values, {}, fmt)
    rows = run_query_rows(sample, name, values, {})
    footer = fmt == "markdown" and any(set(f) <= set(rows.columns) for f in (WINDOW, EXCLUDED))
    if footer:  # rates divide by a window the footer states: short answers, written by render
        assert isinstance(written, Rows) and written == rows
        return
    assert isinstance(written, WrittenText)  # sample_logs/ holds no value left to render
    assert written.text == render(rows, fmt)
    assert written.height == rows.height and written.columns == rows.columns


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_hostile_answer_is_written_by_render(tmp_path: Path, fmt: str) -> None:
    agents = ["=cmd|' /C calc'!A0", "ok\x1b[2J", "tab\there", "fine, with comma"]
    jsonl(tmp_path / "audit.log", [event(f"e{i}", userAgent=ua) for i, ua in enumerate(agents)])
    k8saudit.ingest([tmp_path / "audit.log"], dataset=tmp_path / "ds")
    with k8saudit.open(tmp_path / "ds") as ds:
        answer = ds.answer_text("top_talkers", fmt, by="user_agent")
        assert isinstance(answer.frame, Rows)  # escaped by render, as before
        expected = render(answer.frame, fmt)
    code, out, _ = run_cli("top-talkers", "--by", "user_agent", "-d", str(tmp_path / "ds"),
                           "-f", fmt)  # fmt: skip
    assert code == 0
    assert out == expected
    assert "\x1b" not in out and "\t" not in out
    assert ("ok\\u001b[2J" if fmt == "json" else "ok\\x1b[2J") in out


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "query",
    ["SELECT client, received_at, user_groups, latency_ms FROM requests ORDER BY audit_id",
     "SELECT verb, count(*) AS n FROM requests WHERE code = $code GROUP BY 1 ORDER BY 2 DESC",
     "SELECT 1 AS one; SELECT client FROM requests ORDER BY audit_id LIMIT 3",
     "SELECT 'tab\tin' AS s"],
)  # fmt: skip
def test_sql_prints_what_render_writes(sample_dataset: Path, fmt: str, query: str) -> None:
    params = {"code": 200} if "$code" in query else {}
    with k8saudit.open(sample_dataset) as ds:
        expected = render(ds.rows(query, **params), fmt)
        written = ds.text(query, fmt, **params)
    # one SELECT, nothing to escape (JSON's writer escapes a tab as json.dumps does): DuckDB
    # writes it; else rows does
    assert (written is None) == (";" in query or ("\t" in query and fmt != "json"))
    code, out, err = run_cli("sql", query, "-d", str(sample_dataset), "-f", fmt,
                             *(["-p", "code=200"] if params else []))  # fmt: skip
    assert code == 0, err
    assert out == expected


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_long_text_is_checked_piece_by_piece(monkeypatch: pytest.MonkeyPatch, fmt: str) -> None:
    from k8saudit import engine_text

    monkeypatch.setattr(engine_text, "_PIECE", 7)  # the pieces' edges fall inside the values
    con = _connection()
    times = [datetime(2019, 2, 4, 12, i, tzinfo=UTC) for i in range(4)]
    statement = _table(con, ["t"], ["timestamptz"], [times])
    written = written_text(con, statement, {}, fmt)
    expected = Rows.from_relation(con.sql(statement))
    assert written is not None and expected is not None
    assert written.text == render(expected, fmt)
    for at in range(len(times)):  # the mark of a time left to render is found in any piece
        hostile = [t.replace(year=999) if i == at else t for i, t in enumerate(times)]
        con.execute("DROP TABLE t")
        assert written_text(con, _table(con, ["t"], ["timestamptz"], [hostile]), {}, fmt) is None


#: column names of the analyses (headed otherwise in a table, a key, one the view rewrites or
#: states below the table) beside generated ones
NAMES = st.sampled_from(
    ["requests", "client", "interval_start", "top_error_code", "user_agent", "code",
     "request_share", "req_per_s", "latency_ms", "window_start", "long_running"]
)  # fmt: skip
#: texts long enough to be cut, many alike but for their middle or their end
LONG = st.one_of(
    st.text(alphabet="abcd-/é😀", min_size=40, max_size=70),
    st.tuples(st.sampled_from(["kube-controller-manager/", "a" * 45]), TEXT).map("".join),
)
TABLE_VALUES = {**VALUES, "string": st.one_of(TEXT, LONG)}


@st.composite
def laid_out(draw: st.DrawFn) -> tuple[list[str], list[str], list[list[Any]], int]:
    kinds = draw(st.lists(st.sampled_from(sorted(VALUES)), min_size=1, max_size=5))
    height = draw(st.integers(0, 6))
    names = draw(
        st.lists(st.one_of(NAMES, TEXT.map(lambda t: t + "_")), min_size=len(kinds),
                 max_size=len(kinds), unique=True)
    )  # fmt: skip
    columns = [
        draw(st.lists(st.one_of(st.none(), TABLE_VALUES[kind]), min_size=height, max_size=height))
        for kind in kinds
    ]
    return names, kinds, columns, draw(st.integers(20, 140))


@settings(max_examples=400, deadline=None)
@given(laid_out())
def test_duckdb_lays_out_the_table_render_lays_out(
    table: tuple[list[str], list[str], list[list[Any]], int],
) -> None:
    names, kinds, columns, width = table
    con = _connection()
    statement = _table(con, names, kinds, columns)
    rows = Rows.from_relation(con.sql(statement))
    assert rows is not None
    written = written_table(con, statement, {}, None, width)
    viewed = any(n in WINDOW or n in EXCLUDED or n.endswith(REWRITTEN) for n in names)
    left = any(
        _left_to_render("markdown", kind, v)
        for kind, column in zip(kinds, columns, strict=True)
        for v in column
    )
    if viewed:
        assert written is None
    elif written is None:  # only for a value render writes its own way
        assert left
    else:
        assert written.text == render_view(rows, width)
        assert written.height == rows.height and written.names == tuple(names)


@pytest.mark.parametrize("width", [80, 200])
@pytest.mark.parametrize("name", [q.name for q in list_queries()])
def test_every_analysis_table_is_laid_out_by_duckdb_as_render_lays_it_out(
    sample: Dataset, name: str, width: int
) -> None:
    values = EXAMPLE_ARGS.get(name, {})
    written = run_query_text(sample, name, values, {}, "table", width)
    rows = run_query_rows(sample, name, values, {})
    assert isinstance(rows, Rows)
    viewed = any(n in WINDOW or n in EXCLUDED or n.endswith(REWRITTEN) for n in rows.names)
    if get_query(name).table or viewed:  # its own columns, or its rates: render's
        assert written == rows
        return
    assert isinstance(written, WrittenText)
    assert written.text == render_view(rows, width)


@pytest.mark.parametrize(("cuts", "texts"), [(1, 10), (10, 2)])
def test_a_table_of_many_texts_to_cut_is_left_to_render(
    monkeypatch: pytest.MonkeyPatch, cuts: int, texts: int
) -> None:
    from k8saudit import engine_text

    con = _connection()
    agents = [f"{'a' * 40}-{i}-{'z' * 20}" for i in range(3)]  # cut to 48 characters
    columns = [[1, 2, 3], ["get"] * 3, agents]  # verb is the key, shown whole
    statement = _table(con, ["n", "verb", "user_agent"], ["integer", "string", "string"], columns)
    rows = Rows.from_relation(con.sql(statement))
    assert rows is not None
    written = written_table(con, statement, {}, None, 80)
    assert written is not None and written.text == render_view(rows, 80)
    assert "…" in written.text
    monkeypatch.setattr(engine_text, "MAX_CUTS", cuts)
    monkeypatch.setattr(engine_text, "MAX_TEXTS", texts)
    assert written_table(con, statement, {}, None, 80) is None
