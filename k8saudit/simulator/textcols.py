"""Vectorized text columns: UUIDs, timestamps and Go durations for millions of rows at once.

Formatting one value at a time in Python caps the simulator at a few MB/s. These helpers build
fixed-width ASCII columns as numpy byte matrices and hand them to polars zero-copy through an
Arrow string array, so a timestamp or an audit ID costs a few nanoseconds per row.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pyarrow as pa

# every byte value as two lowercase hex digits, and every number below 1000 as three digits
_HEX_PAIRS = np.frombuffer("".join(f"{b:02x}" for b in range(256)).encode("ascii"), dtype=np.uint16)
_THREE_DIGITS = np.frombuffer(
    "".join(f"{d:03d}" for d in range(1000)).encode("ascii"), dtype=np.uint8
).reshape(1000, 3)
# (start, end) of each hex group of a UUID, in hex digits and in output characters
_UUID_GROUPS = ((0, 8, 0), (8, 12, 9), (12, 16, 14), (16, 20, 19), (20, 32, 24))


def fixed_width_strings(matrix: np.ndarray) -> pl.Series:
    """Turn an ``(n, width)`` uint8 matrix of ASCII bytes into a polars string Series."""
    n, width = matrix.shape
    data = np.ascontiguousarray(matrix, dtype=np.uint8)
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int64)
    array = pa.Array.from_buffers(
        pa.large_string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )
    series = pl.Series(array)
    assert isinstance(series, pl.Series)
    return series


def random_uuids(rng: np.random.Generator, n: int) -> pl.Series:
    """``n`` random version-4 UUIDs (as kube-apiserver's audit IDs), e.g. ``'0a1b…-4…'``."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    hexed = _HEX_PAIRS[raw].view(np.uint8).reshape(n, 32)
    out = np.full((n, 36), ord("-"), dtype=np.uint8)
    for first, last, at in _UUID_GROUPS:
        out[:, at : at + last - first] = hexed[:, first:last]
    return fixed_width_strings(out)


def _second_table(start: dt.datetime, seconds: int, fmt: str) -> np.ndarray:
    """``strftime(fmt)`` of every whole second from ``start``, as a byte matrix."""
    texts = [(start + dt.timedelta(seconds=s)).strftime(fmt) for s in range(seconds + 1)]
    width = len(texts[0])
    return np.frombuffer("".join(texts).encode("ascii"), dtype=np.uint8).reshape(-1, width)


def _timestamps(us: np.ndarray, start: dt.datetime, fmt: str, suffix: bytes) -> pl.Series:
    us = np.asarray(us, dtype=np.int64)
    seconds = us // 1_000_000
    # times before ``start`` (a watch received before the log began) index from the earliest
    first = min(int(seconds.min(initial=0)), 0)
    table = _second_table(
        start + dt.timedelta(seconds=first), int(seconds.max(initial=0)) - first, fmt
    )
    head = table[seconds - first]
    out = np.empty((len(us), head.shape[1] + 7 + len(suffix)), dtype=np.uint8)
    out[:, : head.shape[1]] = head
    out[:, head.shape[1]] = ord(".")
    micros = us % 1_000_000
    out[:, head.shape[1] + 1 : head.shape[1] + 4] = _THREE_DIGITS[micros // 1000]
    out[:, head.shape[1] + 4 : head.shape[1] + 7] = _THREE_DIGITS[micros % 1000]
    if suffix:
        out[:, head.shape[1] + 7 :] = np.frombuffer(suffix, dtype=np.uint8)
    return fixed_width_strings(out)


def rfc3339_micro(us: np.ndarray, start: dt.datetime) -> pl.Series:
    """Audit timestamps ``2019-02-04T12:34:56.789012Z`` for microseconds after ``start`` (UTC)."""
    return _timestamps(us, start, "%Y-%m-%dT%H:%M:%S", b"Z")


def klog_header_time(us: np.ndarray, start: dt.datetime) -> pl.Series:
    """klog header times ``0204 12:34:56.789012`` (month, day, time) for microseconds."""
    return _timestamps(us, start, "%m%d %H:%M:%S", b"")


def go_duration(us: pl.Expr) -> pl.Expr:
    """Go's ``time.Duration.String()`` of a whole number of microseconds.

    ``1500`` -> ``'1.5ms'``, ``12`` -> ``'12µs'``, ``61_250_000`` -> ``'1m1.25s'``,
    ``0`` -> ``'0s'``.
    """

    def fraction(value: pl.Expr, digits: int) -> pl.Expr:
        text = value.cast(pl.Utf8).str.zfill(digits).str.strip_chars_end("0")
        return pl.when(value == 0).then(pl.lit("")).otherwise(pl.lit(".") + text)

    minutes = us // 60_000_000
    seconds = (us // 1_000_000) % 60
    sub_second = us % 1_000_000
    under_ms = us.cast(pl.Utf8) + pl.lit("µs")
    under_s = (us // 1000).cast(pl.Utf8) + fraction(us % 1000, 3) + pl.lit("ms")
    second_part = seconds.cast(pl.Utf8) + fraction(sub_second, 6) + pl.lit("s")
    hours_part = (
        pl.when(minutes >= 60)
        .then((minutes // 60).cast(pl.Utf8) + pl.lit("h"))
        .otherwise(pl.lit(""))
    )
    minutes_part = (
        pl.when(minutes > 0)
        .then(hours_part + (minutes % 60).cast(pl.Utf8) + pl.lit("m"))
        .otherwise(pl.lit(""))
    )
    return (
        pl.when(us == 0)
        .then(pl.lit("0s"))
        .when(us < 1000)
        .then(under_ms)
        .when(us < 1_000_000)
        .then(under_s)
        .otherwise(minutes_part + second_part)
    )
