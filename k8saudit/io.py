"""Reading input files whatever their compression: gzip and zstd told by magic bytes, not names.

The lowest layer of the ingest side: a discovered file (``SourceFile``) and the streams that
undo its compression. Formats, the ingest plan and the readers all open files through here.
"""

from __future__ import annotations

import gzip
import io
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO, TypeVar, cast

_T = TypeVar("_T")

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


def decompressed(raw: IO[bytes], compression: Compression) -> IO[bytes]:
    """The content of the stored bytes ``raw`` as a stream: gzip members one after another,
    zstd frames one after another, or ``raw`` itself (uncompressed).

    gzip is undone by ISA-L (``isal``): 0.43 s of CPU for the 735 MB bench log where the
    standard library's zlib takes 0.9 s (bench/RESULTS.md). A damaged stream raises what
    ``gzip`` raises (``BadGzipFile``, ``EOFError``) or ``isal_zlib.error``.

    >>> decompressed(io.BytesIO(gzip.compress(b"a\\n")), Compression.GZIP).read()
    b'a\\n'
    """
    if compression is Compression.GZIP:
        from isal import igzip

        return igzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    if compression is Compression.ZSTD:
        import zstandard

        return zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
    return raw


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


#: characters DuckDB (and glob) expand in a path: a discovered file with one of them in its
#: name is read through an alias, never by a name that could match other files
GLOB_CHARACTERS = frozenset("*?[]{}\\")


def has_glob_characters(path: Path) -> bool:
    """Would a reader that expands patterns read other files than ``path`` itself?

    >>> has_glob_characters(Path("logs/[ab].log")), has_glob_characters(Path("audit.log"))
    (True, False)
    """
    return any(ch in GLOB_CHARACTERS for ch in str(path))


UTF16_BOMS = {b"\xff\xfe": "utf-16-le", b"\xfe\xff": "utf-16-be"}


def utf16_encoding(sample: bytes) -> str | None:
    """``utf-16-le``/``-be`` when the decompressed bytes ``sample`` start like UTF-16 text (a
    byte-order mark, or ASCII text with every other byte zero, as PowerShell writes), else None.

    >>> utf16_encoding("{}".encode("utf-16")), utf16_encoding(b'{"a": 1}')
    ('utf-16-le', None)
    """
    for bom, encoding in UTF16_BOMS.items():
        if sample.startswith(bom):
            return encoding
    head = sample[:64]
    if len(head) >= 8 and len(head) % 2 == 0:
        if not any(head[1::2]) and all(head[0::2]):
            return "utf-16-le"
        if not any(head[0::2]) and all(head[1::2]):
            return "utf-16-be"
    return None


def transcode_to_utf8(source: SourceFile, encoding: str, dest: Path) -> None:
    """Write the text of the UTF-16 ``source`` to ``dest`` as UTF-8 (without a byte-order
    mark; undecodable bytes become U+FFFD and end up in rejects)."""
    with (
        io.TextIOWrapper(open_binary(source), encoding=encoding, errors="replace") as text,
        open(dest, "w", encoding="utf-8", newline="") as out,
    ):
        first = True
        while chunk := text.read(1 << 20):
            if first:
                chunk = chunk.removeprefix(BOM)
                first = False
            out.write(chunk)


@dataclass(frozen=True)
class Salvage:
    """The readable part of a damaged compressed file: ``lines`` complete lines were written
    to the plain copy; ``tail`` is the incomplete line after them; ``error`` why it stopped."""

    lines: int
    tail: bytes
    error: str


def salvage(source: SourceFile, dest: Path) -> Salvage:
    """Decompress ``source`` into ``dest`` as far as its stream can be read, up to its last
    complete line (a truncated ``.gz``: a copy taken while the log was written).

    >>> salvage(SourceFile(Path("cut.log.gz"), "cut.log.gz", 10, Compression.GZIP),
    ...         Path("/tmp/x"))  # doctest: +SKIP
    Salvage(lines=865, tail=b'{"kind": "Ev', error='EOFError: Compressed file ended ...')
    """
    import zlib

    import zstandard

    pending = b""
    lines = 0
    error = "the stream ended early"
    with open(dest, "wb") as out:
        try:
            with open_binary(source) as stream:
                # read1: what the stream has, so that the bytes before the damage arrive
                while chunk := stream.read1(1 << 16):  # type: ignore[attr-defined]
                    pending += chunk
                    cut = pending.rfind(b"\n") + 1
                    if cut:
                        lines += pending.count(b"\n", 0, cut)
                        out.write(pending[:cut])
                        pending = pending[cut:]
        except (OSError, EOFError, zlib.error, zstandard.ZstdError) as exc:
            error = f"{type(exc).__name__}: {exc}"
    return Salvage(lines, pending, error)


def zstd_is_complete(source: SourceFile) -> bool:
    """Does the zstd ``source`` end with a complete frame? (zstd readers return what a
    truncated file holds without complaint: this decompresses it once more to tell.)"""
    import zstandard

    decompressor = zstandard.ZstdDecompressor()
    frame = decompressor.decompressobj()
    taken = False  # has the current frame taken any byte yet?
    with open(source.path, "rb") as fh:
        try:
            while chunk := fh.read(1 << 20):
                while chunk:
                    frame.decompress(chunk)
                    taken, chunk = True, b""
                    if frame.eof:  # the next frame starts in what is left over
                        chunk = frame.unused_data
                        frame, taken = decompressor.decompressobj(), False
        except zstandard.ZstdError:
            return False
    return not taken


def read_ahead(items: Iterator[_T], depth: int = 2) -> Iterator[_T]:
    """The items of ``items``, produced by a second thread while this one uses them: reading,
    decompressing and parsing release the GIL, so the two cores work at once. At most ``depth``
    items wait in memory; an exception of the producer is raised here, in order. When the
    consumer stops early the producer stops after its current item and ``items`` is closed.

    >>> list(read_ahead(iter(range(5))))
    [0, 1, 2, 3, 4]
    """
    done = object()
    ready: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            while not stop.is_set():
                item = next(items, done)
                if item is done:
                    break
                ready.put(item)
        except BaseException as exc:  # handed to the consumer, raised there
            ready.put(exc)
            return
        finally:
            close = getattr(items, "close", None)
            if stop.is_set() and close is not None:
                close()
        ready.put(done)

    thread = threading.Thread(target=produce, name="k8saudit-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item = ready.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield cast(_T, item)
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue
            try:
                ready.get_nowait()
            except queue.Empty:
                thread.join(0.01)
