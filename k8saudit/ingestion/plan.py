"""Planning an ingest run: which files there are, and which of them are new.

Inputs are files, directory trees or globs; every file found is described once (``SourceFile``:
path, size, compression) and hashed by content, so the same file given twice, or ingested by an
earlier run, is read only once.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import gzip
import io
import os
import stat
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Protocol, cast

import xxhash
import zstandard
from isal import isal_zlib

from k8saudit.exceptions import InputError
from k8saudit.io import Compression, SourceFile, compression_of, decompressed

#: bytes read at a time: 1 MB stays in the CPU's cache from the hash to the count (16 MB did
#: not: 0.27 s of CPU against 0.15 for a 735 MB log, bench/RESULTS.md)
HASH_CHUNK = 1 << 20
#: a file counted by numpy from this size (or once this much content is counted): numpy's
#: import (0.1 s of CPU, once per process) costs what bytes.count spends on ~240 MB, so a file
#: of 128 MB loses at most 0.05 s, and a log of GBs gains ~0.35 s per GB
NUMPY_FROM = 128 << 20
NEWLINE = ord("\n")
DELIMITER = 1  #: sql/log_lines.sql's column delimiter: no line holding it is read whole
#: ISA-L's error of a damaged deflate stream (a class: isal's stubs declare an instance)
ISAL_ERROR = cast("type[Exception]", isal_zlib.error)
#: what decompressing a damaged (truncated, corrupt) stream raises (``io.decompressed``: gzip
#: through ISA-L); an error reading the file itself is not one of them (the file is unreadable:
#: raised as before)
DAMAGED_STREAM = (gzip.BadGzipFile, EOFError, zlib.error, ISAL_ERROR, zstandard.ZstdError)


@dataclass
class Discovery:
    """What ``discover`` found: the input files, and the paths it could not or would not open
    (``unreadable``: display path and why), reported as warnings, never fatal."""

    sources: list[SourceFile] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)


def discover(paths: list[str | os.PathLike[str]], *, exclude: Path | None = None) -> Discovery:
    """Expand files, directories (recursively) and globs into a sorted list of input files.

    ``exclude`` is a directory never descended into (the dataset itself). Only regular files
    are kept: a FIFO, socket or device is never opened (reading a FIFO blocks forever), a
    symlink loop or a path the user may not read is reported as unreadable. A path given as an
    argument that exists is taken as it is, even when its name looks like a pattern
    (``[ab].log``), and the paths found are never expanded again.

    >>> discover(["sample_logs/"]).sources  # doctest: +SKIP
    [SourceFile(path=PosixPath('sample_logs/apiserver-1/audit.log.gz'), ...)]
    """
    found: dict[Path, str] = {}
    discovery = Discovery()
    skipped: dict[str, str] = {}
    for raw in paths:
        text = os.fspath(raw)
        if any(ch in text for ch in "*?[") and not os.path.lexists(text):
            matches = sorted(glob.glob(text, recursive=True))
            if not matches:
                raise InputError(f"{text}: no file matches this pattern")
            candidates = [Path(m) for m in matches]
        else:
            candidates = [Path(text)]
        for candidate in candidates:
            if not os.path.lexists(candidate):
                raise InputError(f"{text}: no such file or directory")
            _walk(candidate, exclude, found, skipped)
    for resolved, display in sorted(found.items(), key=lambda item: item[1]):
        try:
            size = resolved.stat().st_size
            compression = compression_of(resolved)
        except OSError as exc:  # unreadable (permissions), or gone since it was found
            skipped[display] = _why(exc)
            continue
        discovery.sources.append(SourceFile(resolved, display, size, compression))
    discovery.unreadable = sorted(skipped.items())
    return discovery


def _walk(
    candidate: Path, exclude: Path | None, found: dict[Path, str], skipped: dict[str, str]
) -> None:
    """Add the regular files at or under ``candidate`` to ``found`` (resolved -> display) and
    the paths that cannot be read to ``skipped`` (display -> why)."""

    def add(path: Path) -> None:
        try:
            resolved = path.resolve(strict=True)
            mode = resolved.stat().st_mode
        except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop (Python 3.11)
            skipped[str(path)] = _why(exc)
            return
        if exclude is not None and resolved.is_relative_to(exclude):
            return  # the dataset itself (`ingest *` run next to it)
        if stat.S_ISDIR(mode):
            walk(path)
        elif stat.S_ISREG(mode):
            found.setdefault(resolved, str(path))
        else:
            skipped[str(path)] = f"{_special_kind(mode)}, not a regular file (never opened)"

    def walk(top: Path) -> None:
        def unreadable(exc: OSError) -> None:
            skipped[exc.filename or str(top)] = _why(exc)

        for root, dirs, files in os.walk(top, onerror=unreadable):
            # symlinked directories are not followed (os.walk's default): no loop through them
            dirs[:] = sorted(
                d for d in dirs
                if not d.startswith(".")
                and (exclude is None or not (Path(root) / d).resolve().is_relative_to(exclude))
            )  # fmt: skip
            for name in sorted(files):
                if not name.startswith("."):
                    add(Path(root) / name)

    add(candidate)


def _special_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device file"
    return "a special file"


def _why(exc: BaseException) -> str:
    if isinstance(exc, RuntimeError) or (isinstance(exc, OSError) and exc.errno == errno.ELOOP):
        return "a symlink loop"
    if isinstance(exc, PermissionError):
        return "unreadable (permission denied)"
    if isinstance(exc, FileNotFoundError):
        return "gone since it was found, or a broken symlink"
    reason = exc.strerror if isinstance(exc, OSError) else None
    return f"unreadable ({reason or type(exc).__name__})"


def hash_and_count(source: SourceFile, *, content: bool = True) -> tuple[str, int | None]:
    """Content hash of the file as stored and the number of lines of its content, in one read.

    A compressed file is decompressed as it is hashed (on this thread, beside the engine's
    read) unless ``content`` is false, or its stream is damaged: its line count is None then.
    It is None too for content holding a U+0001 byte: ``sql/log_lines.sql`` would cut its line
    there (its delimiter), so no count vouches for the lines the engine reads.
    """
    digest = xxhash.xxh3_128()
    with open(source.path, "rb", buffering=0) as fh:
        stored = _Hashing(fh, digest)
        lines: int | None = None
        if source.compression is Compression.NONE:
            lines = _count_lines(stored, source.size)
        elif content:
            with contextlib.suppress(*DAMAGED_STREAM):
                content_of = decompressed(io.BufferedReader(stored, 1 << 20), source.compression)
                lines = _count_lines(cast(_Readable, content_of), source.size)
        # what the decompressor left (or never read) is part of the stored bytes too
        buffer = memoryview(bytearray(HASH_CHUNK))
        while stored.readinto(buffer):
            pass
    return digest.hexdigest(), lines


class _Readable(Protocol):
    def readinto(self, buffer: Any, /) -> int | None: ...


class _Hashing(io.RawIOBase):
    """The stored bytes of a file, hashed as they are read."""

    def __init__(self, raw: io.FileIO, digest: xxhash.xxh3_128) -> None:
        self.raw = raw
        self.digest = digest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        size = self.raw.readinto(buffer) or 0
        self.digest.update(memoryview(buffer)[:size])
        return size


def _count_lines(stream: _Readable, stored: int) -> int | None:
    """The lines of ``stream`` (its newlines, and a last line without one) of a file of
    ``stored`` bytes, None once a U+0001 byte is found (``hash_and_count``; memchr's search,
    ~0.01 ms per MB): a byte at a time by ``bytes.count`` (~0.4 ms of CPU per MB), or by
    numpy's vector compare (~0.07 ms per MB) in a file big enough to repay numpy's import: one
    of NUMPY_FROM stored bytes, or from the chunk where that much content has been counted."""
    newlines = 0
    last = NEWLINE
    counted = 0
    # one buffer, read into again and again: fresh objects cost page faults
    buffer = bytearray(HASH_CHUNK)
    count: Callable[[int], int] = partial(buffer.count, b"\n", 0)
    fast = False
    while size := stream.readinto(buffer):
        if buffer.find(DELIMITER, 0, size) >= 0:
            return None  # (the caller reads what is left of the file to hash it)
        if not fast and max(stored, counted) >= NUMPY_FROM:
            count, fast = _numpy_newlines(buffer), True
        newlines += count(size)
        counted += size
        last = buffer[size - 1]
    return newlines + (last != NEWLINE)


def _numpy_newlines(buffer: bytearray) -> Callable[[int], int]:
    """The newlines among the first n bytes of ``buffer``, counted by numpy into one mask."""
    import numpy as np

    data = np.frombuffer(buffer, np.uint8)
    mask = np.empty(len(buffer), np.bool_)

    def count(size: int) -> int:
        np.equal(data[:size], NEWLINE, out=mask[:size])
        return int(np.count_nonzero(mask[:size]))

    return count


class FileScan:
    """``hash_and_count`` of one file on a thread of its own, while DuckDB reads the file
    (``content``: count the lines of a compressed one too)."""

    def __init__(self, source: SourceFile, *, content: bool = True) -> None:
        self._result: tuple[str, int | None] | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(source, content), name="k8saudit-hash", daemon=True
        )
        self._thread.start()

    def _run(self, source: SourceFile, content: bool) -> None:
        try:
            self._result = hash_and_count(source, content=content)
        except BaseException as exc:  # re-raised in the caller's thread by result()
            self._error = exc

    def result(self) -> tuple[str, int | None]:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result

    def lines(self) -> int | None:
        return self.result()[1]

    def wait(self) -> None:
        """Wait for the thread, whatever it found: the file is given up."""
        self._thread.join()
