"""The ingest plan's one read of each file: the hash of its stored bytes, and the lines of
its content, decompressed on the way when it is compressed (``plan.hash_and_count``)."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import pytest
import xxhash
import zstandard

from k8saudit.ingestion import plan
from k8saudit.ingestion.plan import hash_and_count
from k8saudit.io import SourceFile, compression_of

TEXT = b"".join(b'{"n": %d}\n' % i for i in range(5000)) + b'{"last": true}'  # no final newline


def _source(path: Path, stored: bytes) -> SourceFile:
    path.write_bytes(stored)
    return SourceFile(path, path.name, len(stored), compression_of(path))


@pytest.mark.parametrize(
    "compress",
    [
        lambda t: t,
        gzip.compress,
        lambda t: gzip.compress(t[:777]) + gzip.compress(t[777:]),  # two members
        lambda t: zstandard.ZstdCompressor().compress(t),
        lambda t: b"".join(
            zstandard.ZstdCompressor().compress(t[i : i + 999]) for i in range(0, len(t), 999)
        ),
    ],
    ids=["plain", "gzip", "gzip of two members", "zstd", "zstd of many frames"],
)
def test_the_hash_is_of_the_stored_bytes_and_the_lines_of_the_content(
    tmp_path: Path, compress: object
) -> None:
    stored = compress(TEXT)  # type: ignore[operator]
    source = _source(tmp_path / "log", stored)
    assert hash_and_count(source) == (xxhash.xxh3_128(stored).hexdigest(), 5001)


def test_a_damaged_stream_is_hashed_and_its_lines_are_not_counted(tmp_path: Path) -> None:
    stored = gzip.compress(TEXT)
    for damaged in (
        stored[: len(stored) // 2],  # truncated: EOFError
        stored[:100] + b"\0" * 50 + stored[150:],  # a wrong CRC: BadGzipFile
        stored[:10] + b"\x07" + stored[11:],  # a deflate block of no type: isal_zlib.error
    ):
        source = _source(tmp_path / "cut.gz", damaged)
        assert hash_and_count(source) == (xxhash.xxh3_128(damaged).hexdigest(), None)


def test_bytes_after_the_last_member_are_hashed_too(tmp_path: Path) -> None:
    stored = gzip.compress(TEXT) + b"\0" * 4096
    source = _source(tmp_path / "padded.gz", stored)
    assert hash_and_count(source)[0] == xxhash.xxh3_128(stored).hexdigest()


def test_a_file_that_may_be_ingested_already_is_only_hashed(tmp_path: Path) -> None:
    stored = gzip.compress(TEXT)
    source = _source(tmp_path / "log.gz", stored)
    assert hash_and_count(source, content=False) == (xxhash.xxh3_128(stored).hexdigest(), None)


#: 2.5 chunks of content (plan.HASH_CHUNK): lines end in every chunk, and across chunk ends
BIG = b"".join(b'{"line": %d, "pad": "%s"}\n' % (i, b"x" * (i % 97)) for i in range(40_000))


@pytest.mark.parametrize("numpy_from", [0, 1 << 20, 1 << 40], ids=["numpy", "both", "bytes"])
@pytest.mark.parametrize("end", [b"", b"{}", b"\n"], ids=["newline", "no newline", "blank"])
@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_lines_are_counted_alike_by_bytes_count_and_by_numpy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, numpy_from: int, end: bytes, gz: bool
) -> None:
    """A big file is counted by numpy (from the start, or from the chunk where the content
    counted reaches NUMPY_FROM: "both", for the gzip), a small one by bytes.count: the same
    lines either way."""
    content = BIG + end
    assert 2 * plan.HASH_CHUNK < len(content) < 3 * plan.HASH_CHUNK
    monkeypatch.setattr(plan, "NUMPY_FROM", numpy_from)
    switched: list[int] = []
    numpy_newlines = plan._numpy_newlines

    def spied(buffer: bytearray) -> Callable[[int], int]:
        switched.append(1)
        return numpy_newlines(buffer)

    monkeypatch.setattr(plan, "_numpy_newlines", spied)
    stored = gzip.compress(content) if gz else content
    source = _source(tmp_path / ("log.gz" if gz else "log"), stored)
    expected = content.count(b"\n") + (not content.endswith(b"\n"))
    assert expected == 40_000 + (end == b"{}") + (end == b"\n")
    assert hash_and_count(source) == (xxhash.xxh3_128(stored).hexdigest(), expected)
    assert switched == ([] if numpy_from > len(content) else [1])


def test_content_with_the_line_readers_delimiter_is_not_counted(tmp_path: Path) -> None:
    """sql/log_lines.sql cuts a line at a U+0001 byte: no count vouches for its lines."""
    content = TEXT + b"a forged [ua 10.0.0.1:5]\x01 real]\n" + TEXT
    for name, stored in (("log", content), ("log.gz", gzip.compress(content))):
        source = _source(tmp_path / name, stored)
        assert hash_and_count(source) == (xxhash.xxh3_128(stored).hexdigest(), None)
