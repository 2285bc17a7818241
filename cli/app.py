"""The typer application and its single error boundary.

``main()`` is the console-script entry point: it runs the typer app and turns every
``K8sAuditError`` into one red stderr line plus the documented exit code. ``--debug`` (anywhere on
the command line) lets the traceback through instead. Typer's pretty exceptions are disabled
because they print local variables, and audit payloads can hold secrets.
"""

from __future__ import annotations

import os
import sys

import click
import typer

from k8saudit.errors import ExitCode, K8sAuditError

app = typer.Typer(
    name="k8saudit",
    help="Find out who is overloading your Kubernetes API server, from its audit and access logs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks instead of one-line errors."),
) -> None:
    """Find out who is overloading your Kubernetes API server, from its audit and access logs.

    Start with `k8saudit ingest LOGS...` then `k8saudit info`. The dataset lives in ./k8saudit-data
    unless --dataset or K8SAUDIT_DATASET says otherwise.
    """


def _error_line(message: str) -> None:
    color = sys.stderr.isatty() and "NO_COLOR" not in os.environ
    prefix = "\x1b[31merror:\x1b[0m " if color else "error: "
    sys.stderr.write(prefix + message + "\n")


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; the only place that maps exceptions to exit codes."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        app(args=args, prog_name="k8saudit", standalone_mode=False)
    except K8sAuditError as exc:
        if debug:
            raise
        _error_line(str(exc))
        sys.exit(int(exc.exit_code))
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt):
        _error_line("interrupted; the dataset is as it was before this run")
        sys.exit(int(ExitCode.INTERRUPTED))
    except BrokenPipeError:
        # stdout closed by `| head`: not an error
        sys.stderr.close()
        sys.exit(int(ExitCode.OK))
    sys.exit(int(ExitCode.OK))


# Commands register themselves on `app` when their module is imported.
from . import dataset_commands  # noqa: E402, F401
