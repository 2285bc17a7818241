"""Reading an access-log file vectorised: polars regexes over blocks of lines, Python for the rest.

An API server at ``-v=3`` logs one line per request, millions an hour, nearly all of them in one
of two canonical shapes: the structured ``httplog.go] "HTTP" verb="LIST" URI="..." ... resp=200``
line (1.20+) and the glog ``wrap.go] GET /api/v1/pods: (1.2ms) 200 [ua ip:port]`` line (≤ 1.17),
each a bare klog line. ``parse_access_file`` reads the file's bytes in blocks of whole lines
(``BLOCK_BYTES``, read ahead by a second thread: decompression releases the GIL), tells those
lines apart with one full-line regex per era (polars, whose expressions run on both cores), and
builds their rows column by column: the fields are split out by the quotes the regex vouched
for, durations and clock read as integers, times computed with numpy.

Everything else goes through the reference state machine (``access_log.AccessLogParser``), in
file order, with the fast lines standing in as records whose rows are already built
(``access_log.EMITTED``): wrappers (CRI, docker, journald), JSON records, escaped or unusual
values, continuation lines (status stacks, glog trailers on a later line), ``hijacked``, klog
noise, truncated lines, dates that need a year to be checked (29 February), the first line
after an open CRI partial record. The fast regexes are deliberately narrower than the
reference's (ASCII digits, printable-ASCII URIs, single-unit-or-``h``/``m`` durations), so
whatever they accept the reference reads the same way; ``tests/test_access_fast.py`` checks
that the two agree row for row on generated lines. Polars, not SQL: the per-block driver
interleaves the vectorised runs with the Python state machine, which SQL cannot express.
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Iterator
from datetime import UTC, tzinfo
from typing import IO

import numpy as np
import polars as pl
import pyarrow as pa

from k8saudit.formats.access_log import EMITTED, AccessLogParser, LineJoiner
from k8saudit.formats.batches import ParsedBatch
from k8saudit.formats.klog import utc_offset_us
from k8saudit.io import BOM
from k8saudit.schema import RAW_EVENT_SCHEMA

#: bytes of input per block: bounds the memory of a block's columns (a few times this)
BLOCK_BYTES = 16 << 20

#: a bare klog header whose clock is valid in any year (29 February is left to the reference)
_HEADER = (
    r"[IWEF](?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01]) (?:[01][0-9]|2[0-3]):[0-5][0-9]:"
    r'(?:[0-5][0-9]|60)\.[0-9]{6} +[0-9]+ [^ \]:"]+:[0-9]+\] ?'
)
#: a Go duration the fast path reads: [Nh][Nm]N[.N]unit, small enough for int64 nanoseconds
_DURATION = r"(?:([0-9]{1,4})h)?(?:([0-9]{1,4})m)?([0-9]{1,9})(?:\.([0-9]{1,9}))?(ns|us|µs|μs|ms|s)"
_DURATION_NC = _DURATION.replace("(", "(?:").replace("(?:?:", "(?:")
_VALUE = r'[^"\\]*'
#: the canonical structured line (``httplog._STRUCTURED_FAST_RE`` with a readable latency)
_STRUCTURED = (
    f'^{_HEADER}"HTTP" verb="[A-Z]+" URI="{_VALUE}" latency="{_DURATION_NC}" '
    f'userAgent="{_VALUE}" audit-ID="{_VALUE}" srcIP="{_VALUE}"(?: apf_pl="{_VALUE}" '
    f'apf_fs="{_VALUE}" apf_iseats=[0-9]{{1,9}} apf_fseats=[0-9]{{1,9}} '
    f'apf_additionalLatency="{_DURATION_NC}" apf_execution_time="{_DURATION_NC}")? '
    r"resp=[0-9]{1,9}$"
)
#: the canonical glog line, its ``[ua ip:port]`` trailer on the same line
_GLOG = (
    f"^{_HEADER}([A-Z][A-Z_-]*) ([!-~]+): \\(({_DURATION_NC})\\) ([0-9]{{1,9}}) "
    r"\[(.*) ([^ ]+)\]$"
)
_UNIT_NS = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000, "s": 1_000_000_000}
_K8S_VERBS = {
    "LIST": "list",
    "WATCH": "watch",
    "WATCHLIST": "watch",
    "GET": "get",
    "PATCH": "patch",
    "APPLY": "patch",
    "DELETECOLLECTION": "deletecollection",
}
_SLOW, _STRUCT, _GLOG_KIND = 0, 1, 2
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], np.int64)


def parse_access_file(
    stream: IO[bytes],
    *,
    source_file: str,
    default_year: int,
    tz: tzinfo = UTC,
    block_bytes: int = BLOCK_BYTES,
) -> Iterator[ParsedBatch]:
    """Parse an access log's decompressed bytes like ``access_log.parse_access_log`` does its
    lines (``io.iter_lines``), one ``ParsedBatch`` per block.

    The rows, rejects and counts summed over the batches are the reference's; only the batch
    boundaries and the order of rows within a batch differ.

    >>> import io
    >>> data = (b'I0823 08:55:54.330840 1 httplog.go:132] "HTTP" verb="GET" URI="/healthz" '
    ...         b'latency="1ms" userAgent="k" audit-ID="" srcIP="1.2.3.4:5" resp=200\\nnoise\\n')
    >>> (batch,) = parse_access_file(io.BytesIO(data), source_file="f", default_year=2023)
    >>> batch.table.column("request_uri").to_pylist(), batch.lines, batch.continuation
    (['/healthz'], 2, 1)
    """
    parser = AccessLogParser(default_year, tz)
    joiner = LineJoiner()
    first_line = 1
    seen = False
    for lines in _line_blocks(_read_ahead(stream, block_bytes)):
        seen = True
        yield _parse_block(parser, joiner, lines, first_line, source_file)
        first_line += len(lines)
    if not seen:
        return
    rest = joiner.finish()
    if rest is not None:
        parser.take_line(*rest)
    parser.state.flush()
    yield parser.state.take(source_file)


# --------------------------------------------------------------------------- lines


def _read_ahead(stream: IO[bytes], size: int) -> Iterator[bytes]:
    """The stream's bytes in reads of ``size``, read (and decompressed) by a second thread
    while this one parses; at most two reads wait in memory."""
    chunks: queue.Queue[bytes | BaseException | None] = queue.Queue(maxsize=2)
    stop = threading.Event()

    def pump() -> None:
        try:
            while not stop.is_set():
                chunk = stream.read(size)
                if not chunk:
                    break
                chunks.put(chunk)
        except BaseException as exc:  # handed to the consumer, raised there
            chunks.put(exc)
            return
        chunks.put(None)

    thread = threading.Thread(target=pump, name="k8saudit-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            chunk = chunks.get()
            if chunk is None:
                return
            if isinstance(chunk, BaseException):
                raise chunk
            yield chunk
    finally:
        stop.set()
        while thread.is_alive():  # unblock a pump waiting on a full queue
            try:
                chunks.get_nowait()
            except queue.Empty:
                thread.join(0.01)


def _line_blocks(chunks: Iterator[bytes]) -> Iterator[pl.Series]:
    """Blocks of whole lines, exactly as ``io.iter_lines`` reads them: split at ``\\n``,
    trailing ``\\r``/``\\n`` removed, a leading BOM dropped, invalid UTF-8 as U+FFFD."""
    carry = b""
    first = True
    for chunk in chunks:
        data = carry + chunk if carry else chunk
        cut = data.rfind(b"\n")
        if cut < 0:
            carry = data
            continue
        carry = data[cut + 1 :]
        lines = _split_lines(data[: cut + 1])
        yield _without_bom(lines) if first else lines
        first = False
    if carry:
        lines = _split_lines(carry + b"\n")
        yield _without_bom(lines) if first else lines


def _without_bom(lines: pl.Series) -> pl.Series:
    """The lines with a BOM removed from the start of the first (the file's)."""
    head = lines[0]
    if not isinstance(head, str) or not head.startswith(BOM):
        return lines
    return pl.concat([lines[:1].str.strip_prefix(BOM), lines[1:]])


def _split_lines(block: bytes) -> pl.Series:
    """The lines of ``block`` (which ends in ``\\n``) as a polars string Series."""
    ends = np.flatnonzero(np.frombuffer(block, np.uint8) == 10) + 1
    offsets = np.concatenate((np.zeros(1, np.int64), ends.astype(np.int64)))
    array = pa.LargeStringArray.from_buffers(len(ends), pa.py_buffer(offsets), pa.py_buffer(block))
    try:
        array.validate(full=True)
    except pa.ArrowInvalid:  # invalid UTF-8: replaced as TextIOWrapper(errors="replace") does
        return _split_lines(block.decode("utf-8", "replace").encode("utf-8"))
    series = pl.Series("line", array, dtype=pl.String)
    return series.str.strip_chars_end("\r\n")


# --------------------------------------------------------------------------- a block


def _parse_block(
    parser: AccessLogParser,
    joiner: LineJoiner,
    lines: pl.Series,
    first_line: int,
    source_file: str,
) -> ParsedBatch:
    """Settle the lines of one block: fast runs vectorised, the rest by the state machine."""
    frame = pl.DataFrame({"line": lines}).with_columns(
        structured=pl.col("line").str.contains(_STRUCTURED),
        glog=pl.col("line").str.contains(_GLOG),
    )
    kind = np.where(
        frame["structured"].to_numpy(),
        _STRUCT,
        np.where(frame["glog"].to_numpy(), _GLOG_KIND, _SLOW),
    ).astype(np.int8)
    fast = kind != _SLOW
    months = np.zeros(len(kind), np.int64)
    days = np.zeros(len(kind), np.int64)
    if fast.any():
        clock = lines.filter(pl.Series(fast))
        months[fast] = clock.str.slice(1, 2).cast(pl.Int64).to_numpy()
        days[fast] = clock.str.slice(3, 2).cast(pl.Int64).to_numpy()
    years = np.zeros(len(kind), np.int64)
    emitted = np.zeros(len(kind), bool)
    texts = _SlowLines(lines, fast)
    state = parser.state
    changes = np.flatnonzero(np.diff(fast.view(np.int8))) + 1
    bounds = np.concatenate(([0], changes, [len(kind)])).tolist()
    for start, end in itertools.pairwise(bounds):
        if not fast[start]:
            for i in range(start, end):
                _take_slow(parser, joiner, first_line + i, texts.get(i))
            continue
        while start < end:
            if joiner.joined:  # the line ends an open partial record: the reference joins it
                _take_slow(parser, joiner, first_line + start, texts.get(start))
                start += 1
                continue
            start = _take_fast_run(parser, months, days, years, emitted, start, end)
            if start < end:  # a date the fast path cannot vouch for in its year
                _take_slow(parser, joiner, first_line + start, texts.get(start))
                start += 1
    batch = state.take(source_file)
    table = _fast_table(frame, kind, emitted, years, first_line, parser.tz, source_file)
    if table.num_rows == 0:
        return batch
    return ParsedBatch(
        table=pa.concat_tables([batch.table, table]),
        lines=batch.lines + table.num_rows,
        skipped=batch.skipped,
        rejects=batch.rejects,
        wrapper_time_lines=batch.wrapper_time_lines,
        default_year_lines=batch.default_year_lines,
        continuation=batch.continuation,
        partial=batch.partial,
    )


class _SlowLines:
    """The text of a block's slow lines as Python strings (only those are ever converted)."""

    def __init__(self, lines: pl.Series, fast: np.ndarray) -> None:
        self.lines = lines
        slow = np.flatnonzero(~fast)
        self.index = {int(i): n for n, i in enumerate(slow)}
        self.texts: list[str] = lines.gather(slow).to_list() if len(slow) else []

    def get(self, i: int) -> str:
        n = self.index.get(i)
        if n is not None:
            return self.texts[n]
        text = self.lines[i]  # a fast line the reference has to see after all (rare)
        assert isinstance(text, str)
        return text


def _take_slow(parser: AccessLogParser, joiner: LineJoiner, line_no: int, text: str) -> None:
    """One physical line through the reference state machine."""
    logical = joiner.push(line_no, text)
    if logical is not None:
        parser.take_line(*logical)


def _take_fast_run(
    parser: AccessLogParser,
    months: np.ndarray,
    days: np.ndarray,
    years: np.ndarray,
    emitted: np.ndarray,
    start: int,
    end: int,
) -> int:
    """Take the fast lines ``start:end`` as the state machine would, up to the first whose date
    is not valid in its year; returns where it stopped.

    Each is a record read in the running year (advanced when the month falls from December to
    January) whose row the block builds; the last stays pending for continuation lines.
    """
    run_months = months[start:end]
    previous = np.concatenate(([parser.last_month], run_months[:-1]))
    rolls = (run_months == 1) & (previous == 12)
    run_years = parser.year + np.cumsum(rolls)
    leap = (run_years % 4 == 0) & ((run_years % 100 != 0) | (run_years % 400 == 0))
    limit = _DAYS_IN_MONTH[run_months] + ((run_months == 2) & leap)
    bad = np.flatnonzero(days[start:end] > limit)
    stop = int(bad[0]) if len(bad) else end - start
    if stop == 0:
        return start  # the caller sends it through the reference (which rejects it)
    state = parser.state
    state.flush()
    state.pending = EMITTED
    state.pending_cont = 0
    state.default_year_lines += stop
    years[start : start + stop] = run_years[:stop]
    emitted[start : start + stop] = True
    parser.year = int(run_years[stop - 1])
    parser.last_month = int(run_months[stop - 1])
    if rolls[:stop].any():
        parser.second_cache.clear()
    return start + stop


# --------------------------------------------------------------------------- rows


def _fast_table(
    frame: pl.DataFrame,
    kind: np.ndarray,
    emitted: np.ndarray,
    years: np.ndarray,
    first_line: int,
    tz: tzinfo,
    source_file: str,
) -> pa.Table:
    """The ``RAW_EVENT_SCHEMA`` rows of a block's emitted fast lines, both eras."""
    tables = []
    for era, build in ((_STRUCT, _structured_fields), (_GLOG_KIND, _glog_fields)):
        chosen = emitted & (kind == era)
        if not chosen.any():
            continue
        index = np.flatnonzero(chosen)
        lines = frame["line"].gather(index)
        fields = build(lines)
        stage_us = _klog_us(lines, years[index], tz)
        latency = fields["latency_ns"].to_numpy() / 1e6
        received = stage_us - np.rint(latency * 1000.0).astype(np.int64)
        columns = {
            **{name: fields[name].to_arrow() for name in fields.columns if name[-3:] != "_ns"},
            **{f"{n[:-3]}_ms": _ms(fields[n]) for n in fields.columns if n[-3:] == "_ns"},
            "stage": pa.array(["ResponseComplete"] * len(index), pa.string()),
            "stage_at": pa.array(stage_us, pa.int64()),
            "received_at": pa.array(received, pa.int64()),
            "source_file": pa.array([source_file] * len(index), pa.string()),
            "source_line": pa.array(index + first_line, pa.int64()),
        }
        tables.append(_to_schema(columns, len(index)))
    return pa.concat_tables(tables) if tables else RAW_EVENT_SCHEMA.empty_table()


def _to_schema(columns: dict[str, pa.Array], n: int) -> pa.Table:
    """A ``RAW_EVENT_SCHEMA`` table of ``columns`` (every other column null)."""
    arrays = []
    for schema_field in RAW_EVENT_SCHEMA:
        values = columns.get(schema_field.name)
        if values is None:
            arrays.append(pa.nulls(n, schema_field.type))
        else:
            arrays.append(values.cast(schema_field.type))
    return pa.Table.from_arrays(arrays, schema=RAW_EVENT_SCHEMA)


def _klog_us(lines: pl.Series, years: np.ndarray, tz: tzinfo) -> np.ndarray:
    """Epoch microseconds of bare klog lines whose clock is valid in ``years``, as
    ``klog.klog_time_us`` computes them."""
    clock = pl.DataFrame({"line": lines}).select(
        [
            pl.col("line").str.slice(start, width).cast(pl.Int64).alias(name)
            for name, start, width in (
                ("month", 1, 2),
                ("day", 3, 2),
                ("hour", 6, 2),
                ("minute", 9, 2),
                ("second", 12, 2),
                ("micro", 15, 6),
            )
        ]
    )
    month, day, hour, minute, second, micro = (clock[c].to_numpy() for c in clock.columns)
    months_since_epoch = (years - 1970) * 12 + (month - 1)
    epoch_days = months_since_epoch.astype("datetime64[M]").astype("datetime64[D]").astype(
        np.int64
    ) + (day - 1)
    us = epoch_days * 86_400_000_000 + ((hour * 60 + minute) * 60 + second) * 1_000_000
    if tz is not UTC:
        hours = np.stack((years, month, day, hour), axis=1)
        unique, where = np.unique(hours, axis=0, return_inverse=True)
        offsets = np.array([utc_offset_us(tz, *map(int, row)) for row in unique], np.int64)
        us -= offsets[where.reshape(-1)]
    return us + micro


def _ms(ns: pl.Series) -> pa.Array:
    """Milliseconds of integer nanoseconds, divided as ``goduration.parse_go_duration`` does
    (numpy's true division: polars divides by a scalar through its reciprocal)."""
    values = ns.fill_null(0).to_numpy().astype(np.float64) / 1e6
    missing = ns.is_null().to_numpy()
    return pa.array(values, pa.float64(), mask=missing if missing.any() else None)


def _duration_ns(text: pl.Expr) -> pl.Expr:
    """Integer nanoseconds of a Go duration matching ``_DURATION``; null for null."""
    parts = text.str.extract_groups(f"^{_DURATION}$")
    hours, minutes, whole, frac_text, unit = (parts.struct.field(str(i)) for i in range(1, 6))
    scale = unit.replace_strict(_UNIT_NS, return_dtype=pl.Int64)
    frac = frac_text.cast(pl.Int64).fill_null(0)
    digits = frac_text.str.len_bytes().fill_null(0)
    ns = (
        hours.cast(pl.Int64).fill_null(0) * 3_600_000_000_000
        + minutes.cast(pl.Int64).fill_null(0) * 60_000_000_000
        + whole.cast(pl.Int64) * scale
        + (frac * scale) // digits.replace_strict(_POW10, return_dtype=pl.Int64)
    )
    return ns


_POW10 = {i: 10**i for i in range(10)}


def _host(addr: pl.Expr) -> pl.Expr:
    """``httplog.host_of`` of a ``RemoteAddr`` column."""
    return (
        pl.when(addr == "")
        .then(None)
        .when(addr.str.starts_with("["))
        .then(addr.str.extract(r"^\[([^\]]+)\]", 1))
        .when(addr.str.count_matches(":", literal=True) == 1)
        .then(addr.str.extract(r"^([^:]+):", 1))
        .otherwise(addr)
    )


def _none_if_empty(text: pl.Expr) -> pl.Expr:
    """The value, null where it is empty (the reference's ``value or None``)."""
    return pl.when(text != "").then(text)


def _structured_fields(lines: pl.Series) -> pl.DataFrame:
    """The fields of canonical structured lines (``_STRUCTURED``), split at their quotes: the
    regex vouched that no value holds a quote or a backslash."""
    part = pl.col("parts").struct.field
    apf = pl.col("apf")
    seats = part("field_18").str.extract_groups(
        r"^ apf_iseats=([0-9]+) apf_fseats=([0-9]+) apf_additionalLatency=$"
    )
    verb = part("field_3").replace_strict(_K8S_VERBS, default=None, return_dtype=pl.String)
    return (
        pl.DataFrame({"parts": lines.str.split_exact('"', 22)})
        .with_columns(apf=part("field_14").str.starts_with(" apf_pl="))
        .select(
            verb=verb,
            http_method=pl.when(verb.is_null()).then(part("field_3")),
            request_uri=part("field_5"),
            latency_ns=_duration_ns(part("field_7")),
            user_agent=_none_if_empty(part("field_9")),
            audit_id=_none_if_empty(part("field_11")),
            source_ip=_host(part("field_13")),
            code=pl.when(apf)
            .then(part("field_22"))
            .otherwise(part("field_14"))
            .str.strip_prefix(" resp=")
            .cast(pl.Int32),
            apf_priority_level=pl.when(apf).then(_none_if_empty(part("field_15"))),
            apf_flow_schema=pl.when(apf).then(_none_if_empty(part("field_17"))),
            apf_initial_seats=pl.when(apf).then(seats.struct.field("1").cast(pl.Int32)),
            apf_final_seats=pl.when(apf).then(seats.struct.field("2").cast(pl.Int32)),
            apf_additional_latency_ns=pl.when(apf).then(_duration_ns(part("field_19"))),
            apf_execution_ns=pl.when(apf).then(_duration_ns(part("field_21"))),
            log_format=pl.lit("httplog-structured"),
        )
    )


def _glog_fields(lines: pl.Series) -> pl.DataFrame:
    """The fields of canonical glog lines (``_GLOG``): method, URI, latency, code and the
    ``[ua ip:port]`` trailer split at its last space (``httplog.split_glog_trailer``)."""
    group = pl.col("groups").struct.field
    ua = group("5")
    unbracketed = (
        pl.when(ua.str.starts_with("[") & ua.str.ends_with("]"))
        .then(ua.str.strip_prefix("[").str.strip_suffix("]"))
        .otherwise(ua)
    )
    return pl.DataFrame({"groups": lines.str.extract_groups(_GLOG)}).select(
        http_method=group("1"),
        request_uri=group("2"),
        latency_ns=_duration_ns(group("3")),
        code=group("4").cast(pl.Int32),
        user_agent=_none_if_empty(unbracketed),
        source_ip=_host(group("6")),
        log_format=pl.lit("httplog-glog"),
    )
