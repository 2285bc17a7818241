"""An answer's CSV written by DuckDB (``k8saudit.engine_csv``) is the CSV ``render.rows_csv``
writes of its ``Rows``, byte for byte, and DuckDB leaves to ``rows_csv`` exactly the answers
with a value it would not write so: generated values of every kind ``Rows`` holds (the hostile
strings, floats and times of ``test_rows``), every analysis on sample_logs/, and hostile user
agents through the command line."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import k8saudit
from k8saudit.analyses import run_query_csv, run_query_rows
from k8saudit.dataset import Dataset
from k8saudit.engine_csv import CsvText, csv_text
from k8saudit.query_loader import list_queries
from k8saudit.render import CONTROL, float_text, render, rows_csv
from k8saudit.rows import Rows

from .helpers import event, jsonl, run_cli
from .test_queries import EXAMPLE_ARGS
from .test_rows import FLOATS, TEXT, VALUES

CONTROL_RE = re.compile(CONTROL)
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


def _needs_rows_csv(kind: str, value: Any) -> bool:
    """Would the engine leave ``value`` to ``rows_csv``? (csv_cells.sql says which.)"""
    if value is None:
        return False
    if kind == "string":
        return bool(CONTROL_RE.search(value))
    if kind == "list":
        return any(e is not None and CONTROL_RE.search(e) for e in value)
    if kind == "timestamptz":
        return not 1000 <= value.year <= 9999
    return False


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


@settings(max_examples=300, deadline=None)
@given(tables())
def test_duckdb_writes_what_rows_csv_writes(table: tuple[list[str], list[str], list[Any]]) -> None:
    names, kinds, columns = table
    con = _connection()
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
    statement = f"SELECT {', '.join(quoted)} FROM t ORDER BY _n"
    expected = Rows.from_relation(con.sql(statement))
    assert expected is not None
    written = csv_text(con, statement, {})
    needs = any(
        _needs_rows_csv(kind, v)
        for kind, column in zip(kinds, columns, strict=True)
        for v in column
    )
    assert (written is None) == needs
    if written is not None:
        assert written.text == rows_csv(expected)
        assert written.height == len(rows) and written.names == tuple(names)


@settings(max_examples=300, deadline=None)
@given(st.lists(FLOATS, min_size=1, max_size=40))
def test_doubles_are_written_as_float_text(values: list[float]) -> None:
    con = _connection()
    con.execute("CREATE TABLE t (n INTEGER, v DOUBLE)")
    con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(values)))
    written = csv_text(con, "SELECT v FROM t ORDER BY n", {})
    assert written is not None
    expected = ["NaN" if v != v else float_text(v) if math.isfinite(v) else repr(v) for v in values]
    assert written.text.splitlines()[1:] == expected


@pytest.mark.parametrize(
    "literal",
    ["'infinity'::TIMESTAMPTZ", "'-infinity'::TIMESTAMPTZ", "'10000-01-01'::TIMESTAMPTZ",
     "'0999-12-31'::TIMESTAMPTZ", "'a' || chr(10) || 'b'", "'a' || chr(13)", "chr(1)",
     "['x', chr(27)]"],
)  # fmt: skip
def test_a_value_duckdb_does_not_write_as_rows_csv_is_left_to_it(literal: str) -> None:
    con = _connection()
    assert csv_text(con, f"SELECT 'ok' AS a, {literal} AS v", {}) is None
    assert csv_text(con, f"SELECT 'ok' AS a, {literal} AS v WHERE false", {}) is not None


def test_what_duckdb_writes_itself() -> None:
    con = _connection()
    written = csv_text(
        con,
        "SELECT * FROM (VALUES ('=1', 'a,\"b\"', '', 2e-5::DOUBLE, 'NaN'::DOUBLE, 'inf'::DOUBLE, "
        "TIMESTAMPTZ '2019-02-04 12:00:00.5+00', ['x', NULL, 'y'], []::VARCHAR[], NULL::VARCHAR, "
        "true)) "
        'AS v("f,1", s, e, small, nan, inf, t, l, empty, nothing, ok)',
        {},
        {"s": "renamed"},
    )
    assert written == CsvText(
        ("f,1", "renamed", "e", "small", "nan", "inf", "t", "l", "empty", "nothing", "ok"),
        1,
        '"f,1",renamed,e,small,nan,inf,t,l,empty,nothing,ok\n'
        '\'=1,"a,""b""","",0.00002,NaN,inf,2019-02-04T12:00:00.500000+0000,x;y,"",,true\n',
    )
    assert csv_text(con, "SELECT 1::HUGEINT AS h", {}) is None  # a type Rows does not hold
    assert csv_text(con, "SELECT 'kubelet' AS c WHERE false", {}) == CsvText(("c",), 0, "c\n")


@pytest.fixture(scope="module")
def sample(sample_dataset: Path) -> Dataset:
    return k8saudit.open(sample_dataset)


@pytest.mark.parametrize("name", [q.name for q in list_queries()])
def test_every_analysis_is_written_by_duckdb_as_rows_csv_writes_it(
    sample: Dataset, name: str
) -> None:
    values = EXAMPLE_ARGS.get(name, {})
    written = run_query_csv(sample, name, values, {})
    rows = run_query_rows(sample, name, values, {})
    assert isinstance(written, CsvText)  # sample_logs/ holds no value left to rows_csv
    assert written.text == render(rows, "csv")
    assert written.height == rows.height and written.columns == rows.columns


def test_a_hostile_answer_is_written_by_rows_csv(tmp_path: Path) -> None:
    agents = ["=cmd|' /C calc'!A0", "ok\x1b[2J", "tab\there", "fine, with comma"]
    jsonl(tmp_path / "audit.log", [event(f"e{i}", userAgent=ua) for i, ua in enumerate(agents)])
    k8saudit.ingest([tmp_path / "audit.log"], dataset=tmp_path / "ds")
    with k8saudit.open(tmp_path / "ds") as ds:
        answer = ds.answer_csv("top_talkers", by="user_agent")
        assert isinstance(answer.frame, Rows)  # escaped by rows_csv, as before
        expected = render(answer.frame, "csv")
    code, out, _ = run_cli("top-talkers", "--by", "user_agent", "-d", str(tmp_path / "ds"),
                           "-f", "csv")  # fmt: skip
    assert code == 0
    assert out == expected
    assert "ok\\x1b[2J" in out and "\x1b" not in out and "'=cmd" in out
