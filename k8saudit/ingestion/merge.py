"""``k8saudit.merge``: shard datasets combined into one, as one ingest of all their logs.

Ingest at scale is sharded: each machine ingests its own apiservers' logs into a dataset of
its own, and ``merge`` combines them. A request whose stages sit in different shards (its
RequestReceived in one, its ResponseComplete in another: a log copied late, an apiserver's
logs split between machines) collapses into one row, by the same SQL that reconciles the
requests of one ingest run with those stored by earlier ones (``commit.reconcile``:
``sql/stored_rows.sql``, ``sql/merge_requests.sql``, ``sql/merged_of_day.sql``), so a merge of
shards gives the rows one ingest of all their logs gives. The manifests are merged (an input
file ingested by two shards counts once), the rejects kept, and the output is written as an
ingest writes: under its lock, into its work area, committed by the manifest's rename. Each
input is read under its own lock, so no ingest writes to it meanwhile.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from k8saudit.exceptions import DatasetError, UsageError
from k8saudit.ingestion.commit import commit_run, run_area
from k8saudit.ingestion.parts import parse_day, write_days
from k8saudit.ingestion.staging import connect
from k8saudit.progress import IngestProgress, MergeSteps, Progress
from k8saudit.schema import arrow_schema
from k8saudit.sqlfiles import internal_sql
from k8saudit.store import (
    FileEntry,
    Manifest,
    locked,
    read_manifest,
    resolve_dataset,
)


@dataclass
class MergeReport:
    """What ``merge`` did; the CLI prints it."""

    dataset: Path
    inputs: list[Path] = field(default_factory=list)
    files_added: int = 0
    files_duplicate: int = 0  # input files another input (or the output) already holds
    rows_read: int = 0  # request rows of all the parts read (a split request counts per shard)
    requests_before: int = 0
    requests_after: int = 0
    seconds: float = 0.0


def merge(
    datasets: Sequence[str | os.PathLike[str]],
    dataset: str | os.PathLike[str] | None = None,
    *,
    progress: Progress | None = None,
) -> MergeReport:
    """Merge the shard ``datasets`` into ``dataset`` (created if new; what it holds stays).

    >>> report = k8saudit.merge(["shard-a", "shard-b"], dataset="k8saudit-data")  # doctest: +SKIP
    >>> report.requests_after  # doctest: +SKIP
    123456
    """
    started = time.monotonic()
    root = resolve_dataset(dataset)
    inputs = _inputs(datasets, root)
    report = MergeReport(dataset=root, inputs=inputs)
    with contextlib.ExitStack() as stack:
        stack.enter_context(locked(root))
        for source in inputs:
            stack.enter_context(locked(source))
        manifest, run_id, work = stack.enter_context(run_area(root))
        report.requests_before = manifest.requests
        files = [str(root / p.path) for p in manifest.parts]
        days = {p.day for p in manifest.parts}
        seen = manifest.hashes
        new_files: list[FileEntry] = []
        rejects: list[dict[str, Any]] = []
        for source in inputs:
            shard = read_manifest(source)
            files += [str(source / p.path) for p in shard.parts]
            days |= {p.day for p in shard.parts}
            report.rows_read += shard.requests
            duplicates = {f.path for f in shard.files if f.hash in seen}
            report.files_duplicate += len(duplicates)
            for entry in shard.files:
                if entry.hash not in seen:
                    seen.add(entry.hash)
                    new_files.append(entry)
            rejects += [r for r in _rejects(source, shard) if r["file"] not in duplicates]
            manifest.runs += shard.runs
        report.rows_read += manifest.requests
        report.files_added = len(new_files)
        con = connect(work)
        steps = MergeSteps(con, progress, IngestProgress("merging", 0, 0, 0, 0))
        all_days = sorted({parse_day(day) for day in days}, key=str)
        steps.add(len(all_days))
        relations = {
            "rows": internal_sql("stored_rows"),
            "merged": internal_sql("merge_requests"),
            "day_rows": internal_sql("merged_of_day"),
        }
        con.register("_request_schema", arrow_schema("REQUEST_SCHEMA").empty_table())
        merged = write_days(
            con, relations, {"files": files}, all_days, work / "merged", run_id, steps
        )
        con.close()
        commit_run(root, manifest, run_id, merged, list(manifest.parts), rejects, new_files)
        report.requests_after = manifest.requests
    report.seconds = time.monotonic() - started
    return report


def _inputs(datasets: Sequence[str | os.PathLike[str]], root: Path) -> list[Path]:
    """The shard datasets, each once, the output left out (it is merged into anyway)."""
    if not datasets:
        raise UsageError("no datasets to merge")
    inputs: list[Path] = []
    for name in datasets:
        path = Path(name)
        if not (path / "manifest.json").exists():
            raise DatasetError(
                f"{path}: no k8saudit dataset here", hint="each shard is an ingested dataset"
            )
        same = path.resolve() == root.resolve() or any(
            path.resolve() == p.resolve() for p in inputs
        )
        if not same:
            inputs.append(path)
    return inputs


def _rejects(source: Path, shard: Manifest) -> list[dict[str, Any]]:
    rows = []
    for name in shard.rejects:
        with (source / name).open() as fh:
            rows += [json.loads(line) for line in fh]
    return rows
