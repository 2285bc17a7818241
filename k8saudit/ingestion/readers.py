"""Turning one input file into staged raw event rows, whatever its format: one reader each.

Each reader takes a discovered file, inserts its raw event rows (``schema.RAW_EVENT_SCHEMA``)
through the run's ``Stager``, and accounts for every record it read: an event, skipped (noise
k8saudit has no use for, blank lines) or rejected (kept with line, reason and text).
``READERS`` maps each file format to its reader.

Audit logs in JSON lines go through DuckDB alone: a clean one is read in place
(``in_place``); one with bad lines is read line by line with ``json_transform`` and staged
whole, its bad lines rejected. Access logs are read vectorised (``formats.access_fast``:
polars over blocks of lines, the line-by-line parser only for what its fast path cannot
take). Everything else is read record by record in Python: wrapped Events are unwrapped into
a temporary JSON-lines file and then take the same SQL; GKE entries, legacy audit lines and
the access-log text found inside JSON records become Arrow tables.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any

import duckdb

from k8saudit.formats.audit_json import EVENT_COLUMNS, INJECTED_COLUMNS, MAX_LINE_BYTES
from k8saudit.formats.detect import Format
from k8saudit.formats.envelopes import Item, unwrap
from k8saudit.formats.gke import gke_entry_to_raw
from k8saudit.formats.redact import BODY_KEYS, redact_body
from k8saudit.ingestion import audit_sources
from k8saudit.ingestion.apiservers import Attribution
from k8saudit.ingestion.clock import ClockYear, first_klog_month
from k8saudit.ingestion.staging import Stager
from k8saudit.io import BOM, SourceFile, iter_lines, open_binary, open_text, read_ahead
from k8saudit.schema import RAW_EVENT_COLUMNS, arrow_schema

if TYPE_CHECKING:
    import pyarrow as pa

    from k8saudit.formats.batches import ParsedBatch

REJECT_TEXT_LIMIT = 4096  # characters of a rejected line kept in the rejects file
ARROW_BATCH_ROWS = 65536  # rows built in Python are staged in batches of this size
#: the Event fields an unwrapped event too long for DuckDB's line reader is cut down to
KEPT_FIELDS = frozenset(EVENT_COLUMNS) | frozenset(INJECTED_COLUMNS)


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
    klog_year: ClockYear | None = None  # the year of its klog lines without one of their own
    in_place: bool = False  # a clean audit log read where it lies (in_place.InPlaceFiles)
    #: (apiserver, first, last instant its lines observed): see sql/observed_spans.sql
    observed: list[tuple[str | None, datetime, datetime]] = field(default_factory=list)
    apiserver: Attribution | None = None  # the apiserver its path names (ingestion.apiservers)

    def reject(self, line: int, reason: str, text: str) -> None:
        self.rejects.append(Reject(line, reason, text[:REJECT_TEXT_LIMIT]))

    def skip(self, reason: str, count: int = 1) -> None:
        self.skipped += count
        self.skip_reasons[reason] += count


def read_audit_lines(
    stager: Stager, source: SourceFile, lines: Callable[[], int | None]
) -> FileResult:
    """A JSON-lines audit log, read by DuckDB without Python touching a line.

    A clean file is read in place, the fastest way (``InPlaceFiles.key_file``; ``lines()``
    is its line count, None when not counted). One with bad lines is read line by line with its
    numbers and text kept, so bad lines become exact rejects. Only what DuckDB cannot read at
    all (a line over ``MAX_LINE_BYTES``) or not line for line (a lone carriage return: its rows
    then differ from ``lines()``; a U+0001 byte, or lines not counted: ``lines()`` is None)
    goes record by record through Python.
    """
    result = FileResult(Format.AUDIT_JSONL.value)
    found = stager.in_place.key_file(source, lines) if stager.in_place.enabled else None
    if found is not None:
        result.in_place = True
        result.records, blank = found
        result.events = result.records
        if blank:
            result.skip("blank line", blank)
        return result
    mark = stager.mark()
    try:
        batch = stager.audit_events(
            audit_sources.lines(
                str(source.path), source.display, source.compression, bodies=stager.bodies
            )
        )
        rows, result.events, blank = stager.counts(batch)
        # DuckDB ends a line at a lone carriage return (a bad line's), Python's readers keep
        # it inside, and cuts one at a U+0001 byte: then the rows are not the lines, or no
        # count vouches for them (``lines()`` is None)
        read = rows == lines()
    except duckdb.InterruptException:
        raise  # Ctrl-C: stop, do not read the file again in Python
    except duckdb.Error:  # e.g. a line longer than MAX_LINE_BYTES
        read = False
    if not read:  # read in Python: every line with its number and whole text
        stager.discard_after(mark)
        fallback = read_json_lines(stager, source)
        fallback.format = result.format
        return fallback
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
            for body in BODY_KEYS:  # never in the work area unredacted
                if self.stager.bodies_key is None:
                    event.pop(body, None)
                elif body in event:
                    event[body] = redact_body(event[body], self.stager.bodies_key)
            event.update(_line=line, _item=rank, _apiserver=item.apiserver, _wrapper=item.wrapper)
            written = json.dumps(event, default=_json_default)
            if len(written) > MAX_LINE_BYTES // 4:  # chars: up to 4 bytes each in UTF-8
                # a huge event (a LIST response body at level RequestResponse): keep only the
                # fields read, which DuckDB reads in one line
                kept = {k: v for k, v in event.items() if k in KEPT_FIELDS}
                written = json.dumps(kept, default=_json_default)
                if len(written.encode()) > MAX_LINE_BYTES:
                    size = len(written.encode()) >> 20
                    self.result.reject(line, f"event too large ({size} MB without bodies)", text)
                    return
            self.events_file.write(written + "\n")
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
                audit_sources.unwrapped(
                    str(self.events_path), self.source.display, bodies=self.stager.bodies
                )
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
        import pyarrow as pa

        from k8saudit.formats import access_log

        origin = self.access_lines  # the parser numbers them 1.. in this order
        stated = self.access_years.most_common(1)[0][0] if self.access_years else None
        clock_year = self.stager.clock.resolve(
            self.source, stated, audit_end=self.stager.audit_end()
        )
        batches = access_log.parse_access_log(
            (text for _, _, text, _ in origin),
            source_file=self.source.display,
            default_year=clock_year.year,
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
                self.result.klog_year = clock_year
                self.result.time_source = clock_year.sentence


def _json_default(value: object) -> str:
    if isinstance(value, datetime):  # YAML turns unquoted timestamps into datetimes
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.isoformat()
    return str(value)


def raw_table(rows: list[dict[str, Any]]) -> pa.Table:
    """An Arrow table of ``RAW_EVENT_SCHEMA`` from row dicts (missing keys are null)."""
    import pyarrow as pa

    columns = {name: [row.get(name) for row in rows] for name in RAW_EVENT_COLUMNS}
    return pa.Table.from_pydict(columns, schema=arrow_schema("RAW_EVENT_SCHEMA"))


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


def read_access_or_legacy(
    stager: Stager, source: SourceFile, fmt: Format, lines: Callable[[], int | None]
) -> FileResult:
    """kube-apiserver access logs (httplog lines in klog output) and legacy text audit logs.

    An access log of canonical lines and klog noise only (``formats.access_patterns``), its
    klog clock in UTC, is read by DuckDB alone (``Stager.access_file``; ``lines()``: its line
    count when known); any other by the vectorised reader in Python (``formats.access_fast``).
    """
    result = FileResult(fmt.value)
    clock_year = stager.clock.resolve(
        source, first_month=first_klog_month(source), audit_end=stager.audit_end()
    )
    if fmt is Format.ACCESS_LOG and stager.clock.tz is UTC:
        read = stager.access_file(source, clock_year.year, lines)
        if read is not None:
            result.records = read.lines
            _, result.events, _ = stager.counts(read.batch)
            result.skip("not an access-log line", read.skipped)
            if result.events > read.wrapper_timed:
                result.klog_year = clock_year
                result.time_source = clock_year.sentence
            elif read.wrapper_timed:
                result.time_source = "log wrapper timestamps"
            return result
    with ExitStack() as stack:
        if fmt is Format.LEGACY_AUDIT:
            from k8saudit.formats import legacy_audit

            batches = legacy_audit.parse_legacy_audit(
                iter_lines(source), source_file=source.display
            )
        else:  # vectorised, with the line-by-line parser for what the fast path cannot take;
            # parsed by a second thread while this one stages the batch before (polars: only
            # imported when a file needs it)
            from k8saudit.formats import access_fast

            batches = read_ahead(access_fast.parse_access_file(
                stack.enter_context(open_binary(source)),
                source_file=source.display,
                default_year=clock_year.year,
                tz=stager.clock.tz,
            ), depth=1)  # fmt: skip
        _stage_line_batches(stager, result, batches, clock_year)
    return result


def _stage_line_batches(
    stager: Stager, result: FileResult, batches: Iterable[ParsedBatch], clock_year: ClockYear
) -> None:
    """Stage the rows of a line-oriented parser's batches and account for every line."""
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
        result.klog_year = clock_year
        result.time_source = clock_year.sentence
    elif wrapper_time:
        result.time_source = "log wrapper timestamps"


Reader = Callable[[Stager, SourceFile, Callable[[], int | None]], FileResult]

#: the reader of each file format (``lines()``: the line count of the file's content, known
#: once it is hashed; None when not counted)
READERS: dict[Format, Reader] = {
    Format.AUDIT_JSONL: read_audit_lines,
    Format.JSON_LINES: lambda stager, source, _: read_json_lines(stager, source),
    Format.JSON_DOCUMENT: lambda stager, source, _: read_json_document(stager, source),
    Format.YAML: lambda stager, source, _: read_yaml(stager, source),
    Format.ACCESS_LOG: lambda stager, source, lines: read_access_or_legacy(
        stager, source, Format.ACCESS_LOG, lines
    ),
    Format.LEGACY_AUDIT: lambda stager, source, lines: read_access_or_legacy(
        stager, source, Format.LEGACY_AUDIT, lines
    ),
}
