"""Tables that read (issue 11 item 5): one number style per column, group keys whole before
numbers are left out, different groups never printed the same, footers instead of columns."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from k8saudit.render import render_view
from k8saudit.tables import _cells, cell, column_decimals, render_table, shorten

from .test_rows import VALUES

LONG = [
    "system:serviceaccount:kube-system:replicaset-controller",
    "system:serviceaccount:kube-system:deployment-controller",
    "system:serviceaccount:kube-system:daemon-set-controller",
]


def test_one_number_style_per_column() -> None:
    frame = pl.DataFrame({"client": ["a", "b"], "per_min": [503.629, 2518.0]})
    assert render_table(frame).splitlines()[2:] == ["a         503.629", "b       2,518.000"]


@pytest.mark.parametrize("width", [20, 30, 40])
def test_shortened_values_stay_distinct(width: int) -> None:
    cut = shorten(LONG, width)
    assert len(set(cut)) == len(LONG)
    assert all(len(value) <= width for value in cut)
    assert all("…" in value for value in cut)


def test_shorten_grows_rather_than_merge() -> None:
    # no cut of 5 characters tells these apart: the cell grows until one does
    values = ["abcdefgh-1-ijklmnop", "abcdefgh-2-ijklmnop"]
    cut = shorten(values, 5)
    assert len(set(cut)) == 2
    assert cut == ["abcdefgh-1…p", "abcdefgh-2…p"]


def test_keys_are_whole_and_numbers_give_way() -> None:
    frame = pl.DataFrame(
        {"client": LONG, "requests": [1, 2, 3], "req_per_s": [0.1, 0.2, 0.3], "p99_ms": [1, 2, 3]}
    )
    lines = render_view(frame, width=68).splitlines()
    assert lines[0] == "client                                                   reqs  req/s"
    assert [line.split()[0] for line in lines[2:]] == LONG
    wide = render_view(frame, width=120).splitlines()
    assert wide[0].split() == ["client", "reqs", "req/s", "p99_ms"]


def test_keys_shorten_in_the_middle_when_nothing_else_fits() -> None:
    frame = pl.DataFrame({"client": LONG, "requests": [1, 2, 3]})
    lines = render_view(frame, width=40).splitlines()
    assert max(len(line) for line in lines) <= 40
    keys = [line.rsplit(None, 1)[0] for line in lines[2:]]
    assert len(set(keys)) == 3 and all("…" in key for key in keys)
    assert keys[0].startswith("system:serviceacc") and keys[0].endswith("aset-controller")


def test_window_and_excluded_are_footers_not_columns() -> None:
    start = datetime(2019, 2, 4, 12, 0, 0, 4706, tzinfo=UTC)
    end = datetime(2019, 2, 4, 12, 4, 59, 987375, tzinfo=UTC)
    frame = pl.DataFrame(
        {"client": ["kubelet"], "requests": [10], "long_running": [4], "incomplete": [1],
         "window_start": [start], "window_end": [end]}
    )  # fmt: skip
    assert render_view(frame).splitlines() == [
        "client   reqs",
        "-------  ----",
        "kubelet    10",
        "window 2019-02-04 12:00:00 .. 12:04:59 UTC (5m 0s)",
        "excluded 4 long-running and 1 incomplete requests (no latency)",
    ]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(VALUES)).flatmap(
    lambda kind: st.tuples(st.just(kind), st.lists(st.one_of(st.none(), VALUES[kind]), max_size=5))
))  # fmt: skip
def test_a_column_of_one_kind_has_the_cells_cell_writes(column: tuple[str, list[Any]]) -> None:
    """The cells of a column written by its kind are those ``cell`` writes value by value."""
    kind, values = column
    decimals = column_decimals(values)
    assert _cells(values, True, kind) == [cell(v, decimals) for v in values]


def test_markdown_finds_a_columns_decimals_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Once a column, not once a value: a 140 k-row answer took 13 minutes as markdown."""
    from k8saudit import tables
    from k8saudit.render import render_markdown
    from k8saudit.rows import Rows

    calls = []
    found = tables.column_decimals

    def counted(values: list[Any]) -> int:
        calls.append(values)
        return found(values)

    monkeypatch.setattr(tables, "column_decimals", counted)
    rows = Rows(("x", "y"), ("float", "float"), ([1.25, 2.0] * 50, [0.5, 1.0] * 50))
    text = render_markdown(rows)
    assert len(calls) == 2
    assert text.splitlines()[2:4] == ["| 1.25 | 0.5 |", "| 2.00 | 1.0 |"]


def test_a_table_lays_out_only_the_columns_it_looks_at(monkeypatch: pytest.MonkeyPatch) -> None:
    """A long answer of 16 columns shows the 3 that fit 80 characters: the columns after the
    first that does not fit are never laid out (who get nodes: 0.96 -> 0.47 s in process)."""
    from k8saudit import tables
    from k8saudit.rows import Rows

    laid_out = []
    cells = tables.column_cells

    def counted(values: list[Any], kind: str = "other") -> list[str]:
        laid_out.append(values[0])
        return cells(values, kind)

    monkeypatch.setattr(tables, "column_cells", counted)
    names = tuple(f"c{i}" for i in range(16))
    rows = Rows(names, ("string",) * 16, tuple([f"{n}-" + "x" * 20] * 3 for n in names))
    text = render_table(rows, width=80)
    assert text.splitlines()[0].split() == ["c0", "c1", "c2"]
    assert laid_out == ["c0-" + "x" * 20, "c1-" + "x" * 20, "c2-" + "x" * 20, "c3-" + "x" * 20]
    assert render_table(rows).splitlines()[0].split() == list(names)
    assert len(laid_out) == 4 + 16


def test_a_table_of_no_columns_says_it_has_no_rows() -> None:
    from k8saudit.rows import Rows

    assert render_table(Rows((), (), ())) == "\n\n(no rows)\n"
    assert render_table(Rows((), (), ()), width=80) == "\n\n(no rows)\n"
