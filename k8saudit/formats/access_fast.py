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
from collections.abc import Iterator
from datetime import UTC, tzinfo
from typing import IO

import numpy as np
import polars as pl
import pyarrow as pa

from k8saudit.formats.access_log import EMITTED, AccessLogParser, LineJoiner
from k8saudit.formats.access_patterns import CRI, GLOG, JOURNALD, STRUCTURED
from k8saudit.formats.batches import ParsedBatch
from k8saudit.formats.httplog import K8S_VERBS
from k8saudit.formats.klog import utc_offset_us
from k8saudit.io import BOM, read_ahead
from k8saudit.schema import RAW_EVENT_SCHEMA

#: bytes of input per block: bounds the memory of a block's columns (a few times this)
BLOCK_BYTES = 4 << 20

_CRI_STRUCTURED = CRI + STRUCTURED[1:]
_CRI_GLOG = CRI + GLOG[1:]
_JOURNALD_STRUCTURED = JOURNALD + STRUCTURED[1:]
_JOURNALD_GLOG = JOURNALD + GLOG[1:]
_SLOW, _STRUCT, _GLOG_KIND = 0, 1, 2
_WIDTH = np.arange(12)
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
    boundaries and the order of rows within a batch differ. A row's continuation lines are
    counted in the batch of the block after it when they are the first lines of that block.

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
    previous: ParsedBatch | None = None
    reads = iter(lambda: stream.read(block_bytes), b"")
    for block in _line_blocks(read_ahead(reads)):
        if previous is not None:
            yield previous
        previous = _parse_block(parser, joiner, block, first_line, source_file)
        first_line += len(block)
    if previous is None:
        return
    rest = joiner.finish()
    if rest is not None:
        parser.take_line(*rest)
    parser.state.flush()  # the last record, and the lines after it, settle with the last block
    yield _combined(previous, parser.state.take(source_file))


def _combined(first: ParsedBatch, second: ParsedBatch) -> ParsedBatch:
    """One batch holding the rows and the accounting of both."""
    return ParsedBatch(
        table=pa.concat_tables([first.table, second.table]),
        lines=first.lines + second.lines,
        skipped=first.skipped + second.skipped,
        rejects=first.rejects + second.rejects,
        wrapper_time_lines=first.wrapper_time_lines + second.wrapper_time_lines,
        default_year_lines=first.default_year_lines + second.default_year_lines,
        continuation=first.continuation + second.continuation,
        partial=first.partial + second.partial,
    )


# --------------------------------------------------------------------------- lines


class _Block:
    """A block of whole lines: the text of each (as ``io.iter_lines`` reads it) and the bytes
    they were cut from, for slicing fields out of the lines the fast regexes vouched for."""

    def __init__(self, data: bytes) -> None:
        self.lines = pl.Series("line", [], pl.String)
        self.starts = np.zeros(0, np.int64)  # the byte offset of each line in ``data``
        self.klog_at = self.starts  # where each line's klog line starts (after a wrapper)
        self.wrapper_us = self.starts  # the time its wrapper states (CRI-wrapped fast lines)
        self.host_at = self.host_end = self.starts  # the host of a journald prefix
        self.buffer = pa.py_buffer(data)
        self.bytes = np.frombuffer(data, np.uint8)
        self._positions: dict[int, np.ndarray] = {}
        self._padded: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.lines)

    def positions(self, byte: int) -> np.ndarray:
        """The offsets of every ``byte`` in the block, in order."""
        found = self._positions.get(byte)
        if found is None:
            found = self._positions[byte] = np.flatnonzero(self.bytes == byte)
        return found

    def next(self, byte: int, after: np.ndarray) -> np.ndarray:
        """For each offset in ``after``, the offset of the first ``byte`` at or after it (some
        offset, for rows that are masked out anyway)."""
        positions = self.positions(byte)
        return positions[np.minimum(np.searchsorted(positions, after), len(positions) - 1)]

    def strings(
        self, start: np.ndarray, end: np.ndarray, valid: np.ndarray | None = None
    ) -> pa.Array:
        """The byte ranges ``start:end`` of the block as an Arrow ``string_view`` array that
        points into the block (no copy); null where ``valid`` is False."""
        n = len(start)
        length = (end - start).astype(np.int32)
        if valid is not None:
            length = np.where(valid, length, 0).astype(np.int32)
        views = np.empty((n, 16), np.uint8)
        views[:, 0:4] = length.view(np.uint8).reshape(n, 4)
        # the first 12 bytes: the whole value when it is that short (inline), else its prefix
        views[:, 4:16] = self._windows()[np.clip(start, 0, len(self.bytes))]
        views[:, 4:16] *= length[:, None] > _WIDTH
        long = length > 12
        views[long, 8:12] = 0  # buffer index
        views[long, 12:16] = start[long].astype(np.int32).view(np.uint8).reshape(-1, 4)
        bitmap = None
        if valid is not None and not valid.all():
            bitmap = pa.py_buffer(np.packbits(valid, bitorder="little"))
        return pa.Array.from_buffers(
            pa.string_view(), n, [bitmap, pa.py_buffer(views), self.buffer]
        )

    def _windows(self) -> np.ndarray:
        """Every 12 bytes of the block, by start offset (a strided view of a padded copy)."""
        if self._padded is None:
            self._padded = np.concatenate((self.bytes, np.zeros(12, np.uint8)))
        return np.lib.stride_tricks.sliding_window_view(self._padded, 12)

    def number(self, at: np.ndarray, width: int) -> np.ndarray:
        """The ``width`` ASCII digits at each offset ``at``, as integers."""
        value = np.zeros(len(at), np.int64)
        for k in range(width):
            value = value * 10 + (self.bytes[at + k].astype(np.int64) - 48)
        return value


def _line_blocks(chunks: Iterator[bytes]) -> Iterator[_Block]:
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
        block = _split_lines(data[: cut + 1])
        yield _without_bom(block) if first else block
        first = False
    if carry:
        block = _split_lines(carry + b"\n")
        yield _without_bom(block) if first else block


def _without_bom(block: _Block) -> _Block:
    """The block with a BOM removed from the start of its first line (the file's)."""
    head = block.lines[0]
    if not isinstance(head, str) or not head.startswith(BOM):
        return block
    block.lines = pl.concat([block.lines[:1].str.strip_prefix(BOM), block.lines[1:]])
    block.starts[0] += len(BOM.encode())
    return block


def _split_lines(data: bytes) -> _Block:
    """The lines of ``data`` (which ends in ``\\n``), as views into it (no copy)."""
    whole = pa.LargeStringArray.from_buffers(
        1, pa.py_buffer(np.array([0, len(data)], np.int64)), pa.py_buffer(data)
    )
    try:
        whole.validate(full=True)
    except pa.ArrowInvalid:  # invalid UTF-8: replaced as TextIOWrapper(errors="replace") does
        data = data.decode("utf-8", "replace").encode("utf-8")
    block = _Block(data)
    ends = block.positions(ord("\n"))
    starts = np.concatenate((np.zeros(1, np.int64), ends[:-1] + 1))
    while True:  # iter_lines strips every trailing "\r" (and "\n") of a line
        cr = (ends > starts) & (block.bytes[np.maximum(ends - 1, 0)] == ord("\r"))
        if not cr.any():
            break
        ends = ends - cr
    block.starts = starts
    block.lines = pl.Series("line", block.strings(starts, ends))
    return block


# --------------------------------------------------------------------------- a block


def _parse_block(
    parser: AccessLogParser,
    joiner: LineJoiner,
    block: _Block,
    first_line: int,
    source_file: str,
) -> ParsedBatch:
    """Settle the lines of one block: fast runs vectorised, the rest by the state machine."""
    lines = block.lines
    kind = _eras(lines, STRUCTURED, GLOG)
    block.klog_at = block.starts.copy()
    block.host_at = np.zeros(len(kind), np.int64)
    block.host_end = np.zeros(len(kind), np.int64)
    wrapped = _cri_lines(block, kind)
    journald = _journald_lines(block, kind)
    if len(block.bytes) >= 1 << 31:  # string views address a block with 32-bit offsets
        kind[:] = _SLOW
    fast = kind != _SLOW
    bare = fast & ~wrapped
    months = np.zeros(len(kind), np.int64)
    days = np.zeros(len(kind), np.int64)
    if bare.any():  # a klog header starts with MMDD at bytes 1-4
        months[bare] = block.number(block.klog_at[bare] + 1, 2)
        days[bare] = block.number(block.klog_at[bare] + 3, 2)
    years = np.zeros(len(kind), np.int64)
    emitted = np.zeros(len(kind), bool)
    texts = _SlowLines(lines, fast)
    state = parser.state
    run_kind = fast.view(np.int8) + wrapped.view(np.int8)  # 0 slow, 1 bare, 2 CRI-wrapped
    changes = np.flatnonzero(np.diff(run_kind)) + 1
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
            if wrapped[start]:
                start = _take_wrapped_run(parser, emitted, start, end)
                continue
            start = _take_fast_run(parser, months, days, years, emitted, start, end)
            if start < end:  # a date the fast path cannot vouch for in its year
                _take_slow(parser, joiner, first_line + start, texts.get(start))
                start += 1
    batch = state.take(source_file)
    table = _fast_table(
        block, kind, wrapped, journald, emitted, years, first_line, parser.tz, source_file
    )
    if table.num_rows == 0:
        return batch
    return _combined(batch, ParsedBatch(table=table, lines=table.num_rows, skipped=0))


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


def _take_wrapped_run(parser: AccessLogParser, emitted: np.ndarray, start: int, end: int) -> int:
    """Take the CRI-wrapped fast lines ``start:end`` as the state machine would: each a record
    timed by its wrapper (the klog clock, and so the running year, left alone); the last stays
    pending for continuation lines. Returns ``end``."""
    state = parser.state
    state.flush()
    state.pending = EMITTED
    state.pending_cont = 0
    state.wrapper_time_lines += end - start
    emitted[start:end] = True
    return end


def _eras(lines: pl.Series, structured: str, glog: str) -> np.ndarray:
    """The era of each line (``_STRUCT``, ``_GLOG_KIND``, else ``_SLOW``): whether it matches
    the canonical ``structured`` or ``glog`` pattern, checked vectorised."""
    found = pl.DataFrame({"line": lines}).select(
        structured=pl.col("line").str.contains(structured),
        glog=pl.col("line").str.contains(glog),
    )
    return np.where(
        found["structured"].to_numpy(),
        _STRUCT,
        np.where(found["glog"].to_numpy(), _GLOG_KIND, _SLOW),
    ).astype(np.int8)


def _cri_lines(block: _Block, kind: np.ndarray) -> np.ndarray:
    """Which lines are canonical lines in a containerd (CRI) wrapper of a whole record
    (``access_patterns.CRI``, on a valid calendar day): ``kind`` is set to their era; the block
    learns where their klog line starts (``klog_at``) and their wrapper time (``wrapper_us``)."""
    wrapped = np.zeros(len(kind), bool)
    digit_first = block.bytes[np.minimum(block.starts, len(block.bytes) - 1)] - ord("0") < 10
    candidates = np.flatnonzero((kind == _SLOW) & digit_first)
    if len(candidates) == 0:
        return wrapped
    era = _eras(block.lines.gather(candidates), _CRI_STRUCTURED, _CRI_GLOG)
    chosen = candidates[era != _SLOW]
    era = era[era != _SLOW]
    at = block.starts[chosen]
    year, month, day = block.number(at, 4), block.number(at + 5, 2), block.number(at + 8, 2)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    valid = day <= _DAYS_IN_MONTH[month] + ((month == 2) & leap)
    chosen, era, at = chosen[valid], era[valid], at[valid]
    year, month, day = year[valid], month[valid], day[valid]
    zone = block.next(ord("Z"), at + 19)  # the fraction, if any, runs from byte 20 to the Z
    micro = np.zeros(len(at), np.int64)
    for k in range(6):  # the fraction truncated to microseconds, as klog.parse_rfc3339_us does
        digit = at + 20 + k
        micro = micro * 10 + np.where(digit < zone, block.bytes[digit].astype(np.int64) - 48, 0)
    months_since_epoch = (year - 1970) * 12 + (month - 1)
    epoch_days = months_since_epoch.astype("datetime64[M]").astype("datetime64[D]").astype(
        np.int64
    ) + (day - 1)
    clock = (
        block.number(at + 11, 2) * 3600 + block.number(at + 14, 2) * 60 + block.number(at + 17, 2)
    )
    block.wrapper_us = np.zeros(len(kind), np.int64)
    block.wrapper_us[chosen] = (epoch_days * 86_400 + clock) * 1_000_000 + micro
    block.klog_at[chosen] = zone + len("Z stderr F ")
    kind[chosen] = era
    wrapped[chosen] = True
    return wrapped


def _journald_lines(block: _Block, kind: np.ndarray) -> np.ndarray:
    """Which lines are canonical lines behind a journald/syslog prefix
    (``access_patterns.JOURNALD``): ``kind`` is set to their era; the block learns where their
    klog line starts (``klog_at``) and where their host is (``host_at``, ``host_end``)."""
    journald = np.zeros(len(kind), bool)
    first = block.bytes[np.minimum(block.starts, len(block.bytes) - 1)]
    candidates = np.flatnonzero((kind == _SLOW) & (first >= ord("A")) & (first <= ord("S")))
    if len(candidates) == 0:
        return journald
    era = _eras(block.lines.gather(candidates), _JOURNALD_STRUCTURED, _JOURNALD_GLOG)
    chosen = candidates[era != _SLOW]
    host_at = block.starts[chosen] + len("Jan 02 15:04:05 ")
    host_end = block.next(ord(" "), host_at)
    block.host_at[chosen] = host_at
    block.host_end[chosen] = host_end
    # the ident holds no colon: the first after the host ends the prefix (``ident[pid]: ``)
    block.klog_at[chosen] = block.next(ord(":"), host_end) + 2
    kind[chosen] = era[era != _SLOW]
    journald[chosen] = True
    return journald


# --------------------------------------------------------------------------- rows


def _fast_table(
    block: _Block,
    kind: np.ndarray,
    wrapped: np.ndarray,
    journald: np.ndarray,
    emitted: np.ndarray,
    years: np.ndarray,
    first_line: int,
    tz: tzinfo,
    source_file: str,
) -> pa.Table:
    """The ``RAW_EVENT_SCHEMA`` rows of a block's emitted fast lines, both eras, bare, in a
    CRI wrapper (whose time is the wrapper's) or behind a journald prefix (whose host is the
    apiserver)."""
    tables = []
    for era, build in ((_STRUCT, _structured_fields), (_GLOG_KIND, _glog_fields)):
        chosen = emitted & (kind == era)
        if not chosen.any():
            continue
        index = np.flatnonzero(chosen)
        start = block.klog_at[index]
        end = block.starts[index] + block.lines.gather(index).str.len_bytes().to_numpy().astype(
            np.int64
        )
        fields, durations = build(block, start, end)
        in_wrapper = wrapped[index]
        stage_us = block.wrapper_us[index] if in_wrapper.any() else np.zeros(len(index), np.int64)
        bare = ~in_wrapper
        if bare.any():
            stage_us[bare] = _klog_us(block, start[bare], years[index[bare]], tz)
        latency = durations["latency_ms"][0] / 1e6
        received = stage_us - np.rint(latency * 1000.0).astype(np.int64)
        columns = {
            **{name: fields[name].to_arrow() for name in fields.columns},
            **{name: _ms(ns, valid) for name, (ns, valid) in durations.items()},
            "stage": pa.array(["ResponseComplete"] * len(index), pa.string()),
            "stage_at": pa.array(stage_us, pa.int64()),
            "received_at": pa.array(received, pa.int64()),
            "source_file": pa.array([source_file] * len(index), pa.string()),
            "source_line": pa.array(index + first_line, pa.int64()),
        }
        in_journald = journald[index]
        if in_journald.any():
            columns["apiserver"] = block.strings(
                block.host_at[index], block.host_end[index], in_journald
            )
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


def _klog_us(block: _Block, start: np.ndarray, years: np.ndarray, tz: tzinfo) -> np.ndarray:
    """Epoch microseconds of bare klog lines starting at ``start`` whose clock is valid in
    ``years``, as ``klog.klog_time_us`` computes them (``I0204 12:34:56.789012``)."""
    month, day = block.number(start + 1, 2), block.number(start + 3, 2)
    hour, minute = block.number(start + 6, 2), block.number(start + 9, 2)
    second, micro = block.number(start + 12, 2), block.number(start + 15, 6)
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


def _ms(ns: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Milliseconds of integer nanoseconds, divided as ``goduration.parse_go_duration`` does
    (numpy's true division: polars divides by a scalar through its reciprocal)."""
    values = ns.astype(np.float64) / 1e6
    missing = None if valid is None or valid.all() else ~valid
    return pa.array(values, pa.float64(), mask=missing)


def _duration_ns(block: _Block, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Integer nanoseconds of the Go durations at ``start:end`` (each matched
    ``access_patterns.DURATION``: ``[Nh][Nm]N[.N]unit``), read digit by digit as ``goduration``
    reads them."""
    data = block.bytes
    last = np.maximum(end - 2, 0)
    second_last = data[last]
    # the unit: "s" after a digit; "ns", "us", "ms"; "µs"/"μs" (two UTF-8 bytes before the "s")
    unit_width = np.where(
        (second_last >= ord("0")) & (second_last <= ord("9")),
        1,
        np.where((second_last == 0xB5) | (second_last == 0xBC), 3, 2),
    )
    scale = np.select(
        [unit_width == 1, second_last == ord("n"), second_last == ord("m")],
        [1_000_000_000, 1, 1_000_000],
        1_000,
    ).astype(np.int64)
    stop = end - unit_width
    n = len(start)
    number = np.zeros(n, np.int64)
    hours = np.zeros(n, np.int64)
    minutes = np.zeros(n, np.int64)
    frac = np.zeros(n, np.int64)
    frac_digits = np.zeros(n, np.int64)
    in_frac = np.zeros(n, bool)
    for k in range(int((stop - start).max(initial=0))):
        at = start + k
        live = at < stop
        char = np.where(live, data[np.minimum(at, len(data) - 1)], 0).astype(np.int64)
        digit = live & (char >= ord("0")) & (char <= ord("9"))
        whole_digit = digit & ~in_frac
        frac_digit = digit & in_frac
        number = np.where(whole_digit, number * 10 + (char - ord("0")), number)
        frac = np.where(frac_digit, frac * 10 + (char - ord("0")), frac)
        frac_digits += frac_digit
        is_hours, is_minutes = live & (char == ord("h")), live & (char == ord("m"))
        hours = np.where(is_hours, number, hours)
        minutes = np.where(is_minutes, number, minutes)
        number = np.where(is_hours | is_minutes, 0, number)
        in_frac |= live & (char == ord("."))
    return (
        hours * 3_600_000_000_000
        + minutes * 60_000_000_000
        + number * scale
        + (frac * scale) // (10 ** np.minimum(frac_digits, 18))  # (more: rows masked out)
    )


#: a builder's columns: polars fields, and durations as (nanoseconds, valid or None) by column
_Fields = tuple[pl.DataFrame, dict[str, tuple[np.ndarray, np.ndarray | None]]]


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


def _structured_fields(block: _Block, start: np.ndarray, end: np.ndarray) -> _Fields:
    """The fields of canonical structured lines (``STRUCTURED``), sliced between their
    quotes: the regex vouched that no value holds a quote or a backslash, and that the header
    holds none."""
    quotes = block.positions(ord('"'))
    first = np.searchsorted(quotes, start)
    last = len(quotes) - 1

    def quote(j: int) -> np.ndarray:
        return quotes[np.minimum(first + j, last)]

    def value(j: int, valid: np.ndarray | None = None) -> pl.Series:
        # the j-th quoted value: j=1 verb, 2 URI, 3 latency, 4 UA, 5 audit-ID, 6 srcIP, 7 apf_pl...
        return pl.Series(block.strings(quote(2 * j) + 1, quote(2 * j + 1), valid))

    apf = block.bytes[quote(13) + 2] == ord("a")  # `" apf_pl=` rather than `" resp=`
    iseats_at = quote(17) + 13  # `" apf_iseats=N apf_fseats=N apf_additionalLatency="`
    iseats_end = block.next(ord(" "), iseats_at)
    fseats_end = block.next(ord(" "), iseats_end + 12)
    resp_at = np.where(apf, quote(21), quote(13)) + 7  # `" resp=N`
    verb = value(1)
    mapped = verb.replace_strict(K8S_VERBS, default=None, return_dtype=pl.String)
    nonempty = {j: quote(2 * j + 1) > quote(2 * j) + 1 for j in (4, 5, 7, 8)}
    frame = pl.DataFrame(
        {
            "verb": mapped,
            "http_method": verb.zip_with(mapped.is_null(), pl.Series([None], dtype=pl.String)),
            "request_uri": value(2),
            "user_agent": value(4, nonempty[4]),
            "audit_id": value(5, nonempty[5]),
            "src": value(6),
            "code": pl.Series(block.strings(resp_at, end)).cast(pl.Int32),
            "apf_priority_level": value(7, apf & nonempty[7]),
            "apf_flow_schema": value(8, apf & nonempty[8]),
            "apf_initial_seats": pl.Series(block.strings(iseats_at, iseats_end, apf)),
            "apf_final_seats": pl.Series(block.strings(iseats_end + 12, fseats_end, apf)),
        }
    )
    durations = {
        "latency_ms": (_duration_ns(block, quote(6) + 1, quote(7)), None),
        "apf_additional_latency_ms": (_duration_ns(block, quote(18) + 1, quote(19)), apf),
        "apf_execution_ms": (_duration_ns(block, quote(20) + 1, quote(21)), apf),
    }
    fields = frame.select(
        "verb",
        "http_method",
        "request_uri",
        "user_agent",
        "audit_id",
        "code",
        "apf_priority_level",
        "apf_flow_schema",
        pl.col("apf_initial_seats", "apf_final_seats").cast(pl.Int32),
        source_ip=_host(pl.col("src")),
        log_format=pl.lit("httplog-structured"),
    )
    return fields, durations


def _glog_fields(block: _Block, start: np.ndarray, end: np.ndarray) -> _Fields:
    """The fields of canonical glog lines (``GLOG``), sliced at the separators the regex
    vouched for: method, URI, latency, code and the ``[ua ip:port]`` trailer split at its last
    space, its UA unbracketed (``httplog.split_glog_trailer``)."""
    header_end = block.next(ord("]"), start)  # the first `]` of a klog line ends its header
    method_at = header_end + 1 + (block.bytes[header_end + 1] == ord(" "))
    method_end = block.next(ord(" "), method_at)
    uri_end = block.next(ord(" "), method_end + 1) - 1  # the URI token ends in `:`
    latency_end = block.next(ord(")"), uri_end + 3)
    code_end = block.next(ord(" "), latency_end + 2)
    spaces = block.positions(ord(" "))
    last_space = spaces[np.searchsorted(spaces, end) - 1]
    ua_at, ua_end = code_end + 2, last_space
    bracketed = (
        (ua_end - ua_at >= 2)
        & (block.bytes[ua_at] == ord("["))
        & (block.bytes[np.maximum(ua_end - 1, 0)] == ord("]"))
    )
    ua_at, ua_end = ua_at + bracketed, ua_end - bracketed
    frame = pl.DataFrame(
        {
            "http_method": pl.Series(block.strings(method_at, method_end)),
            "request_uri": pl.Series(block.strings(method_end + 1, uri_end)),
            "code": pl.Series(block.strings(latency_end + 2, code_end)).cast(pl.Int32),
            "user_agent": pl.Series(block.strings(ua_at, ua_end, ua_end > ua_at)),
            "addr": pl.Series(block.strings(last_space + 1, end - 1)),
        }
    )
    fields = frame.select(
        "http_method",
        "request_uri",
        "code",
        "user_agent",
        source_ip=_host(pl.col("addr")),
        log_format=pl.lit("httplog-glog"),
    )
    return fields, {"latency_ms": (_duration_ns(block, uri_end + 3, latency_end), None)}
