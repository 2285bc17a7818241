"""``ingest``, ``merge``, ``info``, ``sql``, ``rejects`` and ``event``: building and looking into
the dataset.

The texts are the library's (``k8saudit.render``: ``ingest_summary``, ``info_text``); this module
prints them, and draws the ingest progress with ``rich`` on stderr when stderr is a terminal.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from .boundary import command
from .options import (
    DATASET,
    ENGINE,
    FORMAT,
    OUTPUT,
    QUIET,
    SPARK_MASTER,
    StderrBar,
    Ticking,
    emit,
    engine_of,
    parse_params,
)

if TYPE_CHECKING:
    import polars as pl

    from k8saudit.engine_text import WrittenText
    from k8saudit.progress import IngestProgress
    from k8saudit.rows import Rows


class IngestProgressBar(StderrBar):
    """The ingest's progress on stderr (``StderrBar``): bytes read per file, then the merge."""

    def __init__(self, enabled: bool) -> None:
        super().__init__(enabled, "reading")

    def __call__(self, at: IngestProgress) -> None:
        if self.bar is None:
            return
        from rich.filesize import decimal

        if at.phase == "merging":
            plural = "" if at.files_total == 1 else "s"
            description = f"writing the requests of {at.files_total} file{plural}"
            self.bar.update(
                self.task, description=description, total=100.0,
                completed=at.merged_percent, detail=f"{at.merged_percent:3.0f}%",
            )  # fmt: skip
            return
        task = self.bar.tasks[0]
        rate = f"  {decimal(int(task.speed))}/s" if task.speed else ""
        self.bar.update(
            self.task,
            description=f"reading file {min(at.files_done + 1, at.files_total)}/{at.files_total}",
            total=at.bytes_total, completed=at.bytes_done,
            detail=f"{decimal(at.bytes_done)} of {decimal(at.bytes_total)}{rate}",
        )  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add ``ingest``, ``info``, ``sql``, ``rejects`` and ``event`` to ``app`` (behind the
    boundary).

    >>> register(new_app())  # doctest: +SKIP
    """

    @command(app, "ingest")
    def ingest_command(
        paths: list[str] = typer.Argument(..., help="Log files, directories or globs."),
        dataset: Path | None = DATASET,
        year: int | None = typer.Option(
            None,
            "--year",
            help="Year of access-log lines without a full timestamp (klog has none).",
        ),
        tz: str | None = typer.Option(
            None, "--tz", help="Zone of those lines' clock, e.g. Europe/Berlin [default: UTC]."
        ),
        apiserver: str | None = typer.Option(
            None,
            "--apiserver",
            help="The apiserver of requests that do not say [default: the one a file's path "
            "names, e.g. kube-apiserver-ip-10-0-33-10/audit.log].",
        ),
        keep_bodies: bool = typer.Option(
            False,
            "--keep-bodies",
            help="Keep audit events' requestObject/responseObject (columns request_object, "
            "response_object) with Secret data, tokens, passwords... redacted to a mark with a "
            "short hash. Applies to the files this run reads.",
        ),
        quiet: bool = QUIET,
    ) -> None:
        """Read audit/access logs (any mix of formats, .gz/.zst) into the dataset.

        Files already ingested are skipped, so re-running is safe. Lines that cannot be read are
        kept as rejects (see `k8saudit rejects`), without bodies or secret values.
        """
        import k8saudit
        from k8saudit.render import ingest_notes, ingest_summary, rejects_warning

        with IngestProgressBar(not quiet) as bar:
            # no bar (--quiet, or stderr not a terminal): no progress asked for, so the ingest
            # runs no thread polling DuckDB for it
            progress = bar if bar.bar is not None else None
            report = k8saudit.ingest(
                paths, dataset=dataset, year=year, tz=tz, apiserver=apiserver,
                keep_bodies=keep_bodies, progress=progress,
            )  # fmt: skip
        for line in ingest_notes(report):
            typer.echo(line, err=True)
        typer.echo(ingest_summary(report), nl=False)
        warning = rejects_warning(report)
        if warning:
            typer.echo(warning, err=True)

    @command(app, "merge")
    def merge_command(
        datasets: list[Path] = typer.Argument(..., help="The shard datasets to combine."),
        dataset: Path | None = DATASET,
        quiet: bool = QUIET,
    ) -> None:
        """Combine shard datasets (each machine ingesting its own apiservers' logs) into one.

        Exactly as one ingest of all their logs: the stages of a request split across shards
        become one row. The output (--dataset) keeps what it holds; the inputs are unchanged.
        """
        import k8saudit
        from k8saudit.render import merge_summary

        with IngestProgressBar(not quiet) as progress:
            report = k8saudit.merge(datasets, dataset=dataset, progress=progress)
        typer.echo(merge_summary(report), nl=False)

    @command(app, "info")
    def info_command(dataset: Path | None = DATASET) -> None:
        """What the dataset holds: time span, requests by format, clients, apiservers, rejects."""
        import k8saudit
        from k8saudit.render import info_text

        with k8saudit.open(dataset) as ds:
            typer.echo(info_text(ds.info()), nl=False)

    @command(app, "sql")
    def sql_command(
        query: str = typer.Argument(..., help="SQL over the `requests` view."),
        param: list[str] = typer.Option([], "--param", "-p", help="Bind $NAME: -p NAME=VALUE."),
        dataset: Path | None = DATASET,
        fmt: str = FORMAT,
        output: Path | None = OUTPUT,
        allow_external_access: bool = typer.Option(
            False,
            "--allow-external-access",
            help="Let the SQL read and write any file and load extensions (by default it can "
            "read the dataset's requests and nothing else).",
        ),
        engine: str = ENGINE,
        spark_master: str = SPARK_MASTER,
    ) -> None:
        """Run ad-hoc SQL against the `requests` view (DuckDB dialect, on Spark transpiled).

        The SQL reads the dataset and nothing else: no other file read or written, no
        extension installed, unless --allow-external-access (DuckDB; on Spark the session's
        own settings rule).
        """
        import k8saudit
        from k8saudit.engine_text import CELLS

        with k8saudit.open(dataset, engine=engine_of(engine, spark_master)) as ds:
            if not allow_external_access and ds.spark is None:
                ds.sandbox()
            params = parse_params(param)
            # written by DuckDB, else plain values (no polars to import); parquet is a
            # DataFrame's
            answer: pl.DataFrame | Rows | WrittenText
            with Ticking("sql"):
                if fmt == "parquet":
                    answer = ds.sql(query, **params)
                else:
                    text = ds.text(query, fmt, **params) if fmt in CELLS else None
                    answer = ds.rows(query, **params) if text is None else text
            emit(answer, fmt, output)

    @command(app, "rejects")
    def rejects_command(
        dataset: Path | None = DATASET,
        fmt: str = FORMAT,
        output: Path | None = OUTPUT,
        limit: int = typer.Option(
            50, "--limit", "-l", min=0, help="Show at most N rejects (0: all)."
        ),
    ) -> None:
        """Show the input records that could not be read, with file, line and reason."""
        import k8saudit

        with k8saudit.open(dataset) as ds:
            emit(ds.rejects_frame(limit or None), fmt, output)

    @command(app, "event")
    def event_command(
        audit_id: str = typer.Argument(..., help="The request's audit ID."),
        dataset: Path | None = DATASET,
        fmt: str = FORMAT,
        output: Path | None = OUTPUT,
    ) -> None:
        """One request: its row, its source file and line, and that line read back from the
        log if it is still there (bodies and secret values redacted)."""
        import k8saudit
        from k8saudit.lookup import LineStatus
        from k8saudit.render import escape_text

        record = k8saudit.event(audit_id, dataset)
        if fmt == "table" and output is None:  # the long values whole, below the table
            emit(record.fields(long=False), fmt, output)
            for name, value in record.long_values():
                typer.echo(f"\n{name}:\n{escape_text(value)}")
        else:
            emit(record.fields() if fmt in ("table", "markdown") else record.frame(), fmt, output)
        if record.raw.status is not LineStatus.FOUND:
            typer.echo(f"note: {escape_text(record.raw.message)}", err=True)
