"""``k8saudit.ingest``: logs in, one exact request table out.

One run: discover the inputs, skip files whose content is already in the dataset, read each new
file with the reader for its format into staged rows (``readers``), merge all staged rows into one
row per request, reconcile them with requests already stored (a request's stages may arrive in
different runs), and commit atomically: new Parquet parts and rejects are moved into place, then
the manifest is replaced. Until that rename nothing the queries read has changed.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
import numpy as np
import xxhash
import zstandard

from k8saudit import readers
from k8saudit.dataset import Dataset
from k8saudit.exceptions import InputError, UsageError, first_line
from k8saudit.formats.detect import Format, sniff
from k8saudit.ingestion.plan import discover
from k8saudit.io import Compression, SourceFile
from k8saudit.merge import (
    DAY_FILTER,
    FIXED_JOINS,
    NEAR_DAY,
    OPEN_FROM,
    SIMPLE_REQUESTS,
    access_merge_sql,
    general_requests_sql,
    merge_sql,
    run_shape_sql,
    simple_requests_sql,
)
from k8saudit.progress import IngestProgress, MergeSteps, Progress, QueryTicker
from k8saudit.schema import REQUEST_COLUMNS
from k8saudit.store import (
    FileEntry,
    Manifest,
    PartEntry,
    RunEntry,
    locked,
    read_manifest,
    remove_debris,
    resolve_dataset,
    write_manifest,
)

HASH_CHUNK = 16 << 20
#: what reading a damaged compressed or unreadable file raises
DAMAGED_INPUT = (OSError, EOFError, zlib.error, zstandard.ZstdError, duckdb.IOException)
MEMORY_ENV = "K8SAUDIT_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "1400MB"
#: zstd level 1 writes ~15% faster than the default level 3, and no larger on request rows
PARQUET_OPTIONS = "FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1"
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"  # Hive's name for the partition of null values
NEWLINE = ord("\n")


class WrittenPart(NamedTuple):
    """A Parquet part written in the run's work area, and its entry once moved into place."""

    entry: PartEntry
    file: Path


@dataclass
class FileReport:
    """The outcome for one input file."""

    path: str
    format: str
    status: str  # ingested | duplicate | unreadable
    size: int
    records: int = 0
    events: int = 0
    skipped: int = 0
    rejected: int = 0
    message: str = ""


@dataclass
class IngestReport:
    """What ``ingest`` did; the CLI prints it as the closing summary."""

    dataset: Path
    files: list[FileReport] = field(default_factory=list)
    requests_before: int = 0
    requests_after: int = 0
    events: int = 0
    skipped: int = 0
    rejected: int = 0
    bytes_read: int = 0
    seconds: float = 0.0
    first: datetime | None = None
    last: datetime | None = None
    rejects_file: Path | None = None

    @property
    def requests_added(self) -> int:
        return self.requests_after - self.requests_before

    @property
    def formats(self) -> Counter[str]:
        return Counter(f.format for f in self.files if f.status == "ingested")


def _hash_and_count(source: SourceFile) -> tuple[str, int | None]:
    """Content hash of the file as stored and, when it is uncompressed, its number of lines."""
    digest = xxhash.xxh3_128()
    newlines = 0
    last = NEWLINE
    count = source.compression is Compression.NONE
    # one buffer, read into again and again: fresh 16 MB objects cost page faults
    buffer = memoryview(bytearray(HASH_CHUNK))
    with open(source.path, "rb", buffering=0) as fh:
        while size := fh.readinto(buffer):
            chunk = buffer[:size]
            digest.update(chunk)
            if count:  # numpy counts ~4x faster than bytes.count
                newlines += int(np.count_nonzero(np.frombuffer(chunk, np.uint8) == NEWLINE))
                last = chunk[-1]
    lines = newlines + (last != NEWLINE) if count else None
    return digest.hexdigest(), lines


def _read_file(
    stager: readers.Stager, source: SourceFile, lines: Callable[[], int | None], fmt: Format
) -> readers.FileResult:
    if fmt is Format.AUDIT_JSONL:
        return readers.read_audit_lines(stager, source, lines)
    if fmt is Format.JSON_LINES:
        return readers.read_json_lines(stager, source)
    if fmt is Format.JSON_DOCUMENT:
        return readers.read_json_document(stager, source)
    if fmt is Format.YAML:
        return readers.read_yaml(stager, source)
    if fmt in (Format.ACCESS_LOG, Format.LEGACY_AUDIT):
        return readers.read_access_or_legacy(stager, source, fmt)
    raise AssertionError(fmt)


def _connect(work: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'").fetchall()
    # Track query progress (progress.QueryTicker polls it) but never print DuckDB's own bar:
    # it writes to stdout, which must stay parseable.
    con.execute("SET enable_progress_bar = true").fetchall()
    con.execute("SET enable_progress_bar_print = false").fetchall()
    # Line numbers come from WITH ORDINALITY, computed at the scan: output order is free.
    con.execute("SET preserve_insertion_order = false").fetchall()
    # Beyond this DuckDB spills to the work area. Measured peak RSS: 1.4 GB on a 4.5 GB audit
    # log, 1.6 GB on 2.2 GB that needed the general merge. More memory makes big runs faster.
    limit = os.environ.get(MEMORY_ENV, DEFAULT_MEMORY_LIMIT)
    try:
        con.execute("SET memory_limit = $m", {"m": limit}).fetchall()
    except duckdb.Error:
        raise UsageError(
            f"{MEMORY_ENV}={limit!r} is not a memory size (e.g. 1400MB, 4GB)"
        ) from None
    con.execute("SET temp_directory = $t", {"t": str(work / "spill")}).fetchall()
    # Staged events live in a compressed in-memory database: after a CHECKPOINT (the Stager
    # takes one when they grow large) they take ~15x less memory than plain tables, so big runs
    # stop spilling to disk.
    con.execute("ATTACH ':memory:' AS stage (COMPRESS)").fetchall()
    con.execute("USE stage").fetchall()
    return con


def ingest(
    paths: Sequence[str | os.PathLike[str]],
    dataset: str | os.PathLike[str] | None = None,
    *,
    year: int | None = None,
    tz: str | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    """Ingest audit logs into the dataset and return what happened.

    ``year`` and ``tz`` say how to read access-log (klog) timestamps that have no wrapper
    timestamp: klog writes neither (default: the file's modification year, UTC).

    Files already ingested (same content) are skipped, so running the same command twice is a
    no-op. Unknown or unreadable files are reported, not fatal; bad lines are kept as rejects.

    >>> report = k8saudit.ingest(["logs/"], dataset="k8saudit-data")  # doctest: +SKIP
    >>> report.requests_added, report.rejected  # doctest: +SKIP
    (123456, 0)
    """
    started = time.monotonic()
    if not paths:
        raise InputError("no input paths given")
    clock = readers.KlogClock(year, _zone(tz))
    root = resolve_dataset(dataset)
    sources = discover(list(paths), exclude=root.resolve())
    report = IngestReport(dataset=root)
    total_bytes = sum(s.size for s in sources)
    with locked(root):
        manifest = read_manifest(root)
        remove_debris(root, manifest)
        report.requests_before = manifest.requests
        run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)
        work = root / ".tmp" / run_id
        work.mkdir(parents=True)
        try:
            con = _connect(work)
            stager = readers.Stager(con, work, clock, _stored_audit_end(root, manifest))
            seen = manifest.hashes
            sizes = {f.size for f in manifest.files}
            rejects: list[dict[str, Any]] = []
            new_files: list[FileEntry] = []
            done_bytes = 0
            # access logs last: their klog lines take their year from the audit events
            sources.sort(key=lambda s: _is_klog(s))
            for index, source in enumerate(sources):
                at = IngestProgress("reading", index, len(sources), done_bytes, total_bytes)
                with QueryTicker(con, progress, _reading(at, source.size)):
                    file_report, result, file_hash = _ingest_one(stager, source, seen, sizes)
                report.files.append(file_report)
                done_bytes += source.size
                if result is None:
                    continue
                seen.add(file_hash)
                sizes.add(source.size)
                rejects += [
                    {"file": source.display, "line": r.line, "reason": r.reason, "text": r.text}
                    for r in result.rejects
                ]
                new_files.append(
                    FileEntry(
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
                    )
                )
                report.bytes_read += source.size
            merging = MergeSteps(
                con, progress,
                IngestProgress("merging", len(sources), len(sources), done_bytes, total_bytes),
            )  # fmt: skip
            report.events = sum(f.events for f in report.files)
            report.skipped = sum(f.skipped for f in report.files)
            report.rejected = len(rejects)
            if new_files:
                _commit(stager, merging, root, work, run_id, manifest, rejects, new_files)
                report.rejects_file = root / "rejects" / f"{run_id}.jsonl" if rejects else None
            con.close()
        finally:
            shutil.rmtree(work, ignore_errors=True)
            _remove_if_empty(root / ".tmp")
        report.requests_after = manifest.requests
        if manifest.parts:
            with Dataset(root, manifest) as ds:  # its DuckDB connection: polars is not needed
                ((report.first, report.last),) = ds.duckdb.execute(
                    "SELECT min(received_at), max(received_at) FROM requests"
                ).fetchall()
    report.seconds = time.monotonic() - started
    return report


def _reading(at: IngestProgress, size: int) -> Callable[[float], IngestProgress]:
    """Progress through a file of ``size`` bytes that starts at ``at``, given the percent read."""
    return lambda percent: replace(at, bytes_done=at.bytes_done + int(size * percent / 100))


def _is_klog(source: SourceFile) -> bool:
    try:
        return sniff(source) is Format.ACCESS_LOG
    except DAMAGED_INPUT:
        return False  # reported when its turn comes


def _stored_audit_end(root: Path, manifest: Manifest) -> datetime | None:
    if not manifest.parts:
        return None
    with Dataset(root, manifest) as ds:
        ((end,),) = ds.duckdb.execute(
            "SELECT max(received_at) FROM requests WHERE has_audit"
        ).fetchall()
        return end


def _zone(name: str | None) -> tzinfo:
    if name is None:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"--tz {name!r}: not a time zone name (e.g. UTC, Europe/Berlin)") from None


def _remove_if_empty(path: Path) -> None:
    if path.exists() and not any(path.iterdir()):
        path.rmdir()


class _Scan:
    """``_hash_and_count`` of one file on a thread of its own, while DuckDB reads the file."""

    def __init__(self, source: SourceFile) -> None:
        self._result: tuple[str, int | None] | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(source,), daemon=True)
        self._thread.start()

    def _run(self, source: SourceFile) -> None:
        try:
            self._result = _hash_and_count(source)
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


def _ingest_one(
    stager: readers.Stager, source: SourceFile, seen: set[str], sizes: set[int]
) -> tuple[FileReport, readers.FileResult | None, str]:
    """Read one file unless its content is already in ``seen`` (hashes of files of ``sizes``).

    A file of a size no ingested file has cannot be one of them: it is read while it is hashed.
    """
    scan = _Scan(source)
    mark = stager.mark()
    try:
        if source.size in sizes:
            file_hash, _ = scan.result()
            if file_hash in seen:
                report = FileReport(source.display, "", "duplicate", source.size)
                report.message = "already ingested (same content)"
                return report, None, file_hash
        fmt = sniff(source)
        if fmt is Format.UNKNOWN:
            report = FileReport(source.display, fmt.value, "unreadable", source.size)
            report.message = "not a log format k8saudit knows (binary or unrecognised text)"
            return report, None, ""
        result = _read_file(stager, source, scan.lines, fmt)
        file_hash, _ = scan.result()
    except DAMAGED_INPUT as exc:
        # A truncated .gz (a copy taken while it was written), a corrupt file, or one that
        # went away (rotated out): ingest nothing from it, so that the whole file can be
        # ingested once it is complete.
        scan.wait()
        stager.discard_after(mark)
        report = FileReport(source.display, "", "unreadable", source.size)
        report.message = f"damaged, truncated or gone ({type(exc).__name__}: {exc})"
        return report, None, ""
    if fmt is Format.JSON_DOCUMENT and not result.events and not result.skipped:
        # A JSON file with nothing audit-like in it (a config, ground_truth.json next to the
        # logs) is not a log file with bad records: report it as unreadable, ingest nothing.
        stager.discard_after(mark)
        report = FileReport(source.display, fmt.value, "unreadable", source.size)
        report.message = "JSON, but no audit events or known log envelope in it"
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
    )
    if fmt is Format.ACCESS_LOG and not result.events:
        report.message = (
            "a kube-apiserver log without access lines: the API server logs each request only "
            "at -v=3 or higher (-v=2 before 1.18)"
        )
    return report, result, file_hash


def _parquet_list(paths: Sequence[Path | str]) -> list[str]:
    return [str(p) for p in paths]


def _commit(
    stager: readers.Stager,
    merging: MergeSteps,
    root: Path,
    work: Path,
    run_id: str,
    manifest: Manifest,
    rejects: list[dict[str, Any]],
    new_files: list[FileEntry],
) -> None:
    """Merge the run's events into requests, reconcile with stored parts, swap manifest."""
    con = stager.con
    *shape, is_simple = run_shape_sql()
    for statement in shape:
        con.execute(statement).fetchall()
    ((simple,),) = con.execute(is_simple).fetchall()
    out = work / "out"
    if simple and stager.has_access_lines():
        # the audit requests first, then their access-log lines joined to them
        audit_parts = _write_simple(stager, merging, work / "audit", run_id)
        files = [str(p.file) for p in audit_parts]
        merged = access_merge_sql(audit_parts=bool(files))
        new_parts = _write_merged(con, merging, merged, {"files": files} if files else {}, out,
                                  run_id)  # fmt: skip
    elif simple:
        new_parts = _write_simple(stager, merging, out, run_id)
    else:
        merging.add(len(stager.direct))
        stager.stage_direct_files(merging.step)
        new_parts = _write_merged(con, merging, general_requests_sql(), {}, out, run_id)
    replaced: list[PartEntry] = []
    touched = _neighbour_parts(manifest, {p.entry.day for p in new_parts})
    if touched and _overlaps(con, [p.file for p in new_parts], [root / p.path for p in touched]):
        # Some requests of this run are already stored (their other stages came earlier):
        # merge the stored parts of those days with the new rows and replace them.
        columns = ", ".join(f'"{c}"' for c in REQUEST_COLUMNS)
        files = [str(p.file) for p in new_parts] + [str(root / p.path) for p in touched]
        rows = f"SELECT {columns} FROM read_parquet($files, union_by_name=true) WHERE {NEAR_DAY}"
        merged = f"SELECT * FROM (WITH rows AS ({rows}) {merge_sql()}) WHERE {DAY_FILTER}"
        days = {p.entry.day for p in new_parts} | {p.day for p in touched}
        all_days = sorted({_parse_day(day) for day in days}, key=str)
        merging.add(len(all_days))
        new_parts = _write_days(
            con, merged, {"files": _parquet_list(files)}, all_days, work / "merged", run_id, merging
        )
        replaced = touched
    # Move the new parts and rejects into place, then commit by replacing the manifest.
    for part in new_parts:
        target = root / part.entry.path
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(part.file, target)
    if rejects:
        (root / "rejects").mkdir(exist_ok=True)
        rejects_path = root / "rejects" / f"{run_id}.jsonl"
        with open(rejects_path, "w") as fh:
            for row in rejects:
                fh.write(json.dumps(row) + "\n")
        manifest.rejects.append(rejects_path.relative_to(root).as_posix())
    replaced_paths = {p.path for p in replaced}
    manifest.parts = [p for p in manifest.parts if p.path not in replaced_paths]
    manifest.parts += [p.entry for p in new_parts]
    manifest.files += new_files
    manifest.runs.append(RunEntry(run_id, datetime.now(UTC).isoformat(), len(new_files)))
    write_manifest(root, manifest)
    for path in replaced_paths:
        (root / path).unlink(missing_ok=True)


def _write_merged(
    con: duckdb.DuckDBPyConnection,
    merging: MergeSteps,
    merged: str,
    params: dict[str, Any],
    out: Path,
    run_id: str,
) -> list[WrittenPart]:
    """Materialize ``merged`` (REQUEST columns + ``day``) once, then write it day by day."""
    merging.add(1)
    with merging.step():
        con.execute(f"CREATE TEMP TABLE run_requests AS {merged}", params).fetchall()
    query = f"SELECT * FROM run_requests WHERE {DAY_FILTER}"
    days = [d for (d,) in con.execute("SELECT DISTINCT day FROM run_requests").fetchall()]
    merging.add(len(days))
    return _write_days(con, query, {}, days, out, run_id, merging)


def _write_simple(
    stager: readers.Stager, merging: MergeSteps, out: Path, run_id: str
) -> list[WrittenPart]:
    """Write the requests of a simple run (``merge.simple_requests_sql``), day by day.

    Files read in place are read once more here: one that was rotated, truncated or removed
    since its keys were read would lose requests silently, so the rows written are checked
    against the keys' count and the run fails (nothing ingested) if they differ.
    """
    con = stager.con
    staged = stager.staged_audit_days()
    days = sorted(staged | stager.direct_days(), key=lambda d: (d is None, d))
    ((open_from,),) = con.execute(OPEN_FROM).fetchall()
    ((expected,),) = con.execute(SIMPLE_REQUESTS).fetchall()
    merging.add(len(days))
    parts = []
    con.execute("SET disabled_optimizers = $o", {"o": FIXED_JOINS}).fetchall()
    try:
        for day in days:
            paths = stager.direct_paths(day)
            query = simple_requests_sql(staged=day in staged, direct=tuple(sorted(paths)))
            params = {f"paths_{c}": p for c, p in paths.items()}
            if paths:
                params["open_from"] = open_from
            reads = sum(stager.direct[b].size for b in stager.direct_batches(day))
            parts += _write_days(con, query, params, [day], out, run_id, merging, reads)
    except duckdb.IOException as exc:
        raise InputError(
            f"a log file went away while it was ingested ({first_line(exc)}); "
            "nothing was ingested: run again"
        ) from None
    finally:
        con.execute("RESET disabled_optimizers").fetchall()
    written = sum(p.entry.rows for p in parts)
    if written != expected:
        raise InputError(
            "a log file changed while it was ingested (rotated or truncated?): "
            f"{expected - written:,} of {expected:,} requests were gone when it was read again; "
            "nothing was ingested: run again"
        )
    return parts


def _parse_day(name: str) -> date | None:
    return None if name == HIVE_NULL else date.fromisoformat(name)


def _write_days(
    con: duckdb.DuckDBPyConnection,
    query: str,
    params: dict[str, Any],
    days: list[date | None],
    out: Path,
    run_id: str,
    merging: MergeSteps,
    reads: int | None = None,
) -> list[WrittenPart]:
    """Write ``query`` (REQUEST columns + ``day``, filtered by ``$day``) to one Parquet per day.

    Streams each day straight into its file: faster and lighter than materializing the run or
    DuckDB's PARTITION_BY, both of which spill badly under the memory limit. Runs usually span
    one or two days. ``reads``: the bytes of the files each query reads (progress). Returns
    the parts written, with their manifest entries.
    """
    columns = ", ".join(f'"{c}"' for c in REQUEST_COLUMNS)
    parts = []
    for day in days:
        name = day.isoformat() if day is not None else HIVE_NULL
        path = out / f"day={name}" / f"part-{run_id}.parquet"
        path.parent.mkdir(parents=True)
        with merging.step(reads):
            ((rows,),) = con.execute(
                f"COPY (SELECT {columns} FROM ({query})) TO $out ({PARQUET_OPTIONS})",
                {**params, "day": day, "out": str(path)},
            ).fetchall()
        if rows:
            relative = f"requests/day={name}/{path.name}"
            parts.append(WrittenPart(PartEntry(relative, name, rows), path))
        else:
            path.unlink()
    return parts


def _neighbour_parts(manifest: Manifest, days: set[str]) -> list[PartEntry]:
    """Stored parts of the given days and the days next to them (stages can straddle midnight)."""
    wanted = set(days)
    for day in days:
        try:
            date = datetime.strptime(day, "%Y-%m-%d")
        except ValueError:
            continue
        wanted |= {(date + timedelta(days=d)).strftime("%Y-%m-%d") for d in (-1, 1)}
    return [p for p in manifest.parts if p.day in wanted]


def _overlaps(con: duckdb.DuckDBPyConnection, new: list[Path], stored: list[Path]) -> bool:
    """Does any request of this run already sit in the stored parts?"""
    ((found,),) = con.execute(
        "SELECT EXISTS (SELECT 1 FROM read_parquet($new) n "
        "SEMI JOIN read_parquet($old) o USING (request_key))",
        {"new": _parquet_list(new), "old": _parquet_list(stored)},
    ).fetchall()
    return bool(found)
