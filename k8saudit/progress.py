"""Progress of a long ingest, for whoever wants to show it (the CLI draws a stderr line).

The library only reports; it never prints. While DuckDB reads one big file natively, a small
thread polls the connection's query progress so that a single multi-gigabyte log still moves.
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
    """Where an ingest run is: ``phase`` is ``reading`` (files) or ``merging`` (the commit)."""

    phase: str
    files_done: int
    files_total: int
    bytes_done: int
    bytes_total: int


Progress = Callable[[IngestProgress], None]


class FileTicker:
    """While one file is read, report ``at`` plus the share of that file DuckDB has got through.

    >>> with FileTicker(con, report, at, size):  # doctest: +SKIP
    ...     read_the_file()
    """

    INTERVAL = 0.25

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        report: Progress | None,
        at: IngestProgress,
        size: int,
    ) -> None:
        self.con = con
        self.report = report
        self.at = at
        self.size = size
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> FileTicker:
        if self.report is not None:
            self.report(self.at)
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        assert self.report is not None
        while not self._stop.wait(self.INTERVAL):
            percent = self.con.query_progress()
            if percent > 0:
                done = self.at.bytes_done + int(self.size * min(percent, 100.0) / 100)
                self.report(replace(self.at, bytes_done=done))

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
