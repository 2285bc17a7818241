"""Reading input files whatever their compression: gzip and zstd told by magic bytes, not names.

The lowest layer of the ingest side: a discovered file (``SourceFile``) and the streams that
undo its compression. Formats, the ingest plan and the readers all open files through here.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
BOM = "\ufeff"


class Compression(StrEnum):
    NONE = "none"
    GZIP = "gzip"
    ZSTD = "zstd"


def compression_of(path: Path) -> Compression:
    """How the file at ``path`` is compressed, from its first bytes.

    >>> compression_of(Path(__file__))
    <Compression.NONE: 'none'>
    """
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic.startswith(GZIP_MAGIC):
        return Compression.GZIP
    if magic == ZSTD_MAGIC:
        return Compression.ZSTD
    return Compression.NONE


@dataclass(frozen=True)
class SourceFile:
    """One input file as discovered: where it is and how to read it."""

    path: Path
    display: str  # the path as shown to users and stored in `source_file`
    size: int
    compression: Compression


def open_binary(source: SourceFile) -> IO[bytes]:
    """Open a source for reading its decompressed bytes as a stream."""
    if source.compression is Compression.GZIP:
        return gzip.GzipFile(source.path, "rb")  # type: ignore[return-value]
    if source.compression is Compression.ZSTD:
        import zstandard

        return zstandard.ZstdDecompressor().stream_reader(open(source.path, "rb"), closefd=True)
    return open(source.path, "rb")


def open_text(source: SourceFile) -> io.TextIOWrapper:
    """Open a source as text; undecodable bytes become U+FFFD (they end up in rejects)."""
    return io.TextIOWrapper(open_binary(source), encoding="utf-8", errors="replace", newline="\n")


def iter_lines(source: SourceFile) -> Iterator[str]:
    """The file's lines without their newline (and without a leading BOM), in order."""
    with open_text(source) as fh:
        first = True
        for line in fh:
            if first:
                line = line.removeprefix(BOM)
                first = False
            yield line.rstrip("\r\n")
