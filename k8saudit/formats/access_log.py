"""Batch entry points for the line-oriented formats: API-server access logs and legacy audit text.

The ingest pipeline sniffs a file's first bytes (``looks_like_access_log`` /
``looks_like_legacy_audit``) and then streams its decoded lines through ``parse_access_log`` or
``parse_legacy_audit``, receiving ``ParsedBatch`` objects: an Arrow table in ``RAW_EVENT_SCHEMA``
plus the accounting for every physical line. Each line ends up in exactly one bucket::

    batch.lines == batch.table.num_rows + batch.continuation + batch.skipped + len(batch.rejects)

* a row's first line (``source_line``),
* ``continuation``: a later line that belongs to a row or to the line before it (a 5xx status
  stack and ``[ua ip]`` trailer, a multi-line structured value, CRI ``P``/docker partial records
  joined into one line, the legacy ``response="200"`` line of an ``id``),
* ``skipped``: anything that is not a request (other klog messages: most of an apiserver log),
* ``rejects``: a line that looks like a request but cannot be read.

A batch's counts cover the lines whose fate was settled in it (a row's continuation lines are
counted with the row), so the sums over all batches equal the file's line count. Batches are
yielded every ``batch_rows`` rows (or rejects) and once at the end, so memory stays bounded.

Hot loops build one tuple per row and transpose at the end of a batch; times stay integer
microseconds until the Arrow column is built.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from typing import Any

import pyarrow as pa

from k8saudit.formats.httplog import (
    HttpLogRecord,
    parse_httplog_json,
    parse_httplog_line,
    parse_httplog_message,
    trailer_from_continuation,
)
from k8saudit.formats.klog import (
    KLOG_FAST_RE,
    json_ts_us,
    klog_time_us,
    parse_klog_header,
    parse_klog_json,
    unwrap_line,
)
from k8saudit.formats.legacy_audit import (
    LegacyAuditLine,
    known,
    looks_like_legacy_line,
    parse_groups,
    parse_legacy_audit_line,
    response_code,
)
from k8saudit.schema import RAW_EVENT_SCHEMA

#: longest reject text kept (the rejects file is for a human to look at, not a copy of the input)
MAX_REJECT_TEXT = 2000
#: a CRI/docker partial line is joined until this many characters, then taken as it is
_MAX_JOINED = 1 << 20
_KLOG_SEVERITIES = frozenset("IWEF")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
#: legacy audit ids waiting for their response line before the oldest is emitted unanswered
MAX_PENDING_LEGACY = 100_000

#: the columns a row tuple fills, in order; every other column of RAW_EVENT_SCHEMA is null
_ROW_COLUMNS: tuple[str, ...] = (
    "audit_id",
    "stage",
    "stage_at",
    "received_at",
    "verb",
    "http_method",
    "request_uri",
    "namespace",
    "username",
    "user_groups",
    "impersonated_user",
    "user_agent",
    "source_ip",
    "code",
    "latency_ms",
    "apf_priority_level",
    "apf_flow_schema",
    "apf_initial_seats",
    "apf_final_seats",
    "apf_additional_latency_ms",
    "apf_execution_ms",
    "apiserver",
    "log_format",
    "source_line",
)
_INT64_TIME = {"stage_at", "received_at"}


@dataclass(frozen=True)
class Reject:
    """A line that looks like a record but could not be read."""

    line: int
    reason: str
    text: str


@dataclass(frozen=True)
class ParsedBatch:
    """One batch of parsed rows and the accounting of the lines settled with it."""

    table: pa.Table
    lines: int
    skipped: int
    rejects: list[Reject] = field(default_factory=list)
    #: rows whose time came from a full timestamp (CRI/docker wrapper, JSON ``ts``, legacy audit)
    wrapper_time_lines: int = 0
    #: rows whose klog clock was completed with the caller's ``default_year`` (and ``tz``)
    default_year_lines: int = 0
    #: lines that belong to a row (or to the line before them) and are not counted on their own
    continuation: int = 0
    #: rows whose core fields were read but whose UA/IP trailer was cut (UA and IP left null)
    partial: int = 0


def rows_to_table(rows: list[tuple[Any, ...]], source_file: str) -> pa.Table:
    """Build a ``RAW_EVENT_SCHEMA`` table from row tuples laid out as ``_ROW_COLUMNS``.

    >>> rows_to_table([], "x.log").num_rows
    0
    """
    n = len(rows)
    columns = dict(zip(_ROW_COLUMNS, zip(*rows, strict=True), strict=False)) if rows else {}
    arrays: list[pa.Array] = []
    for schema_field in RAW_EVENT_SCHEMA:
        name = schema_field.name
        values = columns.get(name)
        if name == "source_file":
            arrays.append(pa.array([source_file] * n, pa.string()))
        elif values is None:
            arrays.append(pa.nulls(n, schema_field.type))
        elif name in _INT64_TIME:
            arrays.append(pa.array(values, pa.int64()).cast(schema_field.type))
        else:
            try:
                arrays.append(pa.array(values, schema_field.type))
            except UnicodeEncodeError:  # lone surrogates (surrogateescape-decoded input)
                arrays.append(pa.array(_clean_surrogates(values), schema_field.type))
    return pa.Table.from_arrays(arrays, schema=RAW_EVENT_SCHEMA)


def _clean_surrogates(values: tuple[Any, ...]) -> list[Any]:
    """Replace unencodable surrogates in string values (and string lists) with U+FFFD.

    >>> _clean_surrogates(("a\\udcff", None, ["b"]))
    ['a\ufffd', None, ['b']]
    """

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return _SURROGATE_RE.sub("\ufffd", value)
        if isinstance(value, list):
            return [clean(item) for item in value]
        return value

    return [clean(value) for value in values]


def _reject(line_no: int, reason: str, text: str) -> Reject:
    """A ``Reject`` with its text clipped to ``MAX_REJECT_TEXT`` characters.

    >>> _reject(3, "bad", "x" * 5).text
    'xxxxx'
    """
    return Reject(line_no, reason, text[:MAX_REJECT_TEXT])


# --------------------------------------------------------------------------- sniffers


def _sample_lines(sample: str, limit: int = 4000) -> list[str]:
    """The complete lines of a sniffing sample (the cut last line is dropped when there are more).

    >>> _sample_lines("a\\nb\\nc")
    ['a', 'b']
    """
    lines = sample.splitlines()
    if len(lines) > 1 and not sample.endswith(("\n", "\r")):
        lines.pop()
    return lines[:limit]


def looks_like_access_log(sample: str) -> bool:
    """True when the first bytes of a file hold at least one readable API-server access line.

    A kube-apiserver log with no request in its first ~64 KiB is not recognised (nothing to
    ingest from the sample); wrappers and all three eras are.

    >>> looks_like_access_log("I0204 12:34:56.789012 1 wrap.go:47] GET /a: (1ms) 200 [[k] a:1]\\n")
    True
    """
    for line in _sample_lines(sample):
        if isinstance(parse_httplog_line(line.lstrip("\ufeff")), HttpLogRecord):
            return True
    return False


def looks_like_klog(sample: str) -> bool:
    """True when most sample lines are klog lines (wrapped or not): a kube-apiserver log.

    Such a log may hold no access line at all (the API server runs below ``-v=3``); it is still
    read, so that the report can say why it yielded no requests.

    >>> looks_like_klog("I0204 12:34:56.789012 1 controller.go:47] Starting\n")
    True
    """
    lines = [line for line in _sample_lines(sample) if line.strip()]
    if not lines:
        return False
    klog = sum(
        1
        for line in lines
        if parse_klog_header(unwrap_line(line.lstrip("\ufeff")).text) is not None
    )
    return klog * 2 > len(lines)


def looks_like_legacy_audit(sample: str) -> bool:
    """True when the sample holds a legacy ``<RFC3339> AUDIT: id="..."`` line.

    >>> looks_like_legacy_audit('2017-02-09T00:15:57.99Z AUDIT: id="9" ip="1.2.3.4" method="GET"')
    True
    """
    return any(looks_like_legacy_line(line.lstrip("\ufeff")) for line in _sample_lines(sample))


# --------------------------------------------------------------------------- access logs


class _AccessState:
    """Mutable state of one ``parse_access_log`` run (a record waiting for continuation lines)."""

    __slots__ = (
        "continuation",
        "default_year_lines",
        "partial",
        "pending",
        "pending_cont",
        "pending_line",
        "pending_server",
        "pending_us",
        "rejects",
        "rows",
        "skipped",
        "trailer",
        "wrapper_time_lines",
    )

    def __init__(self) -> None:
        self.rows: list[tuple[Any, ...]] = []
        self.rejects: list[Reject] = []
        self.skipped = 0
        self.continuation = 0
        self.partial = 0
        self.wrapper_time_lines = 0
        self.default_year_lines = 0
        self.pending: HttpLogRecord | None = None
        self.pending_us = 0
        self.pending_line = 0
        self.pending_server: str | None = None
        self.pending_cont = 0
        self.trailer: tuple[str | None, str | None] | None = None

    def flush(self) -> None:
        """Emit the pending record as a row (resolving a glog trailer found on later lines)."""
        rec = self.pending
        if rec is None:
            return
        ua, ip, partial = rec.user_agent, rec.source_ip, rec.partial
        if rec.needs_trailer:
            if self.trailer is not None:
                ua, ip = self.trailer
            else:
                partial = True
        if partial:
            self.partial += 1
        latency = rec.latency_ms
        stage_us = self.pending_us
        # without a latency (hijacked, cut lines) the line's own time is the best received time
        received = stage_us - round(latency * 1000) if latency is not None else stage_us
        self.rows.append(
            (
                rec.audit_id,
                "ResponseComplete",
                stage_us,
                received,
                rec.verb,
                rec.http_method,
                rec.request_uri,
                None,
                None,
                None,
                None,
                ua,
                ip,
                rec.code,
                latency,
                rec.apf_priority_level,
                rec.apf_flow_schema,
                rec.apf_initial_seats,
                rec.apf_final_seats,
                rec.apf_additional_latency_ms,
                rec.apf_execution_ms,
                self.pending_server,
                rec.log_format,
                self.pending_line,
            )
        )
        self.continuation += self.pending_cont
        self.pending = None
        self.trailer = None
        self.pending_cont = 0

    def take(self, source_file: str) -> ParsedBatch:
        """Package everything settled so far as a batch and reset the counters."""
        table = rows_to_table(self.rows, source_file)
        batch = ParsedBatch(
            table=table,
            lines=table.num_rows + self.continuation + self.skipped + len(self.rejects),
            skipped=self.skipped,
            rejects=self.rejects,
            wrapper_time_lines=self.wrapper_time_lines,
            default_year_lines=self.default_year_lines,
            continuation=self.continuation,
            partial=self.partial,
        )
        self.rows = []
        self.rejects = []
        self.skipped = self.continuation = self.partial = 0
        self.wrapper_time_lines = self.default_year_lines = 0
        return batch


def _logical_lines(lines: Iterable[str]) -> Iterator[tuple[int, int, str, int | None, str | None]]:
    """Unwrap physical lines and join CRI ``P`` / docker partial records into logical lines.

    Yields ``(first line number, physical line count, text, wrapper time us, host)``.

    >>> list(_logical_lines(["2020-01-01T00:00:00Z stderr P a", "2020-01-01T00:00:01Z stderr F b"]))
    [(1, 2, 'ab', 1577836800000000, None)]
    """
    header_match = KLOG_FAST_RE.match
    joined: list[str] = []
    joined_size = 0
    joined_first = 0
    joined_us: int | None = None
    joined_host: str | None = None
    for line_no, raw in enumerate(lines, 1):
        first = raw[:1]
        if not joined and first in _KLOG_SEVERITIES and header_match(raw) is not None:
            yield line_no, 1, raw, None, None  # fast path: a bare klog line
            continue
        if line_no == 1 and first == "\ufeff":
            raw = raw[1:]
        text, wrapper_us, host, partial, _ = unwrap_line(raw)
        if partial and joined_size < _MAX_JOINED:
            if not joined:
                joined_first, joined_us, joined_host = line_no, wrapper_us, host
            joined.append(text)
            joined_size += len(text)
            continue
        if joined:
            joined.append(text)
            yield joined_first, len(joined), "".join(joined), joined_us, joined_host
            joined = []
            joined_size = 0
            continue
        yield line_no, 1, text, wrapper_us, host
    if joined:  # the file ended inside a partial record: take what there is
        yield joined_first, len(joined), "".join(joined), joined_us, joined_host


def parse_access_log(
    lines: Iterable[str],
    *,
    source_file: str,
    default_year: int,
    tz: tzinfo = UTC,
    batch_rows: int = 65536,
) -> Iterator[ParsedBatch]:
    """Parse API-server access-log lines (any era, any wrapper) into ``RAW_EVENT_SCHEMA`` batches.

    ``lines`` are the file's decoded lines without newlines, numbered from 1. A line's time is the
    wrapper's full timestamp when there is one (CRI, docker, JSON ``ts``); otherwise its klog clock
    read in ``default_year`` and ``tz`` (the year advances by one when the month falls from
    December to January within the file). Lines that are not klog records (and not JSON log
    records) continue the access record before them, or are skipped when there is none.

    >>> batch, = parse_access_log(
    ...     ["I0111 19:04:58.780758 1 wrap.go:47] GET /api/v1/nodes: (174.269µs) 429 [k 1.2.3.4:5]",
    ...      "I0111 19:04:58.790000 1 trace.go:81] something else"],
    ...     source_file="apiserver.log", default_year=2019)
    >>> batch.table.column("code").to_pylist(), batch.skipped, batch.default_year_lines
    ([429], 1, 1)
    """
    state = _AccessState()
    year = default_year
    last_month = 0
    second_cache: dict[str, int] = {}
    header_match = KLOG_FAST_RE.match
    seen = False
    for start_line, nphys, text, wrapper_us, host in _logical_lines(lines):
        seen = True
        m = header_match(text)
        if m is None:
            if text[:1] == "{":
                obj = parse_klog_json(text)
                if obj is not None:  # a JSON log record: always a record of its own
                    state.flush()
                    _take_json_record(state, obj, text, start_line, nphys, host)
                    if len(state.rows) >= batch_rows or len(state.rejects) >= batch_rows:
                        yield state.take(source_file)
                    continue
            if state.pending is not None:  # continuation of the access record before it
                state.pending_cont += nphys
                if state.pending.needs_trailer:
                    found = trailer_from_continuation(text)
                    if found is not None:
                        state.trailer = found
            else:
                state.skipped += nphys
            continue

        state.flush()
        record = parse_httplog_message(text[m.end() :])
        if record is None:
            state.skipped += nphys
            continue
        if isinstance(record, str):
            state.rejects.append(_reject(start_line, record, text))
            state.continuation += nphys - 1
        else:
            if wrapper_us is not None:
                stage_us: int | None = wrapper_us
            else:
                month = int(m.group(1))
                if month == 1 and last_month == 12:
                    year += 1
                    second_cache.clear()
                last_month = month
                key = text[1:14]  # "MMDD hh:mm:ss"
                base = second_cache.get(key)
                if base is None:
                    base = klog_time_us(
                        year,
                        month,
                        int(m.group(2)),
                        int(m.group(3)),
                        int(m.group(4)),
                        int(m.group(5)),
                        0,
                        tz,
                    )
                    if base is not None:
                        if len(second_cache) > 100_000:
                            second_cache.clear()
                        second_cache[key] = base
                stage_us = None if base is None else base + int(m.group(6))
            if stage_us is None:
                state.rejects.append(_reject(start_line, "bad klog timestamp", text))
                state.continuation += nphys - 1
                continue
            if wrapper_us is not None:
                state.wrapper_time_lines += 1
            else:
                state.default_year_lines += 1
            state.pending = record
            state.pending_us = stage_us
            state.pending_line = start_line
            state.pending_server = host
            state.pending_cont = nphys - 1
        if len(state.rows) >= batch_rows or len(state.rejects) >= batch_rows:
            yield state.take(source_file)
    state.flush()
    if seen:
        yield state.take(source_file)


def _take_json_record(
    state: _AccessState,
    obj: dict[str, Any],
    text: str,
    start_line: int,
    nphys: int,
    host: str | None,
) -> None:
    """Account for one ``--logging-format=json`` record: a row, a reject or a skip."""
    record = parse_httplog_json(obj)
    if record is None:
        state.skipped += nphys
        return
    stage_us = json_ts_us(obj.get("ts"))
    if isinstance(record, str) or stage_us is None:
        reason = record if isinstance(record, str) else "bad ts"
        state.rejects.append(_reject(start_line, reason, text))
        state.continuation += nphys - 1
        return
    state.pending = record
    state.pending_us = stage_us
    state.pending_line = start_line
    state.pending_server = host
    state.pending_cont = nphys - 1
    state.wrapper_time_lines += 1
    state.flush()


# --------------------------------------------------------------------------- legacy audit


class _LegacyRequest:
    """A legacy audit request (one ``id``) waiting for its response line."""

    __slots__ = ("code", "cont", "fields", "line", "received_us", "stage", "stage_us", "staged")

    def __init__(self, parsed: LegacyAuditLine, line_no: int) -> None:
        self.fields = parsed.fields
        self.line = line_no
        self.received_us = parsed.at_us
        self.stage_us = parsed.at_us
        self.staged = "stage" in parsed.fields
        self.stage = parsed.fields.get("stage") or "RequestReceived"
        self.code = response_code(parsed.fields.get("response"))
        self.cont = 0

    def update(self, parsed: LegacyAuditLine) -> None:
        """Merge a later line of the same ``id`` (a response line or a later stage)."""
        for key, value in parsed.fields.items():
            if key not in self.fields or known(self.fields[key]) is None:
                self.fields[key] = value
        code = response_code(parsed.fields.get("response"))
        if code is not None:
            self.code = code
        self.stage = parsed.fields.get("stage") or "ResponseComplete"
        self.stage_us = parsed.at_us
        self.cont += 1

    def row(self) -> tuple[Any, ...]:
        """The row tuple (``_ROW_COLUMNS`` layout) of this request."""
        f = self.fields
        method = known(f.get("method"))
        # 1.8+ (stage=) lines print the Kubernetes verb; older ones the HTTP method
        verb = method.lower() if method is not None and self.staged else None
        http_method = method.upper() if method is not None and not self.staged else None
        has_request = "uri" in f or "method" in f
        return (
            f.get("id"),
            self.stage,
            self.stage_us,
            self.received_us if has_request else None,
            verb,
            http_method,
            known(f.get("uri")),
            known(f.get("namespace")),
            known(f.get("user")),
            parse_groups(f.get("groups")),
            known(f.get("as")),
            known(f.get("user-agent")),
            known(f.get("ip")),
            self.code,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            "legacy-audit",
            self.line,
        )


def parse_legacy_audit(
    lines: Iterable[str],
    *,
    source_file: str,
    batch_rows: int = 65536,
) -> Iterator[ParsedBatch]:
    """Parse a legacy text audit log into ``RAW_EVENT_SCHEMA`` batches, one row per ``id``.

    The request line and the response line (or the stage lines) of an ``id`` become one row,
    at the line number of the first; its ``response`` line counts as a continuation line. A
    request with no response line by the end of the file is kept with ``stage="RequestReceived"``
    and a null code; a response line whose request line is not in the file (rotation) is kept as
    a ``ResponseComplete`` row holding only the id, time and code, for the pipeline to merge by
    ``audit_id``. At most ``MAX_PENDING_LEGACY`` ids wait for a response; beyond that the oldest
    is emitted unanswered (its later response line then becomes such a response-only row).
    Timestamps always carry a date and an offset, so every row counts as ``wrapper_time_lines``.

    >>> batch, = parse_legacy_audit([
    ...     '2017-03-21T03:57:09.106841886-04:00 AUDIT: id="c9" ip="127.0.0.1" method="GET" '
    ...     'user="admin" groups="\\\\"system:masters\\\\"" as="<self>" asgroups="<lookup>" '
    ...     'namespace="default" uri="/api/v1/namespaces/default/pods"',
    ...     '2017-03-21T03:57:09.108403639-04:00 AUDIT: id="c9" response="200"'],
    ...     source_file="audit.log")
    >>> batch.table.num_rows, batch.continuation, batch.table.column("code").to_pylist()
    (1, 1, [200])
    """
    rows: list[tuple[Any, ...]] = []
    rejects: list[Reject] = []
    skipped = continuation = 0
    pending: dict[str, _LegacyRequest] = {}
    seen = False

    def emit(request: _LegacyRequest) -> None:
        nonlocal continuation
        rows.append(request.row())
        continuation += request.cont

    def take() -> ParsedBatch:
        nonlocal rows, rejects, skipped, continuation
        table = rows_to_table(rows, source_file)
        batch = ParsedBatch(
            table=table,
            lines=table.num_rows + continuation + skipped + len(rejects),
            skipped=skipped,
            rejects=rejects,
            wrapper_time_lines=table.num_rows,
            continuation=continuation,
        )
        rows, rejects = [], []
        skipped = continuation = 0
        return batch

    for line_no, raw in enumerate(lines, 1):
        seen = True
        parsed = parse_legacy_audit_line(raw.lstrip("\ufeff") if line_no == 1 else raw)
        if parsed is None:
            skipped += 1
            continue
        if isinstance(parsed, str):
            rejects.append(_reject(line_no, parsed, raw))
        else:
            audit_id = parsed.fields["id"]
            waiting = pending.get(audit_id)
            is_request = "uri" in parsed.fields or "method" in parsed.fields
            staged = "stage" in parsed.fields
            if waiting is not None and (staged or not is_request):
                waiting.update(parsed)
                if not staged or waiting.stage in ("ResponseComplete", "Panic"):
                    emit(pending.pop(audit_id))
            else:
                if waiting is not None:  # the same id again: the first one never got an answer
                    emit(pending.pop(audit_id))
                request = _LegacyRequest(parsed, line_no)
                if is_request and request.stage in ("RequestReceived", "ResponseStarted"):
                    pending[audit_id] = request
                    if len(pending) > MAX_PENDING_LEGACY:
                        emit(pending.pop(next(iter(pending))))
                else:
                    if not staged:
                        request.stage = "ResponseComplete"
                    emit(request)
        if len(rows) >= batch_rows or len(rejects) >= batch_rows:
            yield take()
    for request in pending.values():
        emit(request)
    pending.clear()
    if seen:
        yield take()
