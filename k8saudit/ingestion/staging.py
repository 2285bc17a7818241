"""The run's staging area: raw event rows of every file read, in one DuckDB table, by batch.

An ingest run reads its files into the table ``staged`` (``schema.RAW_EVENT_SCHEMA`` plus the
bookkeeping columns ``_item``, ``_status``, ``_reject_text``, ``request_key``, ``_batch``) of a
compressed in-memory database of its own connection, spilling to the work area beyond the memory
limit. Each insert is one *batch* (a file, or a part of one) with its own number, so a reader can
count and inspect what its file contributed, and a file given up undoes exactly its batches.
Clean audit logs are not copied here at all: ``in_place`` keeps only their keys.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import duckdb

from k8saudit.exceptions import UsageError
from k8saudit.formats import access_patterns
from k8saudit.formats.audit_json import MAX_LINE_BYTES
from k8saudit.formats.httplog import K8S_VERBS
from k8saudit.ingestion.audit_sources import Source
from k8saudit.ingestion.clock import KlogClock
from k8saudit.ingestion.in_place import InPlaceFiles
from k8saudit.interrupts import watch
from k8saudit.io import SourceFile
from k8saudit.progress import track_progress
from k8saudit.query_loader import compose
from k8saudit.schema import RAW_EVENT_TYPES, empty_relation
from k8saudit.sqlfiles import create_macros, internal_sql, run_sql

if TYPE_CHECKING:
    import pyarrow as pa

MEMORY_ENV = "K8SAUDIT_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "1400MB"
COMPRESS_ABOVE_BYTES = 400 << 20  # staged rows taking more memory than this get compressed
#: access-log text (uncompressed, estimated) beyond which the stage is a file in the work area
STAGE_ON_DISK_ABOVE_BYTES = 400 << 20


class AccessScan(NamedTuple):
    """What ``Stager.access_file`` made of an access log it took."""

    batch: int  #: the batch its access lines were staged as
    lines: int  #: every line of the file
    skipped: int  #: the lines the reference reader skips (no access line, none continued)
    wrapper_timed: int  #: the access lines timed by their CRI wrapper


def connect(work: Path, *, on_disk: bool = False) -> duckdb.DuckDBPyConnection:
    """The run's DuckDB connection: UTC, bounded memory spilling to ``work``, a compressed
    in-memory database for the staged rows, or with ``on_disk`` a database file in ``work``."""
    con = watch(duckdb.connect())
    con.execute("SET TimeZone = 'UTC'").fetchall()
    # Track query progress (progress.QueryTicker polls it) but never print DuckDB's own bar:
    # it writes to stdout, which must stay parseable.
    track_progress(con, True)
    # Line numbers come from WITH ORDINALITY, computed at the scan: output order is free.
    con.execute("SET preserve_insertion_order = false").fetchall()
    # Beyond this DuckDB spills to the work area. Measured peak RSS: 1.4 GB on a 4.5 GB audit
    # log, 1.6 GB on 2.2 GB that needed the general merge. More memory makes big runs faster.
    limit = os.environ.get(MEMORY_ENV, DEFAULT_MEMORY_LIMIT)
    try:
        con.execute("SET memory_limit = $m", {"m": limit}).fetchall()
    except duckdb.Error:
        raise UsageError(
            f"{MEMORY_ENV}={limit!r} is not a memory size (e.g. 1400MB, 4GB)"
        ) from None
    con.execute("SET temp_directory = $t", {"t": str(work / "spill")}).fetchall()
    # Staged events live in a compressed in-memory database: after a CHECKPOINT (the Stager
    # takes one when they grow large) they take ~15x less memory than plain tables, so big runs
    # stop spilling to disk. Beyond a few hundred MB of access log a database file holds them
    # better: its checkpoints leave memory to the scan (bench/RESULTS.md, session 19).
    if on_disk:
        con.execute("ATTACH $f AS stage", {"f": str(work / "stage.duckdb")}).fetchall()
    else:
        con.execute("ATTACH ':memory:' AS stage (COMPRESS)").fetchall()
    con.execute("USE stage").fetchall()
    create_macros(con)
    return con


class Stager:
    """Collects the raw event rows of one ingest run in the DuckDB table ``staged``.

    ``in_place`` holds the keys of the clean audit logs read where they lie; the view
    ``run_keys`` (``sql/run_keys.sql``) is every valid audit event of the run, either way.
    ``bodies_key``: the run keeps request and response bodies (``ingest --keep-bodies``),
    redacted with this key (``formats.redact``); the connection has the function
    ``redact_body`` then. None: bodies are not read.
    """

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        work: Path,
        clock: KlogClock | None = None,
        stored_audit_end: datetime | None = None,
        bodies_key: bytes | None = None,
    ) -> None:
        self.con = con
        self.bodies_key = bodies_key
        self.bodies = bodies_key is not None
        self.work = work
        self.clock = clock or KlogClock()
        self.stored_audit_end = stored_audit_end
        self._batches = 0
        self._files = 0
        self._counts: dict[int, tuple[int, int, int]] = {}
        # from the DuckDB types: a run that stages nothing through Arrow never imports pyarrow
        con.execute(
            compose(internal_sql("staged_table"), raw_schema=empty_relation(RAW_EVENT_TYPES))
        ).fetchall()
        self.in_place = InPlaceFiles(con, self.next_batch)
        run_sql(con, "run_keys")

    def next_batch(self) -> int:
        """A new batch number, after compressing the staged rows if they grew large."""
        self._compress_when_large()
        self._batches += 1
        return self._batches

    def temp_path(self, suffix: str) -> Path:
        """A fresh file name in the run's work area."""
        self._files += 1
        return self.work / f"stage-{self._files:05d}.{suffix}"

    def _insert(self, relations: dict[str, str], params: dict[str, Any]) -> int:
        """Insert the rows of the relation ``batch_rows`` (RAW_EVENT columns, ``_item``,
        ``_status`` and ``_reject_text``; ``relations`` says what it and the relations it reads
        are) as a new batch, and give each request its key."""
        batch = self.next_batch()
        insert = compose(internal_sql("stage_batch"), **relations)
        self.con.execute(insert, {**params, "batch": batch}).fetchall()
        self._account(batch)
        return batch

    def _account(self, batch: int) -> None:
        """Count the rows of a batch just staged, and key those without an audit ID."""
        ((rows, valid, blank, keyless),) = run_sql(self.con, "batch_counts", batch=batch)
        self._counts[batch] = (rows, valid, blank)
        if keyless:
            # events without an audit ID (old access logs, trimmed exports) are keyed by what
            # they say and their rank among identical ones: the same line read again (a grown
            # or recompressed file) gets the same key and is not counted twice
            run_sql(self.con, "key_by_content", batch=batch)

    def _compress_when_large(self) -> None:
        """CHECKPOINT (which compresses staged rows ~15x, see ``connect``) once they take real
        memory, before more are added; below that it would cost time for nothing, and after
        the last file it would too (0.8 s for the keys of a 4.5 GB log)."""
        ((used,),) = run_sql(self.con, "staged_memory")
        if used > COMPRESS_ABOVE_BYTES:
            self.con.execute("CHECKPOINT").fetchall()

    def audit_events(self, src: Source) -> int:
        """Stage the audit Events of ``src`` (a relation with Event columns)."""
        relations = {"src": src.sql, "batch_rows": internal_sql("audit_events")}
        return self._insert(relations, src.params)

    def arrow(self, table: pa.Table, items: list[int] | None = None) -> int:
        """Stage raw event rows given as an Arrow table of ``RAW_EVENT_SCHEMA``.

        ``items`` ranks each row among the rows of the same source line (default: all 0).
        """
        import pyarrow as pa

        ranks = pa.array(items if items is not None else [0] * table.num_rows, pa.int32())
        self.con.register("_raw_arrow", table.append_column("_item", ranks))
        try:
            return self._insert({"batch_rows": internal_sql("arrow_rows")}, {})
        finally:
            self.con.unregister("_raw_arrow")

    def access_file(
        self, source: SourceFile, year: int, lines: Callable[[], int | None]
    ) -> AccessScan | None:
        """Stage an access log read by DuckDB alone (``sql/access_scan.sql``) when every one
        of its ``lines()`` lines is a canonical access line (``formats.access_patterns``) with
        a valid date (the klog clock's in ``year``, UTC, unless a CRI wrapper times the line),
        a klog line that is no access line, or a line that only continues one (a trace step,
        a stack, blank or indented text), and the klog clock's year does not change within the
        file. Returns what it staged, else None (nothing staged: the caller reads the file with
        ``formats.access_fast``).

        ``lines()`` is the file's count of lines (None: unknown, e.g. a copy, and the file is
        left to the other readers): DuckDB also ends a line at a lone carriage return, which
        the readers in Python keep inside its line, so that lines are only numbered alike when
        the counts agree. It is asked for once the scan has read the file: the thread that
        hashes the file and counts its lines runs beside the scan, not before it. A file DuckDB
        cannot read (invalid UTF-8, a line too long) is left to the other readers too.
        """
        params = {
            "path": str(source.path),
            "compression": source.compression.value,
            "max_line": MAX_LINE_BYTES,
            "source_file": source.display,
            "year": year,
            "header": access_patterns.HEADER,
            "duration": access_patterns.DURATION,
            "cri": access_patterns.CRI,
            "journald": access_patterns.JOURNALD,
            "klog": access_patterns.KLOG,
            "run_on": access_patterns.RUN_ON,
            "glog_like": access_patterns.GLOG_LIKE,
            "verb_names": list(K8S_VERBS),
            "verb_values": list(K8S_VERBS.values()),
        }
        batch = self.next_batch()
        self.con.execute("SET preserve_insertion_order = true").fetchall()
        try:
            run_sql(self.con, "access_pieces")
            run_sql(self.con, "access_scan", reading={"lines": "log_lines"}, batch=batch, **params)
        except duckdb.InterruptException:
            raise
        except duckdb.Error:  # the statement staged nothing
            return None
        finally:
            self.con.execute("SET preserve_insertion_order = false").fetchall()
        summary = run_sql(self.con, "access_scan_summary", batch=batch)
        ((rows, unfit, wrapper_timed, new_year, skipped),) = summary
        if rows != lines() or unfit or new_year:
            self.discard_after(batch - 1)
            # the rows took memory: a checkpoint drops the row groups they filled
            self.con.execute("CHECKPOINT stage").fetchall()
            return None
        run_sql(self.con, "access_scan_lines", batch=batch)
        self._account(batch)
        return AccessScan(batch, rows, skipped, wrapper_timed)

    def staged_audit_days(self) -> set[date | None]:
        """The days on which the staged audit events were received (None: no time stated)."""
        return {day for (day,) in run_sql(self.con, "staged_audit_days")}

    def has_access_lines(self) -> bool:
        """Did this run stage any access-log line?"""
        ((found,),) = run_sql(self.con, "has_access_lines")
        return bool(found)

    def audit_end(self) -> datetime | None:
        """When the last audit event of this run or of the dataset was received."""
        ((staged,),) = run_sql(self.con, "run_audit_end")
        ends = [t for t in (staged, self.stored_audit_end) if t is not None]
        return max(ends) if ends else None

    def mark(self) -> int:
        """The last batch number so far; ``discard_after(mark)`` undoes everything since."""
        return self._batches

    def discard_after(self, mark: int) -> None:
        """Drop the rows of every batch staged (or keyed in place) after ``mark``."""
        run_sql(self.con, "discard_batches", mark=mark)
        self.in_place.forget_after(mark)

    def attribute(self, mark: int, apiserver: str) -> None:
        """The requests staged or keyed after ``mark`` that name no apiserver went to
        ``apiserver`` (``sql/attribute_apiserver.sql``)."""
        run_sql(self.con, "attribute_apiserver", mark=mark, apiserver=apiserver)

    def observed_since(
        self, mark: int, file_time: datetime
    ) -> list[tuple[str | None, datetime, datetime]]:
        """(apiserver, first, last instant observed) of the lines staged or keyed after
        ``mark``, from a file last written at ``file_time`` (``sql/observed_spans.sql``)."""
        return [(server, first, last) for server, first, last in run_sql(
            self.con, "observed_spans", mark=mark, file_time=file_time
        )]  # fmt: skip

    def suspicious_since(self, mark: int, file_time: datetime) -> tuple[int, int | None]:
        """How many events staged or keyed after ``mark`` have a suspicious time (macros.sql:
        ``is_plausible_time``), and the first line of one (``sql/suspicious_times.sql``)."""
        ((count, line),) = run_sql(self.con, "suspicious_times", mark=mark, file_time=file_time)
        return count, line

    def counts(self, batch: int) -> tuple[int, int, int]:
        """Rows of a batch: all, valid events, blank lines."""
        return self._counts[batch]

    def rejects(self, batch: int) -> list[tuple[int, str, str | None]]:
        """(line, reason, text or None) of the rejected rows of a batch, in line order."""
        rows = run_sql(self.con, "batch_rejects", batch=batch)
        return [(line, reason, text) for line, reason, text in rows]
