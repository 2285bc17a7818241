"""The fast path: clean audit logs read where they lie, keys first, events only where kept.

A clean JSON-lines audit log (every line an audit event with an audit ID and a known stage, or
blank), plain or compressed, is not copied into the staging table. A first pass keeps each
event's audit ID, stage, times and line in ``direct_keys`` (``read_json`` on both cores, in file
order, so the n-th row is line n when the line count taken while hashing matches; otherwise the
lines are read with ``read_csv``); the commit finds each request's one event from the keys alone
(``requests``) and reads the file once more for exactly those rows (``sql/direct_events.sql``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import duckdb

from k8saudit.ingestion import audit_sources
from k8saudit.io import Compression, SourceFile
from k8saudit.query_loader import compose
from k8saudit.sqlfiles import internal_sql, run_sql


@dataclass(frozen=True)
class DirectFile:
    """A clean audit log read in place: its events are keyed in ``direct_keys``."""

    batch: int
    path: str  # as given to read_json, which reports it as `filename`
    display: str
    compression: Compression
    size: int  # bytes as stored
    days: frozenset[date | None]  # when its events were received (None: no time stated)
    blank: int  # blank lines


class InPlaceFiles:
    """The clean audit logs of a run read in place, and their keys (tables ``direct_keys``,
    ``direct_files``). Batch numbers come from the run's ``Stager`` (``next_batch``)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, next_batch: Callable[[], int]) -> None:
        self.con = con
        self.next_batch = next_batch
        self.files: dict[int, DirectFile] = {}
        self.enabled = True  # False: every audit log is read line by line (tests compare)
        run_sql(con, "direct_tables")

    def key_file(
        self, source: SourceFile, lines: Callable[[], int | None]
    ) -> tuple[int, int] | None:
        """Key the events of a JSON-lines audit log without staging them.

        The file is read on every core, in file order (``preserve_insertion_order``), so the
        n-th row is line n: by ``read_json`` when the file has no blank line (its ``lines()``,
        counted while hashing, decompressed if need be, equal the rows read), else (or when
        its lines were not counted: None) by reading its lines. Returns (events, blank lines),
        or None when the file is not clean (a malformed line, an object that is not an audit
        event, an event without audit ID or of an unknown stage): nothing is kept then, and the
        caller reads it line by line.
        """
        batch = self.next_batch()
        try:
            found = self._scan_keys(source, by_lines=False)
            if found is not None and found[2] != lines():
                # blank lines, which read_json skips, or lines not counted: number lines instead
                self.con.execute("DROP TABLE _direct_scan").fetchall()
                found = self._scan_keys(source, by_lines=True)
            if found is None:
                return None
            events, blank, _, days = found
            run_sql(self.con, "direct_keys_insert", batch=batch)
        finally:
            self.con.execute("DROP TABLE IF EXISTS _direct_scan").fetchall()
        run_sql(
            self.con, "direct_files_insert", batch=batch, path=str(source.path),
            display=source.display,
        )  # fmt: skip
        self.files[batch] = DirectFile(
            batch,
            str(source.path),
            source.display,
            source.compression,
            source.size,
            frozenset(days),
            blank,
        )
        return events, blank

    def _scan_keys(
        self, source: SourceFile, by_lines: bool
    ) -> tuple[int, int, int, list[date | None]] | None:
        """Fill ``_direct_scan`` (audit_id, stage, its times, _status; a row per line when
        ``by_lines``, else per event) in file order. Returns (events, blank lines, rows, days),
        or None (and no table) when a line is not a clean audit event."""
        if by_lines:
            src = audit_sources.key_lines(source)
        else:
            src = audit_sources.in_place(
                {source.compression.value: [str(source.path)]}, bodies=None
            )
        self.con.execute("SET preserve_insertion_order = true").fetchall()
        try:
            scan = compose(
                internal_sql("direct_scan"), src=src.sql, keys=internal_sql("audit_keys")
            )
            self.con.execute(scan, src.params).fetchall()
        except duckdb.Error:
            return None
        finally:
            self.con.execute("SET preserve_insertion_order = false").fetchall()
        ((events, blank, unfit, rows, days),) = run_sql(self.con, "direct_scan_summary")
        if unfit:
            self.con.execute("DROP TABLE _direct_scan").fetchall()
            return None
        return int(events), int(blank), int(rows), days or []

    def batches(self, day: date | None) -> list[int]:
        """The files read in place that have events received on ``day`` (None: no time)."""
        return [batch for batch, direct in self.files.items() if day in direct.days]

    def paths(self, day: date | None) -> dict[str, list[str]]:
        """``batches(day)`` by compression (``none``, ``gzip``, ``zstd``: read_json is told,
        not left to guess)."""
        paths: dict[str, list[str]] = {}
        for batch in self.batches(day):
            direct = self.files[batch]
            paths.setdefault(direct.compression.value, []).append(direct.path)
        return paths

    def days(self) -> set[date | None]:
        """The days on which the events of the files read in place were received."""
        return set().union(*(d.days for d in self.files.values()))

    def forget_after(self, mark: int) -> None:
        """Forget the files keyed after batch ``mark`` (their rows are already deleted)."""
        for batch in [b for b in self.files if b > mark]:
            del self.files[batch]

    def clear(self) -> None:
        """Forget every file and key (they were staged as any other file's events)."""
        run_sql(self.con, "direct_clear")
        self.files.clear()
