"""``ingest``, ``info``, ``sql`` and ``rejects``: building and looking into the dataset."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from k8saudit.progress import IngestProgress

from .app import command
from .options import DATASET, FORMAT, OUTPUT, QUIET, emit, parse_params


def _human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError


class _ProgressLine:
    """One self-rewriting stderr line; silent unless stderr is a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.started = time.monotonic()

    def __call__(self, at: IngestProgress) -> None:
        if not self.enabled:
            return
        if at.phase == "merging":
            plural = "" if at.files_total == 1 else "s"
            line = (
                f"writing the requests of {at.files_total} file{plural}  {at.merged_percent:3.0f}%"
            )
        else:
            elapsed = max(time.monotonic() - self.started, 1e-6)
            line = (
                f"reading file {min(at.files_done + 1, at.files_total)}/{at.files_total}  "
                f"{_human_bytes(at.bytes_done)} of {_human_bytes(at.bytes_total)}  "
                f"{_human_bytes(at.bytes_done / elapsed)}/s"
            )
        sys.stderr.write(f"\r\x1b[K{line}")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


@command("ingest")
def ingest_command(
    paths: list[str] = typer.Argument(..., help="Log files, directories or globs."),
    dataset: Path | None = DATASET,
    year: int | None = typer.Option(
        None, "--year", help="Year of access-log lines without a full timestamp (klog has none)."
    ),
    tz: str | None = typer.Option(
        None, "--tz", help="Zone of those lines' clock, e.g. Europe/Berlin [default: UTC]."
    ),
    quiet: bool = QUIET,
) -> None:
    """Read audit/access logs (any mix of formats, .gz/.zst) into the dataset.

    Files already ingested are skipped, so re-running is safe. Lines that cannot be read are kept
    as rejects (see `k8saudit rejects`).
    """
    import k8saudit
    from k8saudit.render import escape_text

    progress = _ProgressLine(not quiet)
    try:
        report = k8saudit.ingest(paths, dataset=dataset, year=year, tz=tz, progress=progress)
    finally:
        progress.close()
    for f in report.files:
        if f.status == "unreadable":
            typer.echo(f"warning: {escape_text(f.path)}: {f.message}; skipped", err=True)
        elif f.status == "ingested" and f.message:
            typer.echo(f"note: {escape_text(f.path)}: {f.message}", err=True)
    duplicates = sum(1 for f in report.files if f.status == "duplicate")
    ingested = [f for f in report.files if f.status == "ingested"]
    formats = ", ".join(f"{name} {n}" for name, n in sorted(report.formats.items()))
    mb_s = report.bytes_read / max(report.seconds, 1e-9) / 1e6
    lines = [
        f"dataset     {report.dataset}",
        f"files       {len(ingested)} ingested ({formats or 'none'}), {duplicates} already "
        f"ingested, {len(report.files) - len(ingested) - duplicates} unreadable",
        f"requests    +{report.requests_added:,} (now {report.requests_after:,}) from "
        f"{report.events:,} log events",
    ]
    if report.first and report.last:
        lines.append(
            f"time span   {report.first:%Y-%m-%d %H:%M:%S} .. {report.last:%Y-%m-%d %H:%M:%S} UTC"
        )
    lines.append(f"skipped     {report.skipped:,} records (not API requests)")
    lines.append(f"rejected    {report.rejected:,} records")
    lines.append(
        f"took        {report.seconds:.2f} s ({_human_bytes(report.bytes_read)}, {mb_s:.0f} MB/s)"
    )
    typer.echo("\n".join(lines))
    if report.rejected:
        typer.echo(
            f"warning: {report.rejected} records could not be read; "
            "`k8saudit rejects` shows them with file and line",
            err=True,
        )


@command("info")
def info_command(dataset: Path | None = DATASET) -> None:
    """What the dataset holds: time span, requests by format, clients, apiservers, rejects."""
    import k8saudit
    from k8saudit.render import escape_text, render_table

    with k8saudit.open(dataset) as ds:
        info = ds.info()
        typer.echo(f"dataset    {ds.root}")
        typer.echo(f"files      {info.files} ingested, {info.rejects} rejected records")
        typer.echo(f"requests   {info.requests:,}")
        if info.first and info.last:
            typer.echo(
                f"time span  {info.first:%Y-%m-%d %H:%M:%S} .. {info.last:%Y-%m-%d %H:%M:%S} UTC"
            )
        for note in info.time_notes:
            typer.echo(f"note       {escape_text(note)}")
        for title, frame in info.tables.items():
            typer.echo(f"\n{title}")
            typer.echo(render_table(frame), nl=False)


@command("sql")
def sql_command(
    query: str = typer.Argument(..., help="SQL over the `requests` view."),
    param: list[str] = typer.Option([], "--param", "-p", help="Bind $NAME: -p NAME=VALUE."),
    dataset: Path | None = DATASET,
    fmt: str = FORMAT,
    output: Path | None = OUTPUT,
) -> None:
    """Run ad-hoc SQL against the `requests` view (DuckDB dialect)."""
    import k8saudit

    with k8saudit.open(dataset) as ds:
        emit(ds.sql(query, **parse_params(param)), fmt, output)


@command("rejects")
def rejects_command(
    dataset: Path | None = DATASET,
    fmt: str = FORMAT,
    output: Path | None = OUTPUT,
    limit: int = typer.Option(50, "--limit", "-l", min=0, help="Show at most N rejects (0: all)."),
) -> None:
    """Show the input records that could not be read, with file, line and reason."""
    import k8saudit

    with k8saudit.open(dataset) as ds:
        emit(ds.rejects_frame(limit or None), fmt, output)
