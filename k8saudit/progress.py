"""Progress of a long ingest, for whoever wants to show it (the CLI draws a stderr line).

The library only reports; it never prints. While DuckDB runs one long query (reading a big
file, writing a day of requests), a small thread polls the connection's query progress so
that a single multi-gigabyte log still moves.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb


@dataclass(frozen=True)
class IngestProgress:
    """Where an ingest run is: ``phase`` is ``reading`` (files) or ``merging`` (the commit:
    ``merged_percent`` of its work is done)."""

    phase: str
    files_done: int
    files_total: int
    bytes_done: int
    bytes_total: int
    merged_percent: float = 0.0


Progress = Callable[[IngestProgress], None]


def track_progress(con: duckdb.DuckDBPyConnection, track: bool) -> None:
    """Have DuckDB track the progress of its queries (``track``: for ``QueryTicker``) or not,
    and never print a bar of its own (stdout stays parseable).

    In Jupyter without ipywidgets DuckDB refuses every progress-bar setting (it would draw a
    widget there): the connection keeps its defaults then, and a ticker sees no progress.
    """
    from k8saudit.engine import engine

    try:
        if track:
            con.execute("SET enable_progress_bar = true").fetchall()
            con.execute("SET enable_progress_bar_print = false").fetchall()
        else:
            con.execute("SET enable_progress_bar = false").fetchall()
    except engine.InvalidInputException:
        pass


def bytes_read() -> int | None:
    """Bytes this process has read so far, page cache included (Linux: ``rchar`` of
    /proc/self/io); None where that is not known."""
    try:
        with open("/proc/self/io") as fh:
            for line in fh:
                if line.startswith("rchar:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


class QueryTicker:
    """While DuckDB runs a query on ``con``, report ``at(percent)`` (how far the query is).

    The query's own progress, or, given ``reads`` (the bytes of the files the query reads), the
    share of them read so far: DuckDB's progress stands still while a join's probe side reads.

    >>> with QueryTicker(con, report, lambda p: replace(start, bytes_done=size * p / 100)):
    ...     read_the_file()  # doctest: +SKIP
    """

    INTERVAL = 0.25

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        report: Progress | None,
        at: Callable[[float], IngestProgress],
        reads: int | None = None,
    ) -> None:
        self.con = con
        self.report = report
        self.at = at
        self.reads = reads
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> QueryTicker:
        if self.report is not None:
            self.report(self.at(0.0))
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        assert self.report is not None
        start = bytes_read() if self.reads else None
        while not self._stop.wait(self.INTERVAL):
            now = bytes_read() if start is not None else None
            if self.reads and start is not None and now is not None:
                percent = 100 * (now - start) / self.reads
            else:
                percent = self.con.query_progress()
            if percent > 0:
                self.report(self.at(min(percent, 100.0)))

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


class MergeSteps:
    """The commit's long queries as the steps of one ``merging`` progress.

    ``add(n)`` announces n more steps; each ``step()`` ticks through the next one.
    """

    def __init__(
        self, con: duckdb.DuckDBPyConnection, report: Progress | None, at: IngestProgress
    ) -> None:
        self.con = con
        self.report = report
        self.at = at
        self.steps = 0
        self.done = 0

    def add(self, steps: int) -> None:
        self.steps += steps

    def step(self, reads: int | None = None) -> QueryTicker:
        """The next step (see ``QueryTicker`` for ``reads``)."""
        index = self.done
        self.done += 1

        def at(percent: float) -> IngestProgress:
            share = (index + percent / 100) / max(self.steps, 1)
            return replace(self.at, merged_percent=min(100.0, 100 * share))

        return QueryTicker(self.con, self.report, at, reads)
