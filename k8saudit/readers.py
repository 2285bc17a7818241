"""Turning one input file into staged raw event rows, whatever its format.

Each reader takes a discovered file, inserts its raw event rows (``schema.RAW_EVENT_SCHEMA``)
into the run's DuckDB table ``staged`` (see ``Stager``), and accounts for every record it read:
an event, skipped (noise k8saudit has no use for, blank lines) or rejected (kept with line,
reason and text). At commit the pipeline derives and merges the staged rows into requests.

Audit logs in JSON lines go through DuckDB alone. A clean one (every line an audit event with an
audit ID, or blank), compressed or not, is read *in place* (``Stager.direct_audit_file``): only
each event's key, stage, time and line are staged, and the commit reads the file again for the
events it keeps. One with bad lines is read line by line with ``json_transform`` and staged
whole, its bad lines rejected. Everything else is read record by record in Python: wrapped
Events are unwrapped into a temporary JSON-lines file and then take the same SQL; GKE entries
and access-log lines become Arrow tables.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from typing import IO, Any

import duckdb
import pyarrow as pa

from k8saudit.formats import audit_json
from k8saudit.formats.detect import Format
from k8saudit.formats.envelopes import Item, unwrap
from k8saudit.formats.gke import gke_entry_to_raw
from k8saudit.io import BOM, Compression, SourceFile, iter_lines, open_text
from k8saudit.merge import ACCESS_ROWS, RUN_KEYS, audit_rows
from k8saudit.schema import RAW_EVENT_COLUMNS, RAW_EVENT_SCHEMA
from k8saudit.sqlfiles import internal_sql

#: the stages of an audit Event; a file with another is not read in place
STAGES = ("RequestReceived", "ResponseStarted", "ResponseComplete", "Panic")
REJECT_TEXT_LIMIT = 4096  # characters of a rejected line kept in the rejects file
ARROW_BATCH_ROWS = 65536  # rows built in Python are staged in batches of this size
COMPRESS_ABOVE_BYTES = 400 << 20  # staged rows taking more memory than this get compressed


@dataclass(frozen=True)
class Reject:
    """One input record that could not be read."""

    line: int
    reason: str
    text: str


@dataclass
class FileResult:
    """What reading one file produced."""

    format: str
    records: int = 0  # lines (or documents' items) read
    events: int = 0  # rows staged
    skipped: int = 0
    rejects: list[Reject] = field(default_factory=list)
    skip_reasons: Counter[str] = field(default_factory=Counter)
    time_source: str | None = None  # where klog timestamps took their year from

    def reject(self, line: int, reason: str, text: str) -> None:
        self.rejects.append(Reject(line, reason, text[:REJECT_TEXT_LIMIT]))

    def skip(self, reason: str, count: int = 1) -> None:
        self.skipped += count
        self.skip_reasons[reason] += count


@dataclass(frozen=True)
class KlogClock:
    """How to read klog timestamps, which carry neither a year nor a zone.

    A wrapper's full timestamp (CRI, docker, JSON logging) always wins; otherwise the year is
    ``year`` (``ingest --year``), else the one its envelope states, else that of the audit events
    ingested with it (same cluster, same period), else the file's mtime year; the clock is read
    in ``tz`` (``ingest --tz``, default UTC).
    """

    year: int | None = None
    tz: tzinfo = UTC

    def resolve(
        self,
        source: SourceFile,
        stated: int | None = None,
        first_month: int | None = None,
        audit_end: datetime | None = None,
    ) -> tuple[int, str]:
        """The year of the first klog line of ``source``, and a sentence saying where it came from.

        Both ``audit_end`` (the last audit event) and the modification time mark the *end* of
        the log: a log whose first line is in a later month than that (December lines, January
        end) began the year before.
        """
        zone = str(self.tz)
        if self.year is not None:
            return self.year, f"year {self.year} from --year, zone {zone}"
        if stated is not None:
            return stated, f"year {stated} from the log records' own timestamps, zone {zone}"
        if audit_end is not None:
            end, origin = audit_end, "the audit events ingested with it"
        else:
            end = datetime.fromtimestamp(source.path.stat().st_mtime, UTC)
            origin = "the file's modification time"
        year = end.year - (1 if first_month and first_month > end.month else 0)
        return year, f"year {year} from {origin}, zone {zone}"


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


class Stager:
    """Collects the raw event rows of one ingest run in the DuckDB table ``staged``.

    Each insert is one *batch* (a file, or a part of one) with its own number, so a reader can
    count and inspect what its file contributed. The table lives in the run's DuckDB connection
    (in memory, spilling to the work area beyond the memory limit) and is gone with it.

    Clean audit logs are not copied: ``direct_keys`` holds each of their events' request key,
    stage, times and line, and ``direct_files`` their paths (see ``direct_audit_file``).
    ``merge.RUN_KEYS`` is every valid event of the run, either way.
    """

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        work: Path,
        clock: KlogClock | None = None,
        stored_audit_end: datetime | None = None,
    ) -> None:
        self.con = con
        self.work = work
        self.clock = clock or KlogClock()
        self.stored_audit_end = stored_audit_end
        self._batches = 0
        self._files = 0
        self._counts: dict[int, tuple[int, int, int]] = {}
        con.register("_raw_schema", RAW_EVENT_SCHEMA.empty_table())
        con.execute(
            "CREATE TABLE staged AS SELECT *, NULL::INTEGER AS _item, NULL::VARCHAR AS _status, "
            "NULL::VARCHAR AS _reject_text, NULL::VARCHAR AS request_key, "
            "NULL::INTEGER AS _batch FROM _raw_schema"
        ).fetchall()
        con.unregister("_raw_schema")
        con.execute(f"CREATE TYPE audit_stage AS ENUM ({', '.join(map(repr, STAGES))})").fetchall()
        con.execute(  # a stage in one byte: keys of a 4.5 GB log take 165 MB less
            "CREATE TABLE direct_keys (_batch INTEGER, audit_id VARCHAR, stage audit_stage, "
            "stage_at TIMESTAMPTZ, received_at TIMESTAMPTZ, source_line BIGINT)"
        ).fetchall()
        con.execute(
            "CREATE TABLE direct_files (_batch INTEGER, path VARCHAR, display VARCHAR)"
        ).fetchall()
        self.direct: dict[int, DirectFile] = {}

    def temp_path(self, suffix: str) -> Path:
        """A fresh file name in the run's work area."""
        self._files += 1
        return self.work / f"stage-{self._files:05d}.{suffix}"

    def _insert(self, raw_sql: str, params: dict[str, Any]) -> int:
        """Insert the rows of ``raw_sql`` (RAW_EVENT columns, ``_item``, ``_status``,
        ``_reject_text``) as a new batch, and give each request its key."""
        self._compress_when_large()
        self._batches += 1
        batch = self._batches
        self.con.execute(
            "INSERT INTO staged BY NAME SELECT *, audit_id AS request_key, "
            f"$batch AS _batch FROM ({raw_sql})",
            {**params, "batch": batch},
        ).fetchall()
        ((rows, valid, blank, keyless),) = self.con.execute(
            "SELECT count(*), count(*) FILTER (WHERE _status = 'ok'), "
            "count(*) FILTER (WHERE _status = 'blank'), "
            "count(*) FILTER (WHERE _status = 'ok' AND audit_id IS NULL) "
            "FROM staged WHERE _batch = $b",
            {"b": batch},
        ).fetchall()
        self._counts[batch] = (rows, valid, blank)
        if keyless:
            self._key_by_content(batch)
        return batch

    def _compress_when_large(self) -> None:
        """CHECKPOINT (which compresses staged rows ~15x, see pipeline) once they take real
        memory, before more are added; below that it would cost time for nothing, and after
        the last file it would too (0.8 s for the keys of a 4.5 GB log)."""
        ((used,),) = self.con.execute(
            "SELECT coalesce(sum(memory_usage_bytes), 0) FROM duckdb_memory() "
            "WHERE tag = 'IN_MEMORY_TABLE'"
        ).fetchall()
        if used > COMPRESS_ABOVE_BYTES:
            self.con.execute("CHECKPOINT").fetchall()

    def _key_by_content(self, batch: int) -> None:
        """Key the events of a batch that have no audit ID (old access logs, trimmed exports)
        by what they say, plus their rank among identical ones in the file: the same line read
        again (a grown or recompressed file) gets the same key and is not counted twice."""
        self.con.execute(
            "UPDATE staged SET request_key = k.key FROM ("
            "  SELECT r, '~' || h::VARCHAR || '.' || "
            "    row_number() OVER (PARTITION BY h ORDER BY source_line, _item) AS key"
            f"  FROM (SELECT rowid AS r, hash({CONTENT_COLUMNS}) AS h, source_line, _item"
            "        FROM staged WHERE _batch = $batch AND audit_id IS NULL AND _status = 'ok')"
            ") AS k WHERE staged.rowid = k.r",
            {"batch": batch},
        ).fetchall()

    def direct_audit_file(
        self, source: SourceFile, lines: Callable[[], int | None]
    ) -> tuple[int, int] | None:
        """Key the events of a JSON-lines audit log without staging them.

        The file is read on every core, in file order (``preserve_insertion_order``), so the
        n-th row is line n: by ``read_json`` when the file is uncompressed and has no blank
        line (its ``lines()``, counted while hashing, equal the rows read), else by reading
        its lines. Returns (events, blank lines), or None when the file is not clean (a
        malformed line, an object that is not an audit event, an event without audit ID or of
        an unknown stage): nothing is kept then, and the caller reads it line by line.
        """
        self._compress_when_large()
        self._batches += 1
        batch = self._batches
        by_lines = source.compression is not Compression.NONE
        try:
            found = self._scan_keys(source, by_lines)
            if found is not None and not by_lines and found[2] != lines():
                self.con.execute("DROP TABLE _direct_scan").fetchall()
                by_lines = True  # blank lines, which read_json skips: number lines instead
                found = self._scan_keys(source, by_lines)
            if found is None:
                return None
            events, blank, _, days = found
            self.con.execute(
                "INSERT INTO direct_keys SELECT $batch, audit_id, stage, stage_at, received_at, "
                "rowid + 1 FROM _direct_scan WHERE _status = 'ok'",
                {"batch": batch},
            ).fetchall()
        finally:
            self.con.execute("DROP TABLE IF EXISTS _direct_scan").fetchall()
        self.con.execute(
            "INSERT INTO direct_files VALUES ($batch, $path, $display)",
            {"batch": batch, "path": str(source.path), "display": source.display},
        ).fetchall()
        self.direct[batch] = DirectFile(
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
        params: dict[str, Any]
        if by_lines:
            src = audit_json.audit_lines_source(source.compression, numbered=False, keys_only=True)
            params = {
                "path": str(source.path),
                "schema": audit_json.event_schema(unwrapped=False, keys_only=True),
                "source_file": source.display,
            }
        else:
            src = audit_json.direct_audit_source(source.compression)
            params = {f"paths_{source.compression.value}": [str(source.path)]}
        self.con.execute("SET preserve_insertion_order = true").fetchall()
        try:
            self.con.execute(
                "CREATE TEMP TABLE _direct_scan AS "
                "SELECT audit_id, stage, stage_at, received_at, _status "
                f"FROM (WITH src AS ({src}) {internal_sql('audit_events')})",
                params,
            ).fetchall()
        except duckdb.Error:
            return None
        finally:
            self.con.execute("SET preserve_insertion_order = false").fetchall()
        ((events, blank, unfit, rows, days),) = self.con.execute(
            "SELECT count(*) FILTER (WHERE _status = 'ok'), count(*) FILTER (WHERE _status = "
            "'blank'), count(*) FILTER (WHERE _status NOT IN ('ok', 'blank') OR (_status = 'ok' "
            "AND (audit_id IS NULL OR NOT list_contains($stages, stage)))), count(*), "
            "list(DISTINCT received_at::DATE) FILTER (WHERE _status = 'ok') FROM _direct_scan",
            {"stages": list(STAGES)},
        ).fetchall()
        if unfit:
            self.con.execute("DROP TABLE _direct_scan").fetchall()
            return None
        return int(events), int(blank), int(rows), days or []

    def direct_batches(self, day: date | None) -> list[int]:
        """The files read in place that have events received on ``day`` (None: no time)."""
        return [batch for batch, direct in self.direct.items() if day in direct.days]

    def direct_paths(self, day: date | None) -> dict[str, list[str]]:
        """``direct_batches(day)`` by compression (``none``, ``gzip``, ``zstd``: read_json is
        told, not left to guess)."""
        paths: dict[str, list[str]] = {}
        for batch in self.direct_batches(day):
            direct = self.direct[batch]
            paths.setdefault(direct.compression.value, []).append(direct.path)
        return paths

    def staged_audit_days(self) -> set[date | None]:
        """The days on which the staged audit events were received (None: no time stated)."""
        rows = self.con.execute(
            f"SELECT DISTINCT received_at::DATE FROM staged WHERE {audit_rows()}"
        ).fetchall()
        return {day for (day,) in rows}

    def has_access_lines(self) -> bool:
        """Did this run stage any access-log line?"""
        ((found,),) = self.con.execute(
            f"SELECT EXISTS (SELECT 1 FROM staged WHERE {ACCESS_ROWS})"
        ).fetchall()
        return bool(found)

    def direct_days(self) -> set[date | None]:
        """The days on which the events of the files read in place were received."""
        return set().union(*(d.days for d in self.direct.values()))

    def stage_direct_files(self, step: Callable[[], AbstractContextManager[Any]]) -> None:
        """Stage the events of every file read in place, as any other file's (the general
        merge needs them all): read once more, numbered, now that they are known to be clean.
        Each file's read runs inside a ``step()`` (progress)."""
        for direct in self.direct.values():
            if direct.compression is Compression.NONE and not direct.blank:
                source, params = audit_json.plain_audit_source(), {}
            else:
                source = audit_json.audit_lines_source(direct.compression)
                params = {"schema": audit_json.event_schema(unwrapped=False)}
            with step():
                self.audit_events(source, {"path": direct.path, **params}, direct.display)
        self.con.execute("DELETE FROM direct_keys").fetchall()
        self.con.execute("DELETE FROM direct_files").fetchall()
        self.direct.clear()

    def audit_events(self, src_sql: str, params: dict[str, Any], source_file: str) -> int:
        """Stage audit Events read by ``src_sql`` (a relation with Event columns)."""
        raw_sql = f"WITH src AS ({src_sql}) {internal_sql('audit_events')}"
        return self._insert(raw_sql, {**params, "source_file": source_file})

    def arrow(self, table: pa.Table, items: list[int] | None = None) -> int:
        """Stage raw event rows given as an Arrow table of ``RAW_EVENT_SCHEMA``.

        ``items`` ranks each row among the rows of the same source line (default: all 0).
        """
        ranks = pa.array(items if items is not None else [0] * table.num_rows, pa.int32())
        self.con.register("_raw_arrow", table.append_column("_item", ranks))
        try:
            return self._insert(
                "SELECT *, 'ok' AS _status, NULL::VARCHAR AS _reject_text FROM _raw_arrow", {}
            )
        finally:
            self.con.unregister("_raw_arrow")

    def audit_end(self) -> datetime | None:
        """When the last audit event of this run or of the dataset was received."""
        ((staged,),) = self.con.execute(f"SELECT max(received_at) FROM ({RUN_KEYS})").fetchall()
        ends = [t for t in (staged, self.stored_audit_end) if t is not None]
        return max(ends) if ends else None

    def mark(self) -> int:
        """The last batch number so far; ``discard_after(mark)`` undoes everything since."""
        return self._batches

    def discard_after(self, mark: int) -> None:
        """Drop the rows of every batch staged after ``mark``."""
        for table in ("staged", "direct_keys", "direct_files"):
            self.con.execute(f"DELETE FROM {table} WHERE _batch > $m", {"m": mark}).fetchall()
        for batch in [b for b in self.direct if b > mark]:
            del self.direct[batch]

    def counts(self, batch: int) -> tuple[int, int, int]:
        """Rows of a batch: all, valid events, blank lines."""
        return self._counts[batch]

    def rejects(self, batch: int) -> list[tuple[int, str, str | None]]:
        """(line, reason, text or None) of the rejected rows of a batch, in line order."""
        rows = self.con.execute(
            "SELECT source_line, _status, _reject_text FROM staged "
            "WHERE _batch = $b AND _status NOT IN ('ok', 'blank') ORDER BY source_line, _item",
            {"b": batch},
        ).fetchall()
        return [(line, reason, text) for line, reason, text in rows]


#: what identifies an event that has no audit ID: everything it says, but where it was written
CONTENT_COLUMNS = ", ".join(
    f'"{c}"' for c in RAW_EVENT_COLUMNS if c not in ("audit_id", "source_file", "source_line")
)


def read_audit_lines(
    stager: Stager, source: SourceFile, lines: Callable[[], int | None]
) -> FileResult:
    """A JSON-lines audit log, read by DuckDB without Python touching a line.

    A clean file is read in place, the fastest way (``Stager.direct_audit_file``; ``lines()``
    is the line count of an uncompressed one). One with bad lines is read line by line with its
    numbers and text kept, so bad lines become exact rejects. Only what DuckDB cannot read at
    all (a line over ``MAX_LINE_BYTES``) goes record by record through Python.
    """
    result = FileResult(Format.AUDIT_JSONL.value)
    found = stager.direct_audit_file(source, lines)
    if found is not None:
        result.records, blank = found
        result.events = result.records
        if blank:
            result.skip("blank line", blank)
        return result
    mark = stager.mark()
    try:
        batch = stager.audit_events(
            audit_json.audit_lines_source(source.compression),
            {"path": str(source.path), "schema": audit_json.event_schema(unwrapped=False)},
            source.display,
        )
    except duckdb.Error:  # e.g. a line longer than MAX_LINE_BYTES: read it in Python
        stager.discard_after(mark)
        fallback = read_json_lines(stager, source)
        fallback.format = result.format
        return fallback
    rows, result.events, blank = stager.counts(batch)
    result.records = rows - blank
    if blank:
        result.skip("blank line", blank)
    rejects = stager.rejects(batch)
    missing = {line for line, _, text in rejects if text is None}
    texts = _lines_text(source, missing) if missing else {}
    for line, reason, text in rejects:
        result.reject(line, reason, text if text is not None else texts.get(line, ""))
    return result


def _lines_text(source: SourceFile, wanted: set[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for number, line in enumerate(iter_lines(source), 1):
        if number in wanted:
            found[number] = line
            if len(found) == len(wanted):
                break
    return found


class _ItemSink:
    """Collects unwrapped items of one file: Events to a JSON-lines file, the rest to Arrow rows.

    Every item is numbered within its source line (``_item``), so several requests found on one
    line (a batch of records, an array) stay distinct.
    """

    def __init__(self, stager: Stager, source: SourceFile, result: FileResult) -> None:
        self.stager = stager
        self.source = source
        self.result = result
        self.events_path = stager.temp_path("jsonl")
        self.events_file: IO[str] = open(self.events_path, "w")  # noqa: SIM115 (closed in finish)
        self.events = 0
        self.items: Counter[int] = Counter()  # items seen so far per source line
        self.raw_rows: list[dict[str, Any]] = []
        self.access_lines: list[tuple[int, int, str, str | None]] = []  # line, item, text, server
        self.access_years: Counter[int] = Counter()

    def add(self, line: int, item: Item, text: str) -> None:
        rank = self.items[line]
        self.items[line] += 1
        if item.kind == "event":
            event = dict(item.value)
            event.update(_line=line, _item=rank, _apiserver=item.apiserver, _wrapper=item.wrapper)
            self.events_file.write(json.dumps(event, default=_json_default) + "\n")
            self.events += 1
        elif item.kind == "gke":
            row = gke_entry_to_raw(item.value)
            row.update(source_file=self.source.display, source_line=line, apiserver=item.apiserver)
            row["_item"] = rank
            self.raw_rows.append(row)
            if len(self.raw_rows) >= ARROW_BATCH_ROWS:
                self._flush_rows()
        elif item.kind == "access":
            self.access_lines.append((line, rank, item.value, item.apiserver))
            if item.year is not None:
                self.access_years[item.year] += 1
        elif item.kind == "skip":
            self.result.skip(item.reason)
        else:
            self.result.reject(line, item.reason, text)

    def _flush_rows(self) -> None:
        table = raw_table(self.raw_rows)
        self.stager.arrow(table, [row["_item"] for row in self.raw_rows])
        self.result.events += table.num_rows
        self.raw_rows = []

    def finish(self) -> None:
        self.events_file.close()
        if self.events:
            batch = self.stager.audit_events(
                audit_json.unwrapped_audit_source(),
                {"path": str(self.events_path), "schema": audit_json.event_schema(unwrapped=True)},
                self.source.display,
            )
            _, valid, _ = self.stager.counts(batch)
            self.result.events += valid
            rejects = self.stager.rejects(batch)
            texts = _lines_text(self.source, {line for line, _, _ in rejects}) if rejects else {}
            for line, reason, _ in rejects:
                self.result.reject(line, reason, texts.get(line, ""))
        self.events_path.unlink(missing_ok=True)
        if self.access_lines:
            self._finish_access()
        if self.raw_rows:
            self._flush_rows()

    def _finish_access(self) -> None:
        """Read the access-log text found inside JSON records (AKS, docker json-file)."""
        from k8saudit.formats import access_log

        origin = self.access_lines  # the parser numbers them 1.. in this order
        stated = self.access_years.most_common(1)[0][0] if self.access_years else None
        year, year_source = self.stager.clock.resolve(
            self.source, stated, audit_end=self.stager.audit_end()
        )
        batches = access_log.parse_access_log(
            (text for _, _, text, _ in origin),
            source_file=self.source.display,
            default_year=year,
            tz=self.stager.clock.tz,
        )
        for batch in batches:
            self.result.skip("not an access-log line", batch.skipped)
            for reject in batch.rejects:
                line, _, text, _ = origin[reject.line - 1]
                self.result.reject(line, reject.reason, text)
            table = batch.table
            if table.num_rows:
                found = [origin[p - 1] for p in table.column("source_line").to_pylist()]
                stated_servers = table.column("apiserver").to_pylist()
                lines = pa.array([o[0] for o in found], pa.int64())
                servers = pa.array(
                    [s if s is not None else o[3] for o, s in
                     zip(found, stated_servers, strict=True)],
                    pa.string(),
                )  # fmt: skip
                table = table.set_column(table.schema.get_field_index("source_line"),
                                         "source_line", lines)  # fmt: skip
                table = table.set_column(table.schema.get_field_index("apiserver"),
                                         "apiserver", servers)  # fmt: skip
                self.stager.arrow(table, [o[1] for o in found])
                self.result.events += table.num_rows
            if batch.default_year_lines:
                self.result.time_source = year_source


def _json_default(value: object) -> str:
    if isinstance(value, datetime):  # YAML turns unquoted timestamps into datetimes
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.isoformat()
    return str(value)


def raw_table(rows: list[dict[str, Any]]) -> pa.Table:
    """An Arrow table of ``RAW_EVENT_SCHEMA`` from row dicts (missing keys are null)."""
    columns = {name: [row.get(name) for row in rows] for name in RAW_EVENT_COLUMNS}
    return pa.Table.from_pydict(columns, schema=RAW_EVENT_SCHEMA)


def read_json_lines(stager: Stager, source: SourceFile) -> FileResult:
    """Record-by-record reading of JSON lines: wrapped events, or audit logs with bad lines."""
    result = FileResult(Format.JSON_LINES.value)
    sink = _ItemSink(stager, source, result)
    try:
        for number, line in enumerate(iter_lines(source), 1):
            if not line.strip():
                result.skip("blank line")
                continue
            result.records += 1
            try:
                value = json.loads(line)
            except ValueError as exc:
                result.reject(number, f"invalid JSON ({_short(exc)})", line)
                continue
            for item in unwrap(value):
                sink.add(number, item, line)
    finally:
        sink.finish()
    return result


def _short(exc: Exception) -> str:
    return str(exc).split(":")[0]


def read_json_document(stager: Stager, source: SourceFile) -> FileResult:
    """One or more (pretty-printed) JSON documents: EventList, AKS batch, a single Event..."""
    result = FileResult(Format.JSON_DOCUMENT.value)
    sink = _ItemSink(stager, source, result)
    with open_text(source) as fh:
        text = fh.read().removeprefix(BOM)
    decoder = json.JSONDecoder()
    position = 0
    line = 1
    counted = 0  # newlines are counted incrementally: documents can be many
    try:
        while True:
            while position < len(text) and text[position].isspace():
                position += 1
            if position >= len(text):
                break
            line += text.count("\n", counted, position)
            counted = position
            result.records += 1
            try:
                value, position = decoder.raw_decode(text, position)
            except ValueError as exc:
                rest = text[position:]
                result.reject(line, f"invalid JSON ({_short(exc)}); rest of file not read", rest)
                break
            for item in unwrap(value):
                sink.add(line, item, "")
    finally:
        sink.finish()
    return result


_YAML_SEPARATOR = re.compile(r"^---\s*$", re.M)


def read_yaml(stager: Stager, source: SourceFile) -> FileResult:
    """Audit Events or GKE LogEntries rendered as YAML documents."""
    import yaml

    result = FileResult(Format.YAML.value)
    sink = _ItemSink(stager, source, result)
    with open_text(source) as fh:
        text = fh.read().removeprefix(BOM)
    try:
        for start_line, chunk in _yaml_documents(text):
            try:
                value = yaml.safe_load(chunk)
            except yaml.YAMLError as exc:
                result.records += 1
                result.reject(start_line, f"invalid YAML ({str(exc).splitlines()[0]})", chunk)
                continue
            if value is None:  # only comments
                continue
            result.records += 1
            for item in unwrap(value):
                sink.add(start_line, item, "")
    finally:
        sink.finish()
    return result


def _yaml_documents(text: str) -> Iterable[tuple[int, str]]:
    start = 0
    line = 1
    for match in _YAML_SEPARATOR.finditer(text):
        yield line, text[start : match.start()]
        line = text.count("\n", 0, match.end()) + 2
        start = match.end()
    yield line, text[start:]


def _first_klog_month(source: SourceFile, lines: int = 1000) -> int | None:
    """The month of the first klog line among the first ``lines`` of the file, if any."""
    from k8saudit.formats.klog import parse_klog_header, unwrap_line

    for number, line in enumerate(iter_lines(source)):
        header = parse_klog_header(unwrap_line(line).text)
        if header is not None:
            return header.month
        if number >= lines:
            break
    return None


def read_access_or_legacy(stager: Stager, source: SourceFile, fmt: Format) -> FileResult:
    """kube-apiserver access logs (httplog lines in klog output) and legacy text audit logs."""
    from k8saudit.formats import access_log

    result = FileResult(fmt.value)
    lines = iter_lines(source)
    default_year, year_source = stager.clock.resolve(
        source, first_month=_first_klog_month(source), audit_end=stager.audit_end()
    )
    if fmt is Format.LEGACY_AUDIT:
        batches = access_log.parse_legacy_audit(lines, source_file=source.display)
    else:
        batches = access_log.parse_access_log(
            lines, source_file=source.display, default_year=default_year, tz=stager.clock.tz
        )
    wrapper_time = default_year_lines = 0
    for batch in batches:
        result.records += batch.lines
        result.skip("not an access-log line", batch.skipped)
        for reject in batch.rejects:
            result.reject(reject.line, reject.reason, reject.text)
        wrapper_time += batch.wrapper_time_lines
        default_year_lines += batch.default_year_lines
        if batch.table.num_rows:
            stager.arrow(batch.table)
            result.events += batch.table.num_rows
    if default_year_lines:
        result.time_source = year_source
    elif wrapper_time:
        result.time_source = "log wrapper timestamps"
    return result
