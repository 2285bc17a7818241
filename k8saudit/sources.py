"""Finding input files, undoing their compression and telling their format from their content.

Inputs are files, directory trees or globs, plain or compressed (gzip, zstd: told by magic bytes,
not by name). The format of every file is detected from its first bytes (DESIGN.md §3); a file
nobody can read (binary, unknown text) is reported and skipped, never fatal.
"""

from __future__ import annotations

import glob
import gzip
import io
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO

from k8saudit.exceptions import InputError

SNIFF_BYTES = 64 * 1024
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
BOM = "\ufeff"


class Compression(StrEnum):
    NONE = "none"
    GZIP = "gzip"
    ZSTD = "zstd"


class Format(StrEnum):
    """File-level formats. Documents may still mix shapes inside (EventList, AKS records...)."""

    AUDIT_JSONL = "audit-jsonl"  # one audit Event per line: the fast path
    JSON_LINES = "json-lines"  # one JSON value per line, wrapped (EKS, AKS, GKE, docker logs)
    JSON_DOCUMENT = "json-document"  # one (pretty-printed) JSON document or array
    YAML = "yaml"  # audit Event / GKE LogEntry rendered as YAML
    ACCESS_LOG = "access-log"  # kube-apiserver klog output with httplog lines
    LEGACY_AUDIT = "legacy-audit"  # pre-1.8 / legacy text `AUDIT: id="..."`
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class SourceFile:
    """One input file as discovered: where it is and how to read it."""

    path: Path
    display: str  # the path as shown to users and stored in `source_file`
    size: int
    compression: Compression


def discover(
    paths: list[str | os.PathLike[str]], *, exclude: Path | None = None
) -> list[SourceFile]:
    """Expand files, directories (recursively) and globs into a sorted list of input files.

    ``exclude`` is a directory never descended into (the dataset itself).

    >>> discover(["sample_logs/"])  # doctest: +SKIP
    [SourceFile(path=PosixPath('sample_logs/apiserver-1/audit.log.gz'), ...)]
    """
    found: dict[Path, str] = {}
    for raw in paths:
        text = os.fspath(raw)
        if any(ch in text for ch in "*?[") and not Path(text).exists():
            matches = sorted(glob.glob(text, recursive=True))
            if not matches:
                raise InputError(f"{text}: no file matches this pattern")
            candidates = [Path(m) for m in matches]
        else:
            candidates = [Path(text)]
        for candidate in candidates:
            if exclude is not None and candidate.resolve().is_relative_to(exclude):
                continue  # the dataset itself (`ingest *` run next to it)
            if candidate.is_dir():
                for root, dirs, files in os.walk(candidate):
                    dirs[:] = sorted(
                        d
                        for d in dirs
                        if not d.startswith(".")
                        and (
                            exclude is None
                            or not (Path(root) / d).resolve().is_relative_to(exclude)
                        )
                    )
                    for name in sorted(files):
                        if not name.startswith("."):
                            child = Path(root) / name
                            found.setdefault(child.resolve(), str(child))
            elif candidate.is_file():
                found.setdefault(candidate.resolve(), str(candidate))
            elif not candidate.exists():
                raise InputError(f"{text}: no such file or directory")
    sources = []
    for resolved, display in sorted(found.items(), key=lambda item: item[1]):
        with open(resolved, "rb") as fh:
            magic = fh.read(4)
        compression = (
            Compression.GZIP
            if magic.startswith(GZIP_MAGIC)
            else Compression.ZSTD
            if magic == ZSTD_MAGIC
            else Compression.NONE
        )
        sources.append(SourceFile(resolved, display, resolved.stat().st_size, compression))
    return sources


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


_YAML_HINT = re.compile(
    r"^(kind: *Event|apiVersion: *audit\.k8s\.io|protoPayload:|insertId:|logName:)", re.M
)


def _looks_binary(sample: bytes) -> bool:
    if not sample:
        return False
    if b"\x00" in sample[:4096]:
        return True
    text_bytes = sum(1 for b in sample[:4096] if b >= 0x20 or b in (9, 10, 13))
    return text_bytes / min(len(sample), 4096) < 0.85


def is_audit_event(obj: object) -> bool:
    """True for a dict shaped like a kube-apiserver audit Event (any API version)."""
    if not isinstance(obj, dict):
        return False
    kind = obj.get("kind")
    if kind is not None and kind != "Event":
        return False
    api_version = obj.get("apiVersion")
    return (
        isinstance(obj.get("requestURI"), str)
        or (isinstance(obj.get("auditID"), str) and isinstance(obj.get("verb"), str))
        or (
            kind == "Event"
            and (
                isinstance(obj.get("verb"), str)
                or (isinstance(api_version, str) and api_version.startswith("audit.k8s.io/"))
            )
        )
    )


def sniff(source: SourceFile) -> Format:
    """Tell a file's format from its first 64 KiB of content."""
    with open_binary(source) as fh:
        sample = fh.read(SNIFF_BYTES)
    text = sample.decode("utf-8", errors="replace").removeprefix(BOM)
    stripped = text.lstrip()
    # A log with a binary line somewhere is still a log: only a file that does not even start
    # like one is judged by its bytes.
    if not stripped or (stripped[0] not in "{[" and _looks_binary(sample)):
        return Format.UNKNOWN
    if stripped[0] == "[":
        return Format.JSON_DOCUMENT
    if stripped[0] == "{":
        lines = text.splitlines()
        complete = lines if len(sample) < SNIFF_BYTES else lines[:-1]
        for line in complete:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                value = json.loads(line)
            except ValueError:
                continue
            return Format.AUDIT_JSONL if is_audit_event(value) else Format.JSON_LINES
        return Format.JSON_DOCUMENT
    if _YAML_HINT.search(text):
        return Format.YAML
    from k8saudit.formats import access_log

    if access_log.looks_like_legacy_audit(text):
        return Format.LEGACY_AUDIT
    if access_log.looks_like_access_log(text) or access_log.looks_like_klog(text):
        return Format.ACCESS_LOG
    return Format.UNKNOWN
