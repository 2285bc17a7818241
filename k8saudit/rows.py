"""A query result as plain Python values: what a command renders without importing polars.

The library answers with polars DataFrames, but importing polars costs a command more CPU
than its query on a small dataset (0.16-0.18 s of 0.5). An analysis's result is a few hundred
rows at most, so the command line takes it from DuckDB as Python values instead
(``Dataset.rows``): ``Rows`` holds the names, one kind per column and the values column by
column. It holds only the column types whose every rendering it knows to be the one polars
writes (``KINDS``); a result with another type stays a polars DataFrame. ``as_rows`` turns a
DataFrame into ``Rows`` too (any type, for the text renderers), so ``k8saudit.tables`` and
``k8saudit.render`` lay out both with one implementation.

A long answer (a listing: ``who``, ``activity-timeline``, 140 k rows) is taken as tuples for its
first ``TUPLES_FIRST`` rows only, the rest column by column through numpy (``fetchnumpy``).
Taking such an answer, query included, as a tuple per row turned into columns costs 0.98 s,
this way 0.46 s (best of 3), with the same values (``tests/test_rows.py`` compares them). A
short answer never imports numpy. Its times also keep numpy's texts of them (``Times``): the
text formats write those at once instead of time by time (``time_texts``; CSV of that answer
1.71 -> 1.07 s, whole process), the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    import duckdb
    import numpy as np
    import polars as pl

#: the kind of each DuckDB type ``Rows.from_relation`` takes (no other: HUGEINT, DECIMAL,
#: INTERVAL, STRUCT... stay polars, whose renderings of them are its own)
KINDS = {
    "VARCHAR": "string",
    "BOOLEAN": "boolean",
    "DOUBLE": "float",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "VARCHAR[]": "list",
    **dict.fromkeys(
        ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER",
         "UBIGINT"),
        "integer",
    ),
}  # fmt: skip
#: the rows of an answer taken as Python tuples; the rest are taken column by column
TUPLES_FIRST = 10_000
#: the zone of the times DuckDB gives a connection in UTC (``fetchall``'s, to the object)
UTC = ZoneInfo("UTC")
#: how DuckDB stores TIMESTAMPTZ 'infinity' and '-infinity' (microseconds)
_INFINITY = 2**63 - 1

#: kinds whose values are numbers (right-aligned, one style per column)
NUMERIC = frozenset({"integer", "float", "decimal"})
#: kinds whose values are points or lengths of time
TEMPORAL = frozenset({"timestamptz", "temporal"})


@dataclass(frozen=True)
class Rows:
    """Columns of plain Python values: ``names``, a kind per column (``KINDS``' values, or
    ``"decimal"``, ``"temporal"``, ``"other"`` for a DataFrame's other types) and ``values``,
    one list per column.

    >>> rows = Rows(("client", "n"), ("string", "integer"), (["kubelet", "kubectl"], [3, 1]))
    >>> rows.height, rows.row(1, named=True)
    (2, {'client': 'kubectl', 'n': 1})
    """

    names: tuple[str, ...]
    kinds: tuple[str, ...]
    values: tuple[list[Any], ...]

    @classmethod
    def from_relation(cls, relation: duckdb.DuckDBPyRelation) -> Rows | None:
        """The rows of a DuckDB relation, or None when a column's type is not one of ``KINDS``
        (nothing is run then).

        >>> import duckdb
        >>> Rows.from_relation(duckdb.sql("SELECT 'a' AS s, 2 AS n")).values
        (['a'], [2])
        """
        return cls._of(relation.columns, relation.types, relation.fetchall)

    @classmethod
    def from_executed(cls, con: duckdb.DuckDBPyConnection) -> Rows | None:
        """The rows of the statement ``con`` has just run (``con.execute``), or None when a
        column's type is not one of ``KINDS`` (nothing is fetched then). A relation binds its
        statement to learn the types and plans it again to run it; this plans it once.

        >>> import duckdb
        >>> Rows.from_executed(duckdb.connect().execute("SELECT 'a' AS s, 2 AS n")).values
        (['a'], [2])
        """
        described = con.description or []
        return cls._of([d[0] for d in described], [d[1] for d in described], con.fetchall, con)

    @classmethod
    def _of(
        cls,
        columns: list[str],
        types: list[Any],
        fetchall: Callable[[], list[tuple[Any, ...]]],
        long: duckdb.DuckDBPyConnection | None = None,
    ) -> Rows | None:
        """``long``: the connection whose result this is, which may be long (a relation runs
        again at every fetch: it is fetched whole)."""
        found = [KINDS.get(str(kind)) for kind in types]
        kinds = tuple(k for k in found if k)
        if len(kinds) < len(found):
            return None
        names = tuple(columns)
        # numpy gives a list as an array, and a column by its name
        if long is None or "list" in kinds or len(set(names)) < len(names):
            values = [list(column) for column in zip(*fetchall(), strict=True)]
        else:
            first = long.fetchmany(TUPLES_FIRST)
            values = [list(column) for column in zip(*first, strict=True)]
            if len(first) == TUPLES_FIRST:
                rest = long.fetchnumpy()
                values = [
                    Times(head, rest[name]) if kind == "timestamptz" else head + rest[name].tolist()
                    for head, name, kind in zip(values, names, kinds, strict=True)
                ]
        return cls(names, kinds, tuple(values) or tuple([] for _ in names))

    @property
    def columns(self) -> list[str]:
        return list(self.names)

    @property
    def height(self) -> int:
        return len(self.values[0]) if self.values else 0

    def column(self, name: str) -> list[Any]:
        return self.values[self.names.index(name)]

    def kind(self, name: str) -> str:
        return self.kinds[self.names.index(name)]

    def row(self, index: int, named: bool = False) -> Any:
        """Row ``index`` as a tuple, or a dict by column name (as a DataFrame's ``row``)."""
        row = tuple(column[index] for column in self.values)
        return dict(zip(self.names, row, strict=True)) if named else row

    def select(self, names: Iterable[str]) -> Rows:
        at = [self.names.index(name) for name in names]
        return Rows(
            tuple(self.names[i] for i in at),
            tuple(self.kinds[i] for i in at),
            tuple(self.values[i] for i in at),
        )

    def rename(self, mapping: Mapping[str, str]) -> Rows:
        return Rows(tuple(mapping.get(n, n) for n in self.names), self.kinds, self.values)


class Times(list[Any]):
    """A column of times of a long answer, the ones after its first ``start`` rows fetched
    through numpy: the values ``fetchall`` gives (``_python_times``), and those times as numpy
    writes them, for the text formats to write them at once (``iso_tail``).
    """

    def __init__(self, head: list[Any], tail: np.ndarray) -> None:
        super().__init__(head + _python_times(tail))
        self.start = len(head)
        self._tail = tail

    def iso_tail(self) -> list[str | None] | None:
        """The times after the first ``start`` as ``YYYY-MM-DDTHH:MM:SS.ffffff`` (UTC; None
        for NULL), or None when one is before the year 1000 or after 9999 (they take the way
        of each value: a year with fewer digits, infinity, DuckDB's text)."""
        import numpy as np

        stamps = np.ma.getdata(self._tail)
        valid = ~np.ma.getmaskarray(self._tail)
        inside = (stamps >= np.datetime64("1000-01-01")) & (stamps < np.datetime64("10000-01-01"))
        if not (inside | ~valid).all():
            return None
        texts: list[str | None] = np.datetime_as_string(stamps, unit="us").tolist()
        if not valid.all():
            texts = [t if ok else None for t, ok in zip(texts, valid.tolist(), strict=True)]
        return texts


def time_texts(
    values: Sequence[Any],
    each: Callable[[datetime], str],
    from_iso: Callable[[list[str | None]], list[str]],
    null: str = "",
) -> list[str]:
    """A column of times written as ``each`` writes one (``null`` for NULL), those of a long
    answer at once: by ``from_iso`` from their ``Times.iso_tail`` texts (None for NULL)."""
    if isinstance(values, Times) and (tail := values.iso_tail()) is not None:
        head = values[: values.start]
        return [null if v is None else each(v) for v in head] + from_iso(tail)
    return [null if v is None else each(v) for v in values]


def _python_times(column: np.ndarray) -> list[Any]:
    """A column of times ``fetchnumpy`` gave as the values ``fetchall`` gives: None for NULL,
    a time in the zone UTC, 'infinity' as the naive ``datetime.max`` (and its negative as
    ``datetime.min``), a time past the year 9999 as DuckDB's text. (Any other column's
    ``tolist`` is ``fetchall``'s values: masked values become None.)"""
    times: list[Any] = []
    for value in column.tolist():
        if isinstance(value, datetime):
            times.append(value.replace(tzinfo=UTC))
        elif value is None:
            times.append(None)
        else:  # microseconds that no datetime holds
            times.append(_time_beyond(value))
    return times


def _time_beyond(micros: int) -> Any:
    """What ``fetchall`` gives for a TIMESTAMPTZ that no ``datetime`` holds (rare: only data
    made to hold one)."""
    if micros == _INFINITY:
        return datetime.max
    if micros == -_INFINITY:
        return datetime.min
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'").fetchall()
    ((text,),) = con.execute("SELECT make_timestamp($u)::TIMESTAMPTZ", {"u": micros}).fetchall()
    return text


def as_rows(frame: pl.DataFrame | Rows) -> Rows:
    """``frame`` as ``Rows``: a DataFrame's values as Python values, each column's kind from
    its type.

    >>> import polars as pl
    >>> as_rows(pl.DataFrame({"s": ["a"], "x": [1.5]})).kinds
    ('string', 'float')
    """
    if isinstance(frame, Rows):
        return frame
    names = tuple(frame.columns)
    kinds = tuple(_kind(frame.schema[name]) for name in names)
    return Rows(names, kinds, tuple(frame[name].to_list() for name in names))


def _kind(dtype: Any) -> str:
    import polars as pl

    if dtype == pl.String:
        return "string"
    if dtype == pl.Boolean:
        return "boolean"
    if dtype.is_integer():
        return "integer"
    if dtype.is_float():
        return "float"
    if dtype.is_numeric():
        return "decimal"
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
        return "timestamptz"
    if dtype.is_temporal():
        return "temporal"
    if isinstance(dtype, pl.List | pl.Array):
        return "list"
    return "other"
