"""The analysis commands, one per ``queries/*.sql`` file, plus ``queries`` and ``query``.

Nothing here is written per analysis: each command, its options and its ``--help`` come from
the query's header (``k8saudit.query_loader``). The common filter options and ``--by`` are the
parameters ``queries/_filters.sql`` declares, ``--limit``/``--sort``/``--every`` the query's own;
each is typed and defaulted from the declaration (``-- cli:`` where the command's default is
not the library's). A command parses them, calls ``Dataset.answer_rows`` (plain values: no
polars imported; ``Dataset.answer`` for parquet) and renders: for the
terminal table the result goes through ``render_view`` (shares as %, rates as /s, the
terminal's width, the window below it); csv/json/parquet keep the raw numbers and every column;
an empty answer's reason goes to stderr. ``query NAME`` takes every option any analysis
declares, so it reads the same options as the named command. A parameter the header makes an
argument (``-- arg:``) is one here too: ``k8saudit who VERB RESOURCE[/NAME]``.
"""

from __future__ import annotations

import functools
import inspect
from pathlib import Path
from typing import Any

import typer

from k8saudit.params import Param
from k8saudit.query_loader import Query, list_queries

from .boundary import command
from .options import (
    CLI_TYPES,
    DATASET,
    ENGINE,
    FORMAT,
    OUTPUT,
    SHORT,
    SPARK_MASTER,
    answer_in,
    declared_argument,
    declared_option,
    emit,
    engine_of,
    option_help,
    parse_params,
    show_answer,
    terminal_width,
)

#: the options every analysis command has besides its parameters: name -> (type, option)
_COMMON: dict[str, tuple[Any, Any]] = {
    "dataset": (Path | None, DATASET),
    "fmt": (str, FORMAT),
    "output": (Path | None, OUTPUT),
    "engine": (str, ENGINE),
    "spark_master": (str, SPARK_MASTER),
}


def command_name(query: Query) -> str:
    """The command of a query: ``top_talkers`` is ``top-talkers``.

    >>> from k8saudit.query_loader import get_query
    >>> command_name(get_query("top_talkers"))
    'top-talkers'
    """
    return query.name.replace("_", "-")


def _default(query: Query, param: Param) -> Any:
    return query.cli_defaults.get(param.name, param.default)


def _analysis_signature(query: Query) -> inspect.Signature:
    """The options of an analysis's command, typed and defaulted from its header."""
    positional = query.positional
    parameters = [
        declared_argument(p, positional[p.name].metavar, positional[p.name].required)
        if p.name in positional
        else declared_option(p, _default(query, p))
        for p in query.options
    ]
    parameters += [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=kind)
        for name, (kind, option) in _COMMON.items()
    ]
    return inspect.Signature(parameters)


def _register_analysis(app: typer.Typer, query: Query) -> None:
    def run(**options: Any) -> None:
        import k8saudit

        dataset, fmt, output, engine, master = (options.pop(name) for name in _COMMON)
        values = {name: value for name, value in options.items() if value is not None}
        with k8saudit.open(dataset, engine=engine_of(engine, master)) as ds:
            answer = answer_in(ds, query.name, values, fmt, output)
        show_answer(answer, fmt, output)

    run.__name__ = query.name
    signature = functools.partial(_analysis_signature, query)
    command(app, command_name(query), signature, help=query.description)(run)


def command_table() -> str:
    """The rows of the README's command table for the analyses (a test keeps them equal).

    >>> command_table().splitlines()[0][:45]
    '| `k8saudit activity [USER] [--source-ip SOUR'
    """
    rows = []
    for query in list_queries():
        usage = [f"k8saudit {command_name(query)}", *(a.metavar for a in query.args)]
        for param in query.options:
            if param.name in query.own and param.name not in query.positional:
                if param.type == "BOOLEAN":  # the flag that changes the default
                    flag = "--no-" + param.option[2:] if param.default else param.option
                    usage.append(f"[{flag}]")
                    continue
                metavar = "N" if param.type in CLI_TYPES else param.name.upper()
                usage.append(f"[{param.option} {_default(query, param) or metavar}]")
        rows.append(f"| `{' '.join(usage)}` | {query.summary} |")
    return "\n".join(rows) + "\n"


def register(app: typer.Typer) -> None:
    """Add a command per analysis of the library, ``queries`` and ``query`` to ``app``.

    >>> register(new_app())  # doctest: +SKIP
    """
    for query in list_queries():
        _register_analysis(app, query)

    @command(app, "queries")
    def queries_command(fmt: str = FORMAT, output: Path | None = OUTPUT) -> None:
        """List the query library: names, shapes, charts, parameters and whole descriptions."""
        from k8saudit.analyses import library_frame
        from k8saudit.render import render_wrapped

        frame = library_frame()
        if fmt == "table" and output is None:
            typer.echo(
                render_wrapped(frame.select("name", "description"), terminal_width()), nl=False
            )
        else:
            emit(frame, fmt, output)

    _register_query(app)


def _shared_options() -> dict[str, Param]:
    """Every option of any analysis by name (the first declaration's help): what ``query``
    takes, so that ``k8saudit query NAME`` reads the options ``k8saudit NAME`` does."""
    options: dict[str, Param] = {}
    for query in list_queries():
        for param in query.options:
            options.setdefault(param.name, param)
    return options


def _query_signature() -> inspect.Signature:
    """The options of ``query``: the name, ``-p``, every option of any analysis."""
    shared = _shared_options()
    parameters = [
        inspect.Parameter(
            "name", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=str,
            default=typer.Argument(..., help="A query of `k8saudit queries`."),
        ),
        inspect.Parameter(
            "param", inspect.Parameter.KEYWORD_ONLY, annotation=list[str],
            default=typer.Option([], "--param", "-p", help="Set a parameter: -p NAME=VALUE."),
        ),
    ]  # fmt: skip
    for param in shared.values():
        names = [param.option] + ([SHORT[param.name]] if param.name in SHORT else [])
        option = typer.Option(None, *names, help=option_help(param), show_default=False)
        parameters.append(
            inspect.Parameter(
                param.name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=str | None
            )
        )
    parameters += [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=kind)
        for name, (kind, option) in _COMMON.items()
    ]
    return inspect.Signature(parameters)


def _register_query(app: typer.Typer) -> None:
    def run(**options: Any) -> None:
        """Run a library query by name with the options of its command, or -p NAME=VALUE
        (see `k8saudit queries`)."""
        import k8saudit
        from k8saudit.query_loader import get_query

        dataset, fmt, output, engine, master = (options.pop(name) for name in _COMMON)
        name, items = options.pop("name"), options.pop("param")
        query = get_query(name)
        values = {**query.cli_defaults, **parse_params(items)}
        values.update({key: value for key, value in options.items() if value is not None})
        with k8saudit.open(dataset, engine=engine_of(engine, master)) as ds:
            answer = answer_in(ds, query.name, values, fmt, output)
        show_answer(answer, fmt, output)

    command(app, "query", _query_signature)(run)
