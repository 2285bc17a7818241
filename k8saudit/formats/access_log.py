"""Batch entry point for API-server access logs: ``parse_access_log`` and its sniffers.

The ingest pipeline sniffs a file's first bytes (``looks_like_access_log``, or ``looks_like_klog``
for a kube-apiserver log that holds no access line in its sample) and then streams its decoded
lines through ``parse_access_log``, receiving ``batches.ParsedBatch`` objects (see
``k8saudit.formats.batches`` for how every physical line is accounted for).

This module is the file-level half of the access-log reader: it joins CRI ``P``/docker partial
records into logical lines, resolves each line's time (the wrapper's full timestamp, else the klog
clock in the caller's year and zone, rolling the year over at December → January), attaches
continuation lines (a 5xx status stack, the glog ``[ua ip]`` trailer after it, multi-line
structured values) to the record before them, and skips the klog lines that are not requests.
Reading one message is ``httplog``'s job, peeling wrappers and the klog header ``klog``'s. The
legacy text audit log, the other line-oriented format, has its batch parser in ``legacy_audit``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import UTC, tzinfo
from typing import Any

from k8saudit.formats.batches import (
    ParsedBatch,
    Reject,
    clipped_reject,
    rows_to_table,
    sample_lines,
)
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

#: the earliest time an int64 of microseconds holds
_MIN_US = -(1 << 63)
#: a CRI/docker partial line is joined until this many characters, then taken as it is
_MAX_JOINED = 1 << 20
_KLOG_SEVERITIES = frozenset("IWEF")
#: lines a klog entry runs on to: utiltrace steps, indented continuations, goroutine dumps
_KLOG_RUN_ON = re.compile(r"Trace\[\d+\]: |\s|goroutine \d+ \[")

# --------------------------------------------------------------------------- sniffers


def looks_like_access_log(sample: str) -> bool:
    """True when the first bytes of a file hold at least one readable API-server access line.

    A kube-apiserver log with no request in its first ~64 KiB is not recognised (nothing to
    ingest from the sample); wrappers and all three eras are.

    >>> looks_like_access_log("I0204 12:34:56.789012 1 wrap.go:47] GET /a: (1ms) 200 [[k] a:1]\\n")
    True
    """
    for line in sample_lines(sample):
        if isinstance(parse_httplog_line(line.lstrip("\ufeff")), HttpLogRecord):
            return True
    return False


def looks_like_klog(sample: str) -> bool:
    """True when most sample lines are klog lines (wrapped or not), or the lines klog entries
    run on to: a kube-apiserver log.

    Such a log may hold no access line at all (the API server runs below ``-v=3``); it is still
    read, so that the report can say why it yielded no requests. A ``-v=2`` log is mostly the
    traces of slow requests, whose lines after the first are ``Trace[id]: ...`` without a header.

    >>> looks_like_klog("I0204 12:34:56.789012 1 controller.go:47] Starting\\n")
    True
    >>> looks_like_klog("I0204 12:34:56.789012 1 trace.go:116] Trace[1]: List\\nTrace[1]: END\\n")
    True
    >>> looks_like_klog("Trace[1]: END\\nplain text\\n")
    False
    """
    lines = [unwrap_line(line.lstrip("\ufeff")).text for line in sample_lines(sample)]
    lines = [line for line in lines if line.strip()]
    headers = sum(1 for line in lines if parse_klog_header(line) is not None)
    run_on = sum(1 for line in lines if _KLOG_RUN_ON.match(line))
    return headers > 0 and (headers + run_on) * 2 > len(lines)


# --------------------------------------------------------------------------- access logs

#: the pending record of ``_AccessState`` when its row was built elsewhere (the vectorised
#: reader, ``access_fast``): it still takes the continuation lines that follow it
EMITTED = HttpLogRecord("emitted", None, None, "", None, None, None, None)


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
        if rec is EMITTED:  # its row is already built (``access_fast``): count its lines
            self.continuation += self.pending_cont
            self.pending = None
            self.pending_cont = 0
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
        # without a latency the line's own time is the best received time; so it is with one
        # that reaches before any time a timestamp holds (292,000 years: "2562513065h")
        received = stage_us - round(latency * 1000) if latency is not None else stage_us
        if received < _MIN_US:
            received = stage_us
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


class LineJoiner:
    """Unwraps physical lines and joins CRI ``P`` / docker partial records into logical lines.

    ``push`` takes one numbered physical line and returns the logical line it completes, as
    ``(first line number, physical line count, text, wrapper time us, host)``, or None while a
    partial record is still open; ``finish`` returns what is left open at the end of the file.
    """

    __slots__ = ("first", "host", "joined", "size", "us")

    def __init__(self) -> None:
        self.joined: list[str] = []
        self.size = 0
        self.first = 0
        self.us: int | None = None
        self.host: str | None = None

    def push(self, line_no: int, raw: str) -> tuple[int, int, str, int | None, str | None] | None:
        """The logical line ``raw`` (line ``line_no``) completes, or None (see the class)."""
        first = raw[:1]
        if not self.joined and first in _KLOG_SEVERITIES and KLOG_FAST_RE.match(raw) is not None:
            return line_no, 1, raw, None, None  # fast path: a bare klog line
        if line_no == 1 and first == "\ufeff":
            raw = raw[1:]
        text, wrapper_us, host, partial, _ = unwrap_line(raw)
        joined = self.joined
        if partial and self.size < _MAX_JOINED:
            if not joined:
                self.first, self.us, self.host = line_no, wrapper_us, host
            joined.append(text)
            self.size += len(text)
            return None
        if joined:
            joined.append(text)
            done = self.first, len(joined), "".join(joined), self.us, self.host
            self.joined = []
            self.size = 0
            return done
        return line_no, 1, text, wrapper_us, host

    def finish(self) -> tuple[int, int, str, int | None, str | None] | None:
        """The partial record the file ended inside, taken as it is (None if there is none)."""
        if not self.joined:
            return None
        done = self.first, len(self.joined), "".join(self.joined), self.us, self.host
        self.joined = []
        self.size = 0
        return done


def _logical_lines(lines: Iterable[str]) -> Iterator[tuple[int, int, str, int | None, str | None]]:
    """Unwrap physical lines and join CRI ``P`` / docker partial records into logical lines.

    Yields ``(first line number, physical line count, text, wrapper time us, host)``.

    >>> list(_logical_lines(["2020-01-01T00:00:00Z stderr P a", "2020-01-01T00:00:01Z stderr F b"]))
    [(1, 2, 'ab', 1577836800000000, None)]
    """
    joiner = LineJoiner()
    for line_no, raw in enumerate(lines, 1):
        done = joiner.push(line_no, raw)
        if done is not None:
            yield done
    rest = joiner.finish()
    if rest is not None:
        yield rest


class AccessLogParser:
    """The line-by-line access-log state machine: one logical line at a time (``take_line``).

    It keeps the record waiting for continuation lines and the klog clock's year (advanced when
    the month falls from December to January); ``state`` holds the rows and counts settled so
    far, packaged by ``state.take``. ``parse_access_log`` drives it over every line; the
    vectorised reader (``access_fast``) drives it over the lines its fast path cannot take.
    """

    __slots__ = ("last_month", "second_cache", "state", "tz", "year")

    def __init__(self, default_year: int, tz: tzinfo = UTC) -> None:
        self.state = _AccessState()
        self.year = default_year
        self.tz = tz
        self.last_month = 0
        self.second_cache: dict[str, int] = {}

    def take_line(
        self, start_line: int, nphys: int, text: str, wrapper_us: int | None, host: str | None
    ) -> bool:
        """Account for one logical line (see ``LineJoiner``): a row, a reject, a continuation
        of the record before it, or a skip. True when a batch may be due after it (a record
        or a reject was taken; the reference reader checks its batch size only then)."""
        state = self.state
        m = KLOG_FAST_RE.match(text)
        if m is None:
            if text[:1] == "{":
                obj = parse_klog_json(text)
                if obj is not None:  # a JSON log record: always a record of its own
                    state.flush()
                    _take_json_record(state, obj, text, start_line, nphys, host)
                    return True
            if state.pending is not None:  # continuation of the access record before it
                state.pending_cont += nphys
                if state.pending.needs_trailer:
                    found = trailer_from_continuation(text)
                    if found is not None:
                        state.trailer = found
            else:
                state.skipped += nphys
            return False

        state.flush()
        record = parse_httplog_message(text[m.end() :])
        if record is None:
            state.skipped += nphys
            return False
        if isinstance(record, str):
            state.rejects.append(clipped_reject(start_line, record, text))
            state.continuation += nphys - 1
            return True
        if wrapper_us is not None:
            stage_us: int | None = wrapper_us
        else:
            stage_us = self.klog_us(text, m)
        if stage_us is None:
            state.rejects.append(clipped_reject(start_line, "bad klog timestamp", text))
            state.continuation += nphys - 1
            return False
        if wrapper_us is not None:
            state.wrapper_time_lines += 1
        else:
            state.default_year_lines += 1
        state.pending = record
        state.pending_us = stage_us
        state.pending_line = start_line
        state.pending_server = host
        state.pending_cont = nphys - 1
        return True

    def klog_us(self, text: str, m: re.Match[str]) -> int | None:
        """The time of a klog line (``m``: its ``KLOG_FAST_RE`` match) in the running year."""
        month = int(m.group(1))
        if month == 1 and self.last_month == 12:
            self.year += 1
            self.second_cache.clear()
        self.last_month = month
        key = text[1:14]  # "MMDD hh:mm:ss"
        cache = self.second_cache
        base = cache.get(key)
        if base is None:
            base = klog_time_us(
                self.year,
                month,
                int(m.group(2)),
                int(m.group(3)),
                int(m.group(4)),
                int(m.group(5)),
                0,
                self.tz,
            )
            if base is not None:
                if len(cache) > 100_000:
                    cache.clear()
                cache[key] = base
        return None if base is None else base + int(m.group(6))

    def full(self, batch_rows: int) -> bool:
        """Have the rows or rejects settled so far reached ``batch_rows``?"""
        return len(self.state.rows) >= batch_rows or len(self.state.rejects) >= batch_rows


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

    This is the reference reader, one line at a time; ``access_fast.parse_access_file`` reads a
    whole file with the same results, vectorised.

    >>> batch, = parse_access_log(
    ...     ["I0111 19:04:58.780758 1 wrap.go:47] GET /api/v1/nodes: (174.269µs) 429 [k 1.2.3.4:5]",
    ...      "I0111 19:04:58.790000 1 trace.go:81] something else"],
    ...     source_file="apiserver.log", default_year=2019)
    >>> batch.table.column("code").to_pylist(), batch.skipped, batch.default_year_lines
    ([429], 1, 1)
    """
    parser = AccessLogParser(default_year, tz)
    seen = False
    for logical in _logical_lines(lines):
        seen = True
        if parser.take_line(*logical) and parser.full(batch_rows):
            yield parser.state.take(source_file)
    parser.state.flush()
    if seen:
        yield parser.state.take(source_file)


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
        state.rejects.append(clipped_reject(start_line, reason, text))
        state.continuation += nphys - 1
        return
    state.pending = record
    state.pending_us = stage_us
    state.pending_line = start_line
    state.pending_server = host
    state.pending_cont = nphys - 1
    state.wrapper_time_lines += 1
    state.flush()
