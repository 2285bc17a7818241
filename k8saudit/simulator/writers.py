"""Log files as kube-apiserver leaves them: size-rotated, optionally gzipped, byte-reproducible.

The audit log backend (lumberjack) renames ``audit.log`` to ``audit-<rotation time>.log`` once it
would exceed ``--audit-log-maxsize``, with the time as ``2006-01-02T15-04-05.000`` (UTC). Rotation
happens at line boundaries. With ``gzip`` every file is written as ``.gz`` with a zero mtime and no
embedded name, so the same seed gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path
from typing import IO

import numpy as np
import polars as pl
import pyarrow as pa


def _line_buffer(lines: pl.Series) -> tuple[memoryview, np.ndarray]:
    """The bytes of all ``lines`` (already newline-terminated) and each line's end offset."""
    array = lines.to_arrow().cast(pa.large_string())
    _, offsets_buf, data_buf = array.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int64)[
        array.offset : array.offset + len(array) + 1
    ]
    data = memoryview(data_buf)[int(offsets[0]) : int(offsets[-1])]
    return data, offsets[1:] - offsets[0]


class RotatingLog:
    """One log stream of one API server, rotated by size like lumberjack."""

    def __init__(
        self,
        directory: Path,
        name: str,
        *,
        max_bytes: int | None,
        compress: bool,
        start: dt.datetime,
    ) -> None:
        self.directory = directory
        self.stem, _, self.ext = name.rpartition(".")
        self.max_bytes = max_bytes
        self.compress = compress
        self.start = start
        self.size = 0
        self.files: list[Path] = []
        self._raw: IO[bytes] | None = None
        self._out: IO[bytes] | gzip.GzipFile | None = None
        self._open()

    def _path(self, name: str) -> Path:
        return self.directory / (name + (".gz" if self.compress else ""))

    def _open(self) -> None:
        self._raw = open(self._path(f"{self.stem}.{self.ext}"), "wb")  # noqa: SIM115
        if self.compress:
            self._out = gzip.GzipFile(filename="", mode="wb", fileobj=self._raw, mtime=0)
        else:
            self._out = self._raw
        self.size = 0

    def _close(self) -> None:
        assert self._out is not None and self._raw is not None
        self._out.close()
        if self._out is not self._raw:
            self._raw.close()

    def _rotate(self, at_us: int) -> None:
        self._close()
        moment = self.start + dt.timedelta(microseconds=at_us)
        stamp = moment.strftime("%Y-%m-%dT%H-%M-%S.") + f"{moment.microsecond // 1000:03d}"
        current = self._path(f"{self.stem}.{self.ext}")
        backup = self._path(f"{self.stem}-{stamp}.{self.ext}")
        current.rename(backup)
        self.files.append(backup)
        self._open()

    def write(self, lines: pl.Series, line_us: np.ndarray) -> None:
        """Append ``lines`` (newline-terminated), logged at ``line_us``, rotating as needed."""
        if len(lines) == 0:
            return
        data, ends = _line_buffer(lines)
        begin = 0
        while begin < len(ends):
            offset = int(ends[begin - 1]) if begin else 0
            if self.max_bytes is None:
                stop = len(ends)
            else:
                room = self.max_bytes - self.size
                stop = int(np.searchsorted(ends, offset + room, side="right"))
                if stop == begin:
                    if self.size == 0:
                        stop = begin + 1  # a single line longer than the limit
                    else:
                        self._rotate(int(line_us[begin]))
                        continue
            chunk = data[offset : int(ends[stop - 1])]
            assert self._out is not None
            self._out.write(chunk)
            self.size += len(chunk)
            begin = stop

    def close(self) -> list[Path]:
        """Finish the stream; returns every file written, oldest first."""
        self._close()
        self.files.append(self._path(f"{self.stem}.{self.ext}"))
        return self.files


def megabytes(value: float) -> int:
    """``--rotate-mb`` as bytes (lumberjack counts megabytes of 1,048,576 bytes)."""
    return int(value * 1024 * 1024)
