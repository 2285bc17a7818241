"""Committing a run: reconcile its requests with those stored, move parts in, swap the manifest.

A request's stages may arrive in different runs (rotation, a late copy from another apiserver):
when requests of this run already sit in stored parts of the same or neighbouring days, those
days are merged again and their parts replaced. Then the new parts and rejects are moved into
place and the manifest is replaced atomically: until that rename, nothing the queries read has
changed, so a crash or Ctrl-C at any point leaves the dataset as the last completed run left it.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import duckdb

from k8saudit.ingestion.parts import WrittenPart, parse_day, write_days
from k8saudit.progress import MergeSteps
from k8saudit.schema import arrow_schema
from k8saudit.sqlfiles import internal_sql, run_sql
from k8saudit.store import (
    FileEntry,
    Manifest,
    PartEntry,
    RunEntry,
    read_manifest,
    remove_debris,
    write_manifest,
)  # fmt: skip


class Run(NamedTuple):
    """A run (an ingest or a merge) under way: the dataset's manifest as it found it, its id
    and its work area."""

    manifest: Manifest
    run_id: str
    work: Path


@contextlib.contextmanager
def run_area(root: Path) -> Iterator[Run]:
    """A new run of the dataset at ``root``, under the caller's lock: its manifest (the debris
    of runs that crashed removed), a run id and the work area ``.tmp/ID``, removed afterwards
    (``.tmp`` too when nothing else is in it), whatever happens."""
    manifest = read_manifest(root)
    remove_debris(root, manifest)
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)
    work = root / ".tmp" / run_id
    work.mkdir(parents=True)
    try:
        yield Run(manifest, run_id, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        with contextlib.suppress(OSError):  # not empty: another run's, or debris
            (root / ".tmp").rmdir()


def reconcile(
    con: duckdb.DuckDBPyConnection,
    steps: MergeSteps,
    manifest: Manifest,
    root: Path,
    work: Path,
    run_id: str,
    new_parts: list[WrittenPart],
) -> tuple[list[WrittenPart], list[PartEntry]]:
    """The run's parts after merging them with the stored parts they share requests with, and
    the stored parts those replace (none when no request of the run is already stored)."""
    touched = _neighbour_parts(manifest, {p.entry.day for p in new_parts})
    if not touched:
        return new_parts, []
    new = [str(p.file) for p in new_parts]
    stored = [str(root / p.path) for p in touched]
    ((overlap,),) = run_sql(con, "stored_overlap", new=new, old=stored)
    if not overlap:
        return new_parts, []
    relations = {
        "rows": internal_sql("stored_rows"),
        "merged": internal_sql("merge_requests"),
        "day_rows": internal_sql("merged_of_day"),
    }
    days = {p.entry.day for p in new_parts} | {p.day for p in touched}
    all_days = sorted({parse_day(day) for day in days}, key=str)
    steps.add(len(all_days))
    con.register("_request_schema", arrow_schema("REQUEST_SCHEMA").empty_table())
    try:
        merged = write_days(
            con, relations, {"files": new + stored}, all_days, work / "merged", run_id, steps
        )
    finally:
        con.unregister("_request_schema")
    return merged, touched


def commit_run(
    root: Path,
    manifest: Manifest,
    run_id: str,
    new_parts: list[WrittenPart],
    replaced: list[PartEntry],
    rejects: list[dict[str, Any]],
    new_files: list[FileEntry],
) -> Path | None:
    """Move the run's parts and rejects into place, then commit by replacing the manifest;
    the rejects file written, if any."""
    for part in new_parts:
        target = root / part.entry.path
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(part.file, target)
    rejects_path = None
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
    return rejects_path


def _neighbour_parts(manifest: Manifest, days: set[str]) -> list[PartEntry]:
    """Stored parts of the given days and the days next to them (stages can straddle midnight)."""
    wanted = set(days)
    for day in days:
        try:
            date = datetime.strptime(day, "%Y-%m-%d")
        except ValueError:
            continue
        for d in (-1, 1):
            with contextlib.suppress(OverflowError):  # no day before 0001-01-01, after 9999
                wanted.add((date + timedelta(days=d)).strftime("%Y-%m-%d"))
    return [p for p in manifest.parts if p.day in wanted]
