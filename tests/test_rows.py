"""A result as ``Rows`` (plain Python values, what a command renders without importing polars)
renders byte for byte as the same result as a polars DataFrame, in every text format: every
analysis of the library on sample_logs/, and generated values of every kind ``Rows`` holds
(hostile strings, floats of every magnitude, nulls) beside polars' own writers."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import k8saudit
from k8saudit.analyses import run_query, run_query_rows
from k8saudit.dataset import Dataset
from k8saudit.query_loader import list_queries
from k8saudit.render import float_text, render, render_view
from k8saudit.rows import Rows

from .test_queries import EXAMPLE_ARGS

TEXT_FORMATS = ("table", "csv", "json", "markdown")


@pytest.fixture(scope="module")
def sample(sample_dataset: Path) -> Dataset:
    return k8saudit.open(sample_dataset)


@pytest.mark.parametrize("name", [q.name for q in list_queries()])
def test_every_analysis_renders_the_same_from_rows(sample: Dataset, name: str) -> None:
    values = EXAMPLE_ARGS.get(name, {})
    frame = run_query(sample, name, values, {})
    rows = run_query_rows(sample, name, values, {})
    assert isinstance(rows, Rows)  # every column of every analysis is of a kind Rows holds
    assert rows.height == frame.height > 0 or name in {"inflight_peaks", "rbac_rules"}
    for fmt in TEXT_FORMATS:
        assert render(rows, fmt) == render(frame, fmt), fmt
    assert render_view(rows, 100) == render_view(frame, 100)


def test_a_type_rows_do_not_hold_stays_a_frame(sample: Dataset) -> None:
    found = sample.rows("SELECT 1::HUGEINT AS h, 1.5::DECIMAL(4, 2) AS d")
    assert isinstance(found, pl.DataFrame)
    assert found.columns == ["h", "d"]
    held = sample.rows("SELECT 'a' AS s, 2 AS n, [NULL, 'x'] AS l")
    assert isinstance(held, Rows)
    assert held.row(0) == ("a", 2, [None, "x"])


#: the polars type ``Dataset.sql`` gives each kind of ``Rows``
DTYPES: dict[str, Any] = {
    "string": pl.String,
    "integer": pl.Int64,
    "float": pl.Float64,
    "boolean": pl.Boolean,
    "timestamptz": pl.Datetime("us", "UTC"),
    "list": pl.List(pl.String),
}
HOSTILE = st.sampled_from(
    ["", " ", "=1+2", "+x", "-1", "@SUM", "\t=", "\r", "a,b", 'q"u"', "l\nf", "\x1b[2J",
     "\x7f", "\x9b", "\u2028", "\xa0", "<img>", "a|b", "é😀", "¶", "¶="]
)  # fmt: skip
TEXT = st.one_of(HOSTILE, st.text(max_size=8), st.lists(HOSTILE, max_size=3).map("".join))
FLOATS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1e-5, 1e-7, 1e15, 1e16, 55.15, 0.1 + 0.2, 123456789.123]),
    st.integers(-30, 30).map(lambda e: 1.2345 * 10.0**e),
)
TIMES = st.datetimes(
    min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
).map(lambda t: t.replace(microsecond=t.microsecond % 3 * 5000 + t.microsecond % 7 * 17))
VALUES = {
    "string": TEXT,
    "integer": st.integers(-(2**63), 2**63 - 1),
    "float": FLOATS,
    "boolean": st.booleans(),
    "timestamptz": TIMES,
    "list": st.lists(st.one_of(st.none(), TEXT), max_size=3),
}


@st.composite
def results(draw: st.DrawFn) -> tuple[Rows, pl.DataFrame]:
    kinds = draw(st.lists(st.sampled_from(sorted(VALUES)), min_size=1, max_size=4))
    height = draw(st.integers(0, 4))
    names = tuple(f"{draw(TEXT)}{i}" for i in range(len(kinds)))
    columns = tuple(
        draw(st.lists(st.one_of(st.none(), VALUES[kind]), min_size=height, max_size=height))
        for kind in kinds
    )
    rows = Rows(names, tuple(kinds), columns)
    schema = {name: DTYPES[kind] for name, kind in zip(names, kinds, strict=True)}
    return rows, pl.DataFrame(dict(zip(names, columns, strict=True)), schema=schema)


@settings(max_examples=300, deadline=None)
@given(results())
def test_rows_render_as_polars_writes(result: tuple[Rows, pl.DataFrame]) -> None:
    rows, frame = result
    for fmt in TEXT_FORMATS:
        assert render(rows, fmt) == render(frame, fmt), fmt


@settings(max_examples=500, deadline=None)
@given(FLOATS.filter(lambda x: x == x and abs(x) != float("inf")))
def test_float_text_is_polars_float_format(value: float) -> None:
    expected = pl.DataFrame({"x": [value]}).write_csv().splitlines()[1]
    assert float_text(value) == expected


def test_times_keep_their_digits() -> None:
    start = datetime(2019, 2, 4, 12, tzinfo=UTC)
    times = [start + timedelta(microseconds=us) for us in (0, 500_000, 123_000, 123_456, 120)]
    rows = Rows(("t",), ("timestamptz",), (times,))
    assert render(rows, "json") == (
        '[{"t":"2019-02-04T12:00:00+00:00"},{"t":"2019-02-04T12:00:00.500+00:00"},'
        '{"t":"2019-02-04T12:00:00.123+00:00"},{"t":"2019-02-04T12:00:00.123456+00:00"},'
        '{"t":"2019-02-04T12:00:00.000120+00:00"}]\n'
    )
    assert str(render(rows, "csv")).splitlines()[1:3] == [
        "2019-02-04T12:00:00.000000+0000",
        "2019-02-04T12:00:00.500000+0000",
    ]


SQL = "SELECT client, count(*) AS requests FROM requests GROUP BY 1 ORDER BY 2 DESC"


@pytest.mark.parametrize("fmt", ["table", "csv", "json", "markdown"])
@pytest.mark.parametrize("command", [["top-talkers"], ["sql", SQL]], ids=["analysis", "sql"])
def test_a_command_does_not_import_polars(
    sample_dataset: Path, fmt: str, command: list[str]
) -> None:
    """Importing polars costs a command on a small dataset more than its query."""
    code = (
        "import sys, json\n"
        "from k8saudit.cli import main\n"
        "sys.argv = ['k8saudit', *json.loads(sys.argv[3]), '-d', sys.argv[1], '-f', sys.argv[2]]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in ('polars', 'pyarrow', 'numpy') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(sample_dataset), fmt, json.dumps(command)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    *shown, imported = done.stdout.splitlines()
    assert "kubelet" in shown[1 if fmt == "csv" else 0 if fmt == "json" else 2]
    assert imported == "[]"


def test_query_rows_gives_what_rows_gives(sample: Dataset) -> None:
    """A statement planned once (``query_rows``) gives the rows a relation gives."""
    found = sample.query_rows(SQL)
    assert isinstance(found, Rows)
    assert found == sample.rows(SQL)
    assert found.names == ("client", "requests") and found.kinds == ("string", "integer")
    assert found.row(0) == ("kubelet", 16834)
    none = sample.query_rows("SELECT client FROM requests WHERE client = $c", c="nobody")
    assert isinstance(none, Rows) and none.names == ("client",) and none.height == 0


def test_query_rows_of_a_type_rows_does_not_hold_is_a_dataframe(sample: Dataset) -> None:
    statement = "SELECT sum(code) AS total, count(*) AS n FROM requests"  # sum: HUGEINT
    found = sample.query_rows(statement)
    assert isinstance(found, pl.DataFrame)
    assert found.equals(sample.sql(statement))
    assert found.row(0) == (6038149, 30573)


def test_query_rows_errors_name_the_cause(sample: Dataset) -> None:
    with pytest.raises(k8saudit.K8sAuditError, match="no_such_column"):
        sample.query_rows("SELECT no_such_column FROM requests")


_YEARS_1_TO_9999 = st.integers(-62135596800000000, 253402300799999999)
_MICROS = st.one_of(
    st.none(),
    _YEARS_1_TO_9999,
    _YEARS_1_TO_9999.map(lambda us: us - us % 1000),  # whole milliseconds
    _YEARS_1_TO_9999.map(lambda us: us - us % 1_000_000),  # whole seconds
    st.integers(1549281600000000, 1549281900000000),  # 2019-02-04 12:00-12:05 (most answers)
    st.sampled_from([2**63 - 1, -(2**63 - 1), 253402300800000000]),  # ±infinity, year 10000
)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)),
            st.one_of(st.none(), st.text(max_size=8)),
            st.one_of(st.none(), st.floats()),
            st.one_of(st.none(), st.booleans()),
            _MICROS,
        ),
        min_size=0,
        max_size=12,
    ),
    st.integers(1, 5),
)
def test_a_long_answer_taken_by_columns_holds_what_tuples_hold(
    values: list[tuple[Any, ...]], first: int
) -> None:
    """Past ``TUPLES_FIRST`` rows the values come through numpy: the same Python values, of the
    same types (the same repr: times in the same zone, infinity naive, past 9999 as text)."""
    import duckdb

    from k8saudit import rows

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'").fetchall()
    columns: list[Any] = list(zip(*values, strict=True)) or [[], [], [], [], []]
    query = """
        SELECT i, s, f, b, CASE
            WHEN t = 9223372036854775807 THEN 'infinity'::TIMESTAMPTZ
            WHEN t = -9223372036854775807 THEN '-infinity'::TIMESTAMPTZ
            ELSE make_timestamp(t)::TIMESTAMPTZ END AS t
        FROM (SELECT unnest($i::BIGINT[]) AS i, unnest($s::VARCHAR[]) AS s,
            unnest($f::DOUBLE[]) AS f, unnest($b::BOOLEAN[]) AS b, unnest($t::BIGINT[]) AS t)
    """
    params = dict(zip("isfbt", (list(c) for c in columns), strict=True))
    rows_found = con.execute(query, params).fetchall()
    expected = [list(column) for column in zip(*rows_found, strict=True)]
    con.execute(query, params)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rows, "TUPLES_FIRST", first)
        found = Rows.from_executed(con)
    assert found is not None
    assert found.kinds == ("integer", "string", "float", "boolean", "timestamptz")
    assert repr(list(found.values)) == repr(expected or [[] for _ in "isfbt"])
    # and the text formats write a long answer's times at once as they write each time
    plain = Rows(found.names, found.kinds, tuple(list(v) for v in found.values))
    for fmt in TEXT_FORMATS:
        assert render(found, fmt) == render(plain, fmt), fmt
    assert render_view(found, 200) == render_view(plain, 200)


def test_a_long_answer_writes_its_times_at_once() -> None:
    """Past ``TUPLES_FIRST`` rows, a column of times keeps numpy's texts of them (``Times``):
    the text formats write those, the same bytes as time by time."""
    import duckdb

    from k8saudit import rows

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'").fetchall()
    con.execute(
        "SELECT CASE WHEN i % 5 = 4 THEN NULL ELSE make_timestamp(1549281600000000 "
        "+ i * [0, 1, 1000, 1000000][i % 4 + 1] * 7)::TIMESTAMPTZ END AS t FROM range(12) r(i)"
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rows, "TUPLES_FIRST", 5)
        found = Rows.from_executed(con)
    assert found is not None
    (times,) = found.values
    assert isinstance(times, rows.Times) and times.start == 5
    assert times.iso_tail() == [
        "2019-02-04T12:00:00.000035", "2019-02-04T12:00:00.042000", "2019-02-04T12:00:49.000000",
        "2019-02-04T12:00:00.000000", None, "2019-02-04T12:00:00.070000",
        "2019-02-04T12:01:17.000000",
    ]  # fmt: skip
    plain = Rows(found.names, found.kinds, ([*times],))
    assert str(render(found, "csv")).splitlines()[8:11] == [
        "2019-02-04T12:00:49.000000+0000", "2019-02-04T12:00:00.000000+0000", "",
    ]  # fmt: skip
    for fmt in TEXT_FORMATS:
        assert render(found, fmt) == render(plain, fmt), fmt


def test_times_no_datetime_holds_are_written_as_fetched() -> None:
    """DuckDB gives a time past the year 9999 as its text and 'infinity' as a naive
    ``datetime.max``: every format writes them (the table and CSV once failed on the text)."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'").fetchall()
    con.execute("SELECT '10000-01-01'::TIMESTAMPTZ AS t, 'infinity'::TIMESTAMPTZ AS u")
    found = Rows.from_executed(con)
    assert found is not None
    assert render(found, "csv") == "t,u\n10000-01-01 00:00:00+00,9999-12-31T23:59:59.999999\n"
    assert render(found, "json") == (
        '[{"t":"10000-01-01 00:00:00+00","u":"9999-12-31T23:59:59.999999"}]\n'
    )
    assert str(render(found, "table")).splitlines()[2] == (
        "10000-01-01 00:00:00+00  9999-12-31 23:59:59.999999"
    )


_MARKUP = st.sampled_from(["<b", "a&b", "x>", "|", "ok", "\x1b"])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(_MARKUP, TEXT),
            st.lists(st.one_of(st.none(), _MARKUP, TEXT), min_size=3, max_size=3),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_markdown_escapes_a_column_as_it_escapes_each_cell(
    columns: list[tuple[str, list[str | None]]],
) -> None:
    """A column (and the heading) with nothing to escape in one look at all of it is written
    as it is; any other, cell by cell: HTML, pipes and control characters escaped as in each
    cell alone."""
    from k8saudit.render import render_markdown
    from k8saudit.tables import column_cells, escape_text

    def alone(value: str | None) -> str:
        (text,) = column_cells([value], "string")
        html = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return escape_text(html).replace("|", "\\|")

    names = tuple(f"{name}{i}" for i, (name, _) in enumerate(columns))
    values = [column for _, column in columns]
    rows = Rows(names, ("string",) * len(values), tuple(values))
    lines = render_markdown(rows).split("\n")
    heading = [alone(name) for name in names]
    assert lines[0] == "| " + " | ".join(heading) + " |"
    assert lines[2:-1] == [
        "| " + " | ".join(map(alone, row)) + " |" for row in zip(*values, strict=True)
    ]
