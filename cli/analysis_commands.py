"""``top-talkers``, ``throttling``, ``throttled-minutes``, ``latency``, ``errors``, ``watches``,
``timeline``, ``open-watches``, ``queries`` and ``query``: the load analyses.

Thin skins over the ``Dataset`` methods of ``k8saudit.analyses``: each command parses the common
filter options (declared once below), calls one method, and renders. For the terminal table the
result goes through ``table_view`` (shares as %, rates as /s, 80 columns); csv/json/parquet keep the
raw numbers and every column.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer

from .options import DATASET, FORMAT, OUTPUT, emit, parse_params

SINCE = typer.Option(
    None, "--since", help="Only requests from this time: RFC3339 or relative to the end (30m, 2h)."
)
UNTIL = typer.Option(None, "--until", help="Only requests before this time (RFC3339, or 10m...).")
VERB = typer.Option(None, "--verb", help="Only this verb (get, list, watch...).")
RESOURCE = typer.Option(None, "--resource", help="Only this resource (pods, services...).")
NAMESPACE = typer.Option(None, "--namespace", "-n", help="Only this namespace.")
USER = typer.Option(None, "--user", help="Only this username.")
CLIENT = typer.Option(None, "--client", help="Only this client (as `info` names them).")
CODE = typer.Option(None, "--code", help="Only this HTTP status code.")
SOURCE = typer.Option(
    "auto",
    "--source",
    help="auto (each request once, even with audit and access logs of the same period), "
    "audit, access or all.",
)
BY = typer.Option(
    "client",
    "--by",
    help="Group by client, user, user_agent, source_ip, verb, resource, namespace, "
    "apf_flow_schema, or a comma list of up to three.",
)
LIMIT = typer.Option(None, "--limit", "-l", min=0, help="At most N rows (0: all).")


#: the common filters (queries/_filters.sql) as CLI options: name -> (type, typer option)
FILTER_OPTIONS: dict[str, tuple[Any, Any]] = {
    "since": (str | None, SINCE),
    "until": (str | None, UNTIL),
    "verb": (str | None, VERB),
    "resource": (str | None, RESOURCE),
    "namespace": (str | None, NAMESPACE),
    "user": (str | None, USER),
    "client": (str | None, CLIENT),
    "code": (int | None, CODE),
    "source": (str, SOURCE),
}

F = TypeVar("F", bound=Callable[..., None])


def with_filters(fn: F) -> F:
    """Give a command the common filter options, declared once; it receives them as one
    ``filters`` dict (unset ones left out)."""
    signature = inspect.signature(fn, eval_str=True)
    own = [p for p in signature.parameters.values() if p.name != "filters"]
    common = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=kind)
        for name, (kind, option) in FILTER_OPTIONS.items()
    ]
    own = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own]

    @functools.wraps(fn)
    def wrapper(**options: Any) -> None:
        filters = {name: options.pop(name) for name in FILTER_OPTIONS}
        fn(filters={k: v for k, v in filters.items() if v is not None}, **options)

    wrapper.__signature__ = signature.replace(parameters=own + common)  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def _show(frame: Any, fmt: str, output: Path | None) -> None:
    if fmt != "table" or output is not None:
        emit(frame, fmt, output)
        return
    from k8saudit.analyses import table_view
    from k8saudit.render import render_table

    view = table_view(frame)
    typer.echo(render_table(view.frame, view.right_aligned), nl=False)


#: commands that group requests and take the common filters: name -> --help text
_GROUPED = {
    "throttling": "Who got 429s: count, share of its own requests, share of all 429s, peak "
    "minute, APF priority level and flow schema.",
    "throttled-minutes": "Who filled the API server in the minutes that had 429s: requests and "
    "their share then, 429s received, busy time and its share, per client or --by group.",
    "latency": "Latency percentiles (p50/p90/p99/max) and busy time of non-long-running "
    "requests, per client or --by group.",
    "errors": "4xx/5xx counts and shares, 429s, 401/403 denials and the most frequent error "
    "code, per client or --by group.",
    "watches": "Watches started, the most open at once, per minute, sources, cluster-wide "
    "watches, LISTs (relisting), restarts per hour, selector-scoped watches and median duration, "
    "per client or --by group.",
}


def _register_grouped(command: Any, name: str, summary: str) -> None:
    @command(name, help=summary)
    @with_filters
    def grouped_command(
        filters: dict[str, Any],
        by: str = BY,
        limit: int | None = LIMIT,
        dataset: Path | None = DATASET,
        fmt: str = FORMAT,
        output: Path | None = OUTPUT,
    ) -> None:
        import k8saudit

        with k8saudit.open(dataset) as ds:
            frame = getattr(ds, name.replace("-", "_"))(by=by, limit=limit or None, **filters)
        _show(frame, fmt, output)


#: commands with one row per interval (--every) for the top --limit groups: name -> (--help text,
#: --limit help)
_OVER_TIME = {
    "timeline": (
        "Requests, req/s and 429s per interval for the busiest clients (or --by groups).",
        "Follow the N busiest groups (0: all).",
    ),
    "open-watches": (
        "Watches open at the start of each interval and watches started in it, for the clients "
        "(or --by groups) holding the most watches open at once: a relist storm is the open "
        "count dropping and coming back.",
        "Follow the N groups with the most watches open at once (0: all).",
    ),
}


def _register_over_time(command: Any, name: str, summary: str, limit_help: str) -> None:
    @command(name, help=summary)
    @with_filters
    def over_time_command(
        filters: dict[str, Any],
        by: str = BY,
        every: str = typer.Option("1m", "--every", help="Interval: 10s, 1m, 5m, 1h..."),
        limit: int | None = typer.Option(5, "--limit", "-l", min=0, help=limit_help),
        dataset: Path | None = DATASET,
        fmt: str = FORMAT,
        output: Path | None = OUTPUT,
    ) -> None:
        import k8saudit

        with k8saudit.open(dataset) as ds:
            analysis = getattr(ds, name.replace("-", "_"))
            frame = analysis(by=by, every=every, limit=limit or None, **filters)
        _show(frame, fmt, output)


def register(app: typer.Typer) -> None:
    """Add the analysis commands to ``app`` (behind the CLI's error boundary)."""
    from .app import command

    @command("top-talkers")
    @with_filters
    def top_talkers_command(
        filters: dict[str, Any],
        by: str = BY,
        sort: str = typer.Option("requests", "--sort", help="Rank by this result column."),
        limit: int | None = typer.Option(
            20, "--limit", "-l", min=0, help="At most N rows (0: all)."
        ),
        dataset: Path | None = DATASET,
        fmt: str = FORMAT,
        output: Path | None = OUTPUT,
    ) -> None:
        """Who sends the API server the most work: requests, req/s, shares of requests and of
        API-server time, 429s, 5xx, p50/p99 latency, sources, dominant operation."""
        import k8saudit

        with k8saudit.open(dataset) as ds:
            frame = ds.top_talkers(by=by, sort=sort, limit=limit or None, **filters)
        _show(frame, fmt, output)

    for name, summary in _GROUPED.items():
        _register_grouped(command, name, summary)

    for name, (summary, limit_help) in _OVER_TIME.items():
        _register_over_time(command, name, summary, limit_help)

    @command("queries")
    def queries_command(fmt: str = FORMAT, output: Path | None = OUTPUT) -> None:
        """List the query library: names, parameters and descriptions."""
        import polars as pl

        from k8saudit.query_loader import list_queries

        rows = [
            {"name": q.name, "parameters": ", ".join(q.params), "description": q.description}
            for q in list_queries()
        ]
        schema = {"name": pl.String, "parameters": pl.String, "description": pl.String}
        frame = pl.DataFrame(rows, schema=schema)
        emit(frame.select("name", "description") if fmt == "table" else frame, fmt, output)

    @command("query")
    def query_command(
        name: str = typer.Argument(..., help="A query of `k8saudit queries`."),
        param: list[str] = typer.Option(
            [], "--param", "-p", help="Set a parameter: -p NAME=VALUE."
        ),
        dataset: Path | None = DATASET,
        fmt: str = FORMAT,
        output: Path | None = OUTPUT,
    ) -> None:
        """Run a library query by name with -p NAME=VALUE parameters (see `k8saudit queries`)."""
        import k8saudit

        with k8saudit.open(dataset) as ds:
            frame = ds.query(name, **parse_params(param))
        _show(frame, fmt, output)
