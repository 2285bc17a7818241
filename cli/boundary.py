"""The CLI's boundary: the typer app, the error boundary every command runs behind, error lines.

It imports nothing of the CLI, so every command module can import it and ``cli/app.py``
assembles them without an import cycle. ``command(app, name)`` registers a function behind the
boundary, which turns a ``K8sAuditError`` into one red stderr line and the documented exit code
(``k8saudit.exceptions.ExitCode``) and Ctrl-C into exit 130. ``--debug`` lets tracebacks through
instead. Typer's pretty exceptions are disabled because they print local variables, and audit
payloads can hold secrets.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer

from k8saudit.exceptions import ExitCode, K8sAuditError

F = TypeVar("F", bound=Callable[..., Any])

_debug = False


def new_app() -> typer.Typer:
    """The ``k8saudit`` typer application with its ``--debug`` option and no commands yet.

    >>> new_app().info.name
    'k8saudit'
    """
    app = typer.Typer(
        name="k8saudit",
        help="Find out who is overloading your Kubernetes API server, from its audit and access "
        "logs.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )

    @app.callback()
    def _root(
        debug: bool = typer.Option(
            False, "--debug", help="Show tracebacks instead of one-line errors."
        ),
    ) -> None:
        """Find out who is overloading your Kubernetes API server, from its audit and access logs.

        Start with `k8saudit ingest LOGS...`, then `k8saudit info`. The dataset lives in
        ./k8saudit-data unless --dataset or K8SAUDIT_DATASET says otherwise.
        """
        global _debug
        _debug = debug

    return app


def error_line(message: str) -> None:
    """Print one error line on stderr (red on a terminal, unless ``NO_COLOR`` is set).

    >>> error_line("no k8saudit dataset here")  # doctest: +SKIP
    error: no k8saudit dataset here
    """
    from k8saudit.tables import escape_text

    color = sys.stderr.isatty() and "NO_COLOR" not in os.environ
    prefix = "\x1b[31merror:\x1b[0m " if color else "error: "
    # messages quote file names and values from logs: never let one drive the terminal
    sys.stderr.write(prefix + escape_text(message) + "\n")


def command(app: typer.Typer, name: str, **kwargs: Any) -> Callable[[F], F]:
    """Register a CLI command on ``app`` behind the error boundary.

    >>> @command(app, "hello")  # doctest: +SKIP
    ... def hello() -> None: ...
    """

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kw: Any) -> Any:
            try:
                return fn(*args, **kw)
            except K8sAuditError as exc:
                if _debug:
                    raise
                error_line(str(exc))
                raise typer.Exit(int(exc.exit_code)) from None
            except KeyboardInterrupt:
                if _debug:
                    raise
                error_line("interrupted; the dataset is as it was before this command")
                raise typer.Exit(int(ExitCode.INTERRUPTED)) from None

        app.command(name, **kwargs)(wrapper)
        return fn

    return decorate
