"""``chart`` and ``report``: the pictures of ``k8saudit.charts`` and the HTML postmortem.

Each parses its options (the common filters as ``queries/_filters.sql`` declares them, a
chart's own as the queries behind it declare them), calls one library function
(``Dataset.chart`` + ``charts.save_chart``, ``report.write_report``) and prints the path it
wrote. The report's progress is a ``rich`` bar on stderr when stderr is a terminal.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import typer

from k8saudit.query_loader import load_all

from .boundary import command
from .options import DATASET, QUIET, StderrBar, Ticking, declared_option

#: a chart's own options: where each is declared (the query that binds it)
_CHART_OPTIONS = {
    "by": "_filters",
    "every": "_chart_series",
    "limit": "_chart_series",
    "max_requests_inflight": "inflight",
    "max_mutating_requests_inflight": "inflight",
}


def _filter_options() -> list[inspect.Parameter]:
    return [declared_option(p, None) for p in load_all()["_filters"].options if p.name != "by"]


def _keyword(name: str, annotation: Any, default: Any) -> inspect.Parameter:
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default
    )


class ReportProgressBar(StderrBar):
    """The report's steps on stderr (``StderrBar``)."""

    def __init__(self, enabled: bool) -> None:
        super().__init__(enabled, "report")

    def __call__(self, done: int, total: int, what: str) -> None:
        if self.bar is not None:
            self.bar.update(self.task, total=total, completed=done, detail=f"{done}/{total} {what}")


def register(app: typer.Typer) -> None:
    """Add ``chart`` and ``report`` to ``app`` (behind the CLI's error boundary)."""
    from k8saudit.charts import CHARTS

    library = load_all()
    names = ", ".join(n.replace("_", "-") for n in CHARTS)
    parameters = [
        inspect.Parameter(
            "name", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=str,
            default=typer.Argument(..., help=f"The chart: {names}."),
        ),
    ]  # fmt: skip
    parameters += [
        declared_option(library[source].params[name], None)
        for name, source in _CHART_OPTIONS.items()
    ]
    parameters += _filter_options()
    parameters += [
        _keyword("dataset", Path | None, DATASET),
        _keyword("output", Path, typer.Option(..., "--output", "-o",
                 help="The file to write: .png, .svg (drawn offline) or .html (self-contained).")),
    ]  # fmt: skip
    kinds = "; ".join(f"{n.replace('_', '-')}: {k.description}" for n, k in CHARTS.items())

    def chart_run(**options: Any) -> None:
        import k8saudit
        from k8saudit.charts import save_chart

        dataset, output, name = options.pop("dataset"), options.pop("output"), options.pop("name")
        values = {key: value for key, value in options.items() if value is not None}
        with Ticking(f"chart {name}"), k8saudit.open(dataset) as ds:
            save_chart(ds.chart(name, **values), output, title=f"k8saudit chart {name}")
        typer.echo(str(output))

    chart_run.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    command(
        app, "chart",
        help="Draw an analysis as a chart (altair, from data DuckDB has aggregated: at most a "
        "few thousand rows whatever the dataset; colours fixed per client; time in UTC). "
        f"Charts: {kinds}. Without --every a chart picks the interval.",
    )(chart_run)  # fmt: skip

    report_parameters = [
        *_filter_options(),
        _keyword("dataset", Path | None, DATASET),
        _keyword("output", Path, typer.Option("k8saudit-report.html", "--output", "-o",
                 help="The HTML file to write.")),
        _keyword("quiet", bool, QUIET),
    ]  # fmt: skip

    def report_run(**options: Any) -> None:
        """Write one self-contained HTML postmortem report (opens with no network): the
        summary in plain words, the diagnose findings first, the charts, the key tables and
        how it was made."""
        from k8saudit.report import write_report

        dataset, output, quiet = (options.pop(n) for n in ("dataset", "output", "quiet"))
        values = {key: value for key, value in options.items() if value is not None}
        with ReportProgressBar(not quiet) as progress:
            written = write_report(output, dataset, progress=progress, **values)
        typer.echo(str(written))

    report_run.__signature__ = inspect.Signature(report_parameters)  # type: ignore[attr-defined]
    command(app, "report", help=report_run.__doc__)(report_run)
