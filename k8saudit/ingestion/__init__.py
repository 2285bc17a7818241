"""``k8saudit.ingest``: logs in, one exact request table out.

One run, one way through this package: ``plan`` finds the inputs and skips files whose content
is already in the dataset; ``readers`` reads each new file with the reader for its format into
the run's ``staging`` area (clean audit logs ``in_place``, keys only); ``requests`` turns the
run's events into one row per request by the strategy they allow and writes them as day
``parts``; ``commit`` reconciles them with the requests already stored (a request's stages may
arrive in different runs) and swaps the manifest. Until that rename nothing the queries read has
changed.

(The package is ``ingestion`` because ``k8saudit.ingest`` is the function.)
"""

from __future__ import annotations

import contextlib
import errno
import os
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import zstandard

from k8saudit.exceptions import InputError, NoSpaceError, UsageError
from k8saudit.formats.detect import Format, sniff
from k8saudit.formats.redact import register_redact_body, reject_row
from k8saudit.ingestion.apiservers import file_apiserver
from k8saudit.ingestion.clock import YEAR_FROM_MTIME, KlogClock, modified_at, parse_zone
from k8saudit.ingestion.commit import commit_run, reconcile, run_area
from k8saudit.ingestion.plan import FileScan, discover
from k8saudit.ingestion.readers import READERS, FileResult
from k8saudit.ingestion.report import FileReport, IngestReport
from k8saudit.ingestion.requests import Strategy, choose_strategy, write_requests
from k8saudit.ingestion.staging import STAGE_ON_DISK_ABOVE_BYTES, Stager, connect
from k8saudit.io import (
    Compression,
    SourceFile,
    has_glob_characters,
    open_binary,
    salvage,
    transcode_to_utf8,
    utf16_encoding,
    zstd_is_complete,
)
from k8saudit.progress import IngestProgress, MergeSteps, Progress, QueryTicker
from k8saudit.sqlfiles import run_sql
from k8saudit.store import (
    FileEntry,
    Manifest,
    ObservedSpan,
    locked,
    redaction_key,
    resolve_dataset,
)

__all__ = ["FileReport", "IngestReport", "ingest"]

#: what reading a damaged compressed or unreadable file raises
DAMAGED_INPUT = (OSError, EOFError, zlib.error, zstandard.ZstdError, duckdb.IOException)


def ingest(
    paths: Sequence[str | os.PathLike[str]],
    dataset: str | os.PathLike[str] | None = None,
    *,
    year: int | None = None,
    tz: str | None = None,
    progress: Progress | None = None,
    apiserver: str | None = None,
    keep_bodies: bool = False,
    _strategy: Strategy | None = None,
    _in_place: bool = True,
) -> IngestReport:
    """Ingest audit logs into the dataset and return what happened.

    ``year`` and ``tz`` say how to read access-log (klog) timestamps that have no wrapper
    timestamp: klog writes neither (default: the file's modification year, UTC). ``apiserver``
    names the apiserver of requests that do not say (default: the one a file's path names,
    such as ``kube-apiserver-ip-10-0-33-10/audit.log``; see ``ingestion.apiservers``).
    ``keep_bodies`` keeps the audit events' ``requestObject``/``responseObject`` in the columns
    ``request_object``/``response_object``, their secret values redacted (``formats.redact``);
    it applies to the files this run reads (the manifest says per file whether bodies were
    kept): files already ingested are not read again.

    Files already ingested (same content) are skipped, so running the same command twice is a
    no-op. Unknown or unreadable files are reported, not fatal; bad lines are kept as rejects.
    (``_strategy`` and ``_in_place`` are for the differential tests: the general merge instead
    of the strategy the run allows, the line-by-line reader instead of reading clean audit logs
    in place; both must give the same requests.)

    >>> report = k8saudit.ingest(["logs/"], dataset="k8saudit-data")  # doctest: +SKIP
    >>> report.requests_added, report.rejected  # doctest: +SKIP
    (123456, 0)
    """
    started = time.monotonic()
    if not paths:
        raise InputError("no input paths given")
    if year is not None and not 1 <= year <= 9999:
        raise UsageError(f"--year {year}: not a year (1..9999)")
    clock = KlogClock(year, parse_zone(tz))
    root = resolve_dataset(dataset)
    if root.exists() and not root.is_dir():
        raise UsageError(f"{root}: the dataset must be a directory, and this is a file")
    try:
        return _ingest(
            paths, root, clock, progress, apiserver, keep_bodies, _strategy, _in_place, started
        )
    except (OSError, duckdb.Error) as exc:
        if isinstance(exc, OSError) and exc.errno != errno.ENOSPC:
            raise
        if isinstance(exc, duckdb.Error) and "No space left on device" not in str(exc):
            raise
        needed = max(1, _input_bytes(paths) >> 20)
        raise NoSpaceError(
            f"no space left on {_where(exc, root)} (needed about {needed:,} MB: about the size "
            "of the logs; the dataset is as it was)"
        ) from exc


def _input_bytes(paths: Sequence[str | os.PathLike[str]]) -> int:
    total = 0
    for path in paths:
        with contextlib.suppress(OSError):
            total += sum(
                p.stat().st_size for p in [Path(path), *Path(path).rglob("*")] if p.is_file()
            )
    return total


def _where(exc: BaseException, root: Path) -> str:
    """The file system that filled up: the file being written when it says, else the dataset."""
    name = getattr(exc, "filename", None)
    return str(name) if name else str(root)


def _ingest(
    paths: Sequence[str | os.PathLike[str]],
    root: Path,
    clock: KlogClock,
    progress: Progress | None,
    apiserver: str | None,
    keep_bodies: bool,
    _strategy: Strategy | None,
    _in_place: bool,
    started: float,
) -> IngestReport:
    discovery = discover(list(paths), exclude=root.resolve())
    sources = discovery.sources
    report = IngestReport(dataset=root)
    for display, why in discovery.unreadable:
        report.files.append(FileReport(display, "", "unreadable", 0, message=why))
    total_bytes = sum(s.size for s in sources)
    access_logs = {s for s in sources if _is_klog(s)}
    with locked(root), run_area(root) as (manifest, run_id, work):
        report.requests_before = manifest.requests
        key = redaction_key(root, create=True)
        assert key is not None
        con = connect(work, on_disk=_access_text_bytes(access_logs) > STAGE_ON_DISK_ABOVE_BYTES)
        bodies_key = None
        if keep_bodies:
            register_redact_body(con, key)
            bodies_key = key
        stager = Stager(
            con, work, clock, _stored_audit_end(con, root, manifest), bodies_key=bodies_key
        )
        stager.in_place.enabled = _in_place
        seen = manifest.hashes
        # with --keep-bodies, the files already ingested without it are said to be so
        bare = {f.hash for f in manifest.files if not f.bodies} if keep_bodies else set()
        sizes = {f.size for f in manifest.files}
        rejects: list[dict[str, Any]] = []
        new_files: list[FileEntry] = []
        done_bytes = 0
        # access logs last: their klog lines take their year from the audit events
        sources.sort(key=lambda s: s in access_logs)
        for index, source in enumerate(sources):
            at = IngestProgress("reading", index, len(sources), done_bytes, total_bytes)
            with QueryTicker(con, progress, _reading(at, source.size)):
                file_report, result, file_hash = _ingest_one(
                    stager, source, seen, sizes, apiserver, bare
                )
            report.files.append(file_report)
            done_bytes += source.size
            if result is None:
                continue
            seen.add(file_hash)
            sizes.add(source.size)
            rejects += [reject_row(source.display, r.line, r.reason, r.text, key)
                        for r in result.rejects]  # fmt: skip
            new_files.append(_file_entry(source, file_hash, result, run_id, keep_bodies))
            report.bytes_read += source.size
        steps = MergeSteps(
            con, progress,
            IngestProgress("merging", len(sources), len(sources), done_bytes, total_bytes),
        )  # fmt: skip
        report.events = sum(f.events for f in report.files)
        report.skipped = sum(f.skipped for f in report.files)
        report.rejected = len(rejects)
        report.suspicious = sum(f.suspicious for f in report.files)
        if new_files:
            chosen = choose_strategy(stager)  # and the key summary run_conflicts reads
            ((report.conflicts,),) = run_sql(con, "run_conflicts")
            strategy = chosen if _strategy is None else _strategy
            new_parts = write_requests(strategy, stager, steps, work, run_id)
            new_parts, replaced = reconcile(con, steps, manifest, root, work, run_id, new_parts)
            report.rejects_file = commit_run(
                root, manifest, run_id, new_parts, replaced, rejects, new_files
            )
        elif not (root / "manifest.json").exists():
            # nothing readable: still a dataset (empty), so that the next command can say
            # so, and why, instead of "no dataset here"
            commit_run(root, manifest, run_id, [], [], [], [])
        if manifest.parts:
            ((report.first, report.last),) = run_sql(
                con, "parts_span", files=_part_files(root, manifest)
            )
        con.close()
        report.requests_after = manifest.requests
    report.seconds = time.monotonic() - started
    return report


def _file_entry(
    source: SourceFile, file_hash: str, result: FileResult, run_id: str, bodies: bool
) -> FileEntry:
    return FileEntry(
        path=source.display,
        size=source.size,
        hash=file_hash,
        format=result.format,
        records=result.records,
        events=result.events,
        skipped=result.skipped,
        skip_reasons=dict(result.skip_reasons),
        rejected=len(result.rejects),
        time_source=result.time_source,
        run=run_id,
        observed=tuple(
            ObservedSpan(server, first.isoformat(), last.isoformat())
            for server, first, last in result.observed
        ),
        apiserver=result.apiserver.apiserver if result.apiserver else None,
        apiserver_from=result.apiserver.origin if result.apiserver else None,
        bodies=bodies,
    )


def _reading(at: IngestProgress, size: int) -> Callable[[float], IngestProgress]:
    """Progress through a file of ``size`` bytes that starts at ``at``, given the percent read."""
    return lambda percent: replace(at, bytes_done=at.bytes_done + int(size * percent / 100))


def _access_text_bytes(access_logs: set[SourceFile]) -> int:
    """The text the access logs ``access_logs`` hold, estimated: compressed ones ~8x their size
    (gzip on kube-apiserver logs)."""
    return sum(s.size * (1 if s.compression is Compression.NONE else 8) for s in access_logs)


def _is_klog(source: SourceFile) -> bool:
    try:
        return sniff(source) is Format.ACCESS_LOG
    except DAMAGED_INPUT:
        return False  # reported when its turn comes


def _part_files(root: Path, manifest: Manifest) -> list[str]:
    return [str(root / p.path) for p in manifest.parts]


def _stored_audit_end(
    con: duckdb.DuckDBPyConnection, root: Path, manifest: Manifest
) -> datetime | None:
    if not manifest.parts:
        return None
    ((end,),) = run_sql(con, "parts_audit_end", files=_part_files(root, manifest))
    end_at: datetime | None = end
    return end_at


def _guessed_year(source: SourceFile, result: FileResult) -> tuple[str, str]:
    """The note that a klog year was guessed, and a warning when the guess looks wrong: a year
    from the file's modification time that puts requests in the future, or more than a year
    from that time."""
    assert result.klog_year is not None
    year, origin = result.klog_year.year, result.klog_year.origin
    note = f"klog lines carry no year: {year} assumed from {origin} (set it with --year)"
    if origin != YEAR_FROM_MTIME or not result.observed:
        return note, ""
    last = max(span[2] for span in result.observed)
    modified = modified_at(source)
    if last > datetime.now(UTC) + timedelta(minutes=5):
        return note, f"the assumed year {year} puts requests in the future; pass --year"
    if abs(modified - last) > timedelta(days=365):
        return note, (
            f"the assumed year {year} puts requests more than a year from the file's "
            f"modification time ({modified:%Y-%m-%d}); pass --year"
        )
    return note, ""


def _no_count() -> int | None:
    return None  # a copy made for reading: the lines of the original are not its lines


def _readable(stager: Stager, source: SourceFile) -> tuple[SourceFile, bool]:
    """``source`` as the readers can take it, and whether that is a copy of other bytes: a
    UTF-16 file through a UTF-8 copy, a file whose name holds glob characters (``[ab].log``)
    through an alias that holds none (DuckDB expands them: the file found is the file read)."""
    with open_binary(source) as fh:
        encoding = utf16_encoding(fh.read(64))
    if encoding is not None:
        copy = stager.temp_path("utf8")
        transcode_to_utf8(source, encoding, copy)
        copied = replace(source, path=copy, size=copy.stat().st_size, compression=Compression.NONE)
        return copied, True
    if has_glob_characters(source.path):
        alias = stager.temp_path("alias")
        alias.symlink_to(source.path)
        return replace(source, path=alias), False
    return source, False


def _read_salvaged(
    stager: Stager, source: SourceFile, fmt: Format, damage: BaseException
) -> FileResult:
    """Read the readable part of the damaged compressed ``source`` and reject the rest."""
    copy = stager.temp_path("salvaged")
    salvaged = salvage(source, copy)
    if not salvaged.lines:
        raise damage
    plain = replace(source, path=copy, size=copy.stat().st_size, compression=Compression.NONE)
    result = READERS[fmt](stager, plain, _no_count)
    result.records += 1
    result.reject(
        salvaged.lines + 1,
        f"truncated or damaged {source.compression.value} stream: the rest of the file could "
        f"not be read ({salvaged.error})",
        salvaged.tail.decode("utf-8", errors="replace"),
    )
    return result


def _note_zstd_truncation(source: SourceFile, result: FileResult) -> bool:
    """A truncated zstd file reads without an error, its cut last line a bad record: say why.
    True when it was truncated."""
    if zstd_is_complete(source):
        return False
    last = max(result.rejects, key=lambda r: r.line)
    result.rejects.remove(last)
    result.reject(
        last.line,
        "truncated zstd stream: the rest of the file could not be read (the last frame is "
        "incomplete)",
        last.text,
    )
    return True


def _ingest_one(
    stager: Stager,
    source: SourceFile,
    seen: set[str],
    sizes: set[int],
    apiserver: str | None,
    bare: set[str],
) -> tuple[FileReport, FileResult | None, str]:
    """Read one file unless its content is already in ``seen`` (hashes of files of ``sizes``;
    ``bare``: those ingested without bodies, when this run keeps them); its requests that name
    no apiserver went to ``apiserver`` or the one its path names.

    A file of a size no ingested file has cannot be one of them: it is read while it is hashed
    (and its content's lines counted, compressed or not). One that may be is hashed first.
    """
    scan = FileScan(source, content=source.size not in sizes)
    mark = stager.mark()
    try:
        if source.size in sizes:
            file_hash, _ = scan.result()
            if file_hash in seen:
                report = FileReport(source.display, "", "duplicate", source.size)
                report.message = "already ingested (same content)"
                if file_hash in bare:
                    report.warning = (
                        "ingested before without --keep-bodies: its requests keep no bodies "
                        "(ingest it into a new dataset to keep them)"
                    )
                return report, None, file_hash
        fmt = sniff(source)
        if fmt is Format.UNKNOWN:
            report = FileReport(source.display, fmt.value, "unreadable", source.size)
            report.message = "not a log format k8saudit knows (binary or unrecognised text)"
            return report, None, ""
        written = modified_at(source)
        reading, copied = _readable(stager, source)
        try:
            result = READERS[fmt](stager, reading, _no_count if copied else scan.lines)
        except DAMAGED_INPUT as exc:
            if source.compression is Compression.NONE:
                raise
            # A truncated .gz (a copy taken while it was written): keep what can be read,
            # reject the rest with the reason.
            stager.discard_after(mark)
            result = _read_salvaged(stager, reading, fmt, exc)
            damage = "truncated or damaged"
        else:
            truncated = reading.compression is Compression.ZSTD and result.rejects
            damage = "truncated" if truncated and _note_zstd_truncation(reading, result) else ""
        result.apiserver = file_apiserver(source.display, apiserver)
        if result.apiserver is not None:
            stager.attribute(mark, result.apiserver.apiserver)
        result.observed = stager.observed_since(mark, written)
        suspicious, suspicious_line = stager.suspicious_since(mark, written)
        file_hash, _ = scan.result()
    except DAMAGED_INPUT as exc:
        # A corrupt file, or one that went away (rotated out): ingest nothing from it, so that
        # the whole file can be ingested once it is complete.
        scan.wait()
        stager.discard_after(mark)
        report = FileReport(source.display, "", "unreadable", source.size)
        report.message = f"damaged, truncated or gone ({type(exc).__name__}: {exc})"
        return report, None, ""
    if fmt is Format.JSON_DOCUMENT and not result.events and not result.skipped:
        # A JSON file with nothing audit-like in it (a config, ground_truth.json next to the
        # logs) is not a log file with bad records: skip it, ingest nothing, keep no rejects.
        stager.discard_after(mark)
        report = FileReport(source.display, fmt.value, "not a log", source.size)
        report.message = "not a log (JSON without audit events or a known log envelope)"
        return report, None, file_hash
    report = FileReport(
        source.display,
        result.format,
        "ingested",
        source.size,
        records=result.records,
        events=result.events,
        skipped=result.skipped,
        rejected=len(result.rejects),
        suspicious=suspicious,
        in_place=result.in_place,
    )
    if result.klog_year is not None and result.klog_year.guessed:
        report.message, report.warning = _guessed_year(source, result)
    if suspicious:
        at = f", the first at line {suspicious_line}" if suspicious_line is not None else ""
        report.warning = (
            f"{suspicious} events dated before 2014 or more than a day after the file was "
            f"written{at}: kept, but counted as suspicious times"
        )
    if damage:
        cut = max(r.line for r in result.rejects)
        report.warning = (
            f"{damage} {source.compression.value} file: read up to line {cut}, the rest "
            "rejected (`k8saudit rejects`)"
        )
    if fmt is Format.ACCESS_LOG and not result.events:
        # httplog writes a line per request only at -v=3 or higher (-v=2 before 1.18)
        report.message = "kube-apiserver log without access lines (needs -v=3, or -v=2 before 1.18)"
    return report, result, file_hash
