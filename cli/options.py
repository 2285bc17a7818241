"""Options shared by many commands, declared once, and how a command shows a result."""

from __future__ import annotations

import inspect
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import typer

from k8saudit.params import ALIASES, HEADINGS, Param
from k8saudit.store import DATASET_ENV, DEFAULT_DATASET, resolve_dataset

if TYPE_CHECKING:
    import polars as pl

    from k8saudit.engine_text import WrittenText
    from k8saudit.rows import Rows

#: the dataset the running command reads (``--dataset``, its env var or the default): ``--output``
#: may not write into it
_dataset: list[Path | None] = [None]


def _remember_dataset(value: Path | None) -> Path | None:
    _dataset[0] = value
    return value


DATASET = typer.Option(
    None,
    "--dataset",
    "-d",
    envvar=DATASET_ENV,
    callback=_remember_dataset,
    help=f"Dataset directory [default: ./{DEFAULT_DATASET}; env {DATASET_ENV}].",
    show_default=False,
)
FORMAT = typer.Option("table", "--format", "-f", help="table, csv, json, parquet or markdown.")
OUTPUT = typer.Option(None, "--output", "-o", help="Write to FILE instead of stdout.")
QUIET = typer.Option(False, "--quiet", "-q", help="No progress output on stderr.")
ENGINE = typer.Option(
    "duckdb", "--engine", help="Where the query runs: duckdb (embedded) or spark (pyspark)."
)
SPARK_MASTER = typer.Option(
    "local[*]", "--spark-master", help="The Spark master of --engine spark (spark://..., yarn)."
)

#: the Python type of each declared type on the command line (text the library converts)
CLI_TYPES: dict[str, Any] = {
    "INTEGER": int | None,
    "BIGINT": int | None,
    "DOUBLE": float | None,
    "BOOLEAN": bool | None,
}
#: one-letter spellings of the most typed options
SHORT = {"namespace": "-n", "limit": "-l"}


def option_help(param: Param) -> str:
    """An option's ``--help`` line: the declared description, and the choices with the
    headings and other names they may be given by.

    >>> from k8saudit.query_loader import get_query
    >>> option_help(get_query("top_talkers").params["code"])
    'Only this HTTP status code.'
    >>> option_help(get_query("top_talkers").params["sort"])[:47]
    'Rank by this column: requests (reqs), req_per_s'
    """
    text = param.description[:1].upper() + param.description[1:]
    if param.choices:
        other = {choice: alias for alias, choice in ALIASES.items()}
        other |= {choice: HEADINGS[choice] for choice in param.choices if choice in HEADINGS}
        text += ": " + ", ".join(f"{c} ({other[c]})" if c in other else c for c in param.choices)
    return text.rstrip(".") + "."


def declared_option(param: Param, default: Any) -> inspect.Parameter:
    """The command-line option of a declared query parameter, typed as declared.

    >>> from k8saudit.query_loader import get_query
    >>> declared_option(get_query("top_talkers").params["code"], None).annotation
    int | None
    """
    flag = param.option
    if param.type == "BOOLEAN":  # both ways: --totals / --no-totals
        flag += "/--no-" + flag.removeprefix("--")
    names = [flag] + ([SHORT[param.name]] if param.name in SHORT else [])
    option = typer.Option(default, *names, help=option_help(param))
    kind = CLI_TYPES.get(param.type, str | None)
    return inspect.Parameter(
        param.name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=kind
    )


def engine_of(engine: str, master: str) -> Any:
    """What ``k8saudit.open`` takes as ``engine`` for ``--engine`` and ``--spark-master``.

    >>> engine_of("duckdb", "local[*]") is None
    True
    """
    from k8saudit.exceptions import UsageError

    if engine == "duckdb":
        return None
    if engine != "spark":
        raise UsageError(f"--engine {engine!r}: not an engine", hint="duckdb or spark")
    from k8saudit.spark import session

    return session(master)


def declared_argument(param: Param, metavar: str, required: bool) -> inspect.Parameter:
    """The positional argument of a declared query parameter (``-- arg:``), typed as declared.

    >>> from k8saudit.query_loader import get_query
    >>> declared_argument(get_query("top_talkers").params["user"], "[USER]", False).default.metavar
    '[USER]'
    """
    argument = typer.Argument(
        ... if required else None, metavar=metavar, help=option_help(param), show_default=False
    )
    kind = CLI_TYPES.get(param.type, str | None)
    return inspect.Parameter(
        param.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=argument, annotation=kind
    )


def parse_params(items: list[str]) -> dict[str, str]:
    """``-p NAME=VALUE`` options as a dict; a malformed one is a usage error.

    >>> parse_params(["by=client,verb", "limit=5"])
    {'by': 'client,verb', 'limit': '5'}
    """
    from k8saudit.exceptions import UsageError

    params: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"--param {item!r}: expected NAME=VALUE")
        params[name] = value
    return params


def emit(frame: pl.DataFrame | Rows | WrittenText, fmt: str, output: Path | None) -> None:
    """Render a result (a DataFrame, ``Rows``, or ``WrittenText``) to stdout or ``output``.

    >>> emit(ds.sql("SELECT 1 AS n"), "csv", None)  # doctest: +SKIP
    n
    1
    """
    from k8saudit.render import write_output

    text = write_output(frame, fmt, output, protect=resolve_dataset(_dataset[0]))
    if text is not None:
        typer.echo(text, nl=False)


def terminal_width() -> int:
    """The width tables fit: ``COLUMNS`` when set, the terminal's when stdout is one, else 80.

    >>> terminal_width()  # under pytest stdout is no terminal
    80
    """
    if os.environ.get("COLUMNS", "").isdigit():  # set by the shell, or by a user: honoured
        return max(int(os.environ["COLUMNS"]), 20)
    if not sys.stdout.isatty():
        return 80
    return shutil.get_terminal_size((80, 24)).columns


def show(
    frame: pl.DataFrame | Rows | WrittenText,
    fmt: str,
    output: Path | None,
    columns: Sequence[str] = (),
) -> None:
    """An analysis result: its terminal view (``render_view``) for a table on stdout, fitted
    to the terminal's width, else every column with raw numbers in ``fmt``.

    >>> show(ds.top_talkers(limit=3), "table", None)  # doctest: +SKIP
    """
    from k8saudit.engine_text import WrittenText

    if fmt != "table" or output is not None or isinstance(frame, WrittenText):
        emit(frame, fmt, output)
        return
    from k8saudit.render import render_view

    typer.echo(render_view(frame, terminal_width(), columns), nl=False)


def answer_in(ds: Any, name: str, values: dict[str, Any], fmt: str, output: Path | None) -> Any:
    """The answer of the analysis ``name`` for rendering in ``fmt`` to ``output`` (None:
    stdout): ``Dataset.answer_rows`` (plain values, no polars to import), but for CSV, JSON,
    markdown and the table on stdout ``Dataset.answer_text`` (DuckDB writes them:
    ``engine_text``; the table fitted to the terminal's width) and for parquet
    ``Dataset.answer`` (written from a DataFrame). A long one says on stderr that it is still
    working (``Ticking``).

    >>> answer_in(ds, "top_talkers", {"limit": 3}, "csv", None).frame.height  # doctest: +SKIP
    3
    """
    from k8saudit.engine_text import CELLS

    with Ticking(name.replace("_", "-")):
        if fmt == "parquet":
            return ds.answer(name, **values)
        if fmt in CELLS:
            return ds.answer_text(name, fmt, **values)
        if fmt == "table" and output is None:
            return ds.answer_text(name, fmt, terminal_width(), **values)
        return ds.answer_rows(name, **values)


class Ticking:
    """While a command computes (a context), one line on stderr once it has taken ``DELAY``
    seconds: what it computes and for how long, redrawn every ``INTERVAL``, and erased when
    it is done, before anything is printed. Only on a terminal: a pipe or a file gets nothing.
    DuckDB's own progress is not shown: for the window queries (in-flight, pollers) its
    estimate stands still for most of the run.

    >>> with Ticking("inflight-peaks"):
    ...     peaks = ds.inflight_peaks()  # doctest: +SKIP
    """

    DELAY = 1.0
    INTERVAL = 1.0

    def __init__(self, label: str, stream: Any = None) -> None:
        import threading

        self.label = label
        self.stream = sys.stderr if stream is None else stream
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        if self.stream.isatty():
            self._thread = threading.Thread(target=self._run, name="k8saudit-ticking", daemon=True)

    def _run(self) -> None:
        import time

        started = time.monotonic()
        drawn = False
        wait = self.DELAY
        while not self._done.wait(wait):
            self.stream.write(f"\r{self.label}: working, {time.monotonic() - started:.0f} s\x1b[K")
            self.stream.flush()
            drawn, wait = True, self.INTERVAL
        if drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()

    def __enter__(self) -> Self:
        if self._thread is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join()


def show_answer(answer: Any, fmt: str, output: Path | None) -> None:
    """An analysis's answer (``Dataset.answer``): its result, and on stderr, when it has no
    rows, the one line that says why (``render.empty_text``).

    >>> show_answer(ds.answer("top_talkers", client="datadog"), "table", None)  # doctest: +SKIP
    """
    show(answer.frame, fmt, output, answer.table)
    if answer.empty_reason is not None:
        from k8saudit.render import empty_text

        typer.echo(empty_text(answer.empty_reason), err=True)


class StderrBar:
    """A ``rich`` progress bar on stderr, started and stopped as a context; it does nothing
    unless ``enabled`` and stderr is a terminal. Its first column is the task's description
    (``label`` at the start). Only counts and step names are shown, never a string from a log.

    >>> with StderrBar(False, "reading") as bar:
    ...     bar.bar is None
    True
    """

    def __init__(self, enabled: bool, label: str) -> None:
        self.bar: Any = None
        if enabled and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn

            self.bar = Progress(
                TextColumn("{task.description}", markup=False),
                BarColumn(),
                TextColumn("{task.fields[detail]}", markup=False),
                console=Console(stderr=True),
                transient=True,
            )
            self.task = self.bar.add_task(label, total=None, detail="")

    def __enter__(self) -> Self:
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()
