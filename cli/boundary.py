"""The CLI's boundary: the typer app, the error boundary every command runs behind, error lines.

It imports nothing of the CLI, so every command module can import it and ``cli/app.py``
assembles them without an import cycle. ``command(app, name)`` registers a function behind the
boundary, which turns a ``K8sAuditError`` into one red stderr line and the documented exit code
(``k8saudit.exceptions.ExitCode``), Ctrl-C into exit 130 (SIGTERM: 143), a full disk into "no
space left on PATH", and any other exception into one "internal error" line and exit 1.
``--debug`` lets tracebacks through instead, with the same exit codes for user errors. Typer's
pretty exceptions are disabled because they print local variables, and audit payloads can hold
secrets.

A command runs on a worker thread while the main thread waits for it: the main thread takes the
signal at once even while DuckDB runs a long query in C, interrupts the queries
(``k8saudit.interrupts``), and waits for the command to unwind through its ``finally`` blocks.
"""

from __future__ import annotations

import errno
import functools
import inspect
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from typer.core import TyperGroup
from typer.main import get_command_from_info, get_command_name, get_group
from typer.models import CommandInfo

from k8saudit.exceptions import ExitCode, K8sAuditError, first_line

F = TypeVar("F", bound=Callable[..., Any])

_debug = False


class DeclaredCommands(TyperGroup):
    """A typer group whose commands become click commands (their options, types and help
    converted from the typer declarations) only when one is invoked: a command does not pay
    for converting the forty others (0.03-0.04 s). Listing them (``k8saudit --help``) converts
    none: each is listed with its declared help, as typer would show it; a name that is no
    command converts them all, for typer's "did you mean" to choose from. ``command_group``
    makes one of an app; an app run as typer runs it (``CliRunner().invoke(app)``) converts
    every command first and never has any left to convert.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: the declarations of the commands not converted yet, by name, in their order
        self.declared: dict[str, CommandInfo] = {}
        self._listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *self.declared]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        info = self.declared.get(cmd_name)
        if info is not None and self._listing:  # only its name and help are read
            return typer.core.TyperCommand(
                cmd_name,
                help=_declared_help(info),
                short_help=info.short_help,
                hidden=info.hidden,
                deprecated=info.deprecated,
            )
        if info is not None:
            del self.declared[cmd_name]
            self.commands[cmd_name] = get_command_from_info(
                info, pretty_exceptions_short=False, rich_markup_mode=self.rich_markup_mode
            )
        return super().get_command(ctx, cmd_name)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] not in self.declared and args[0] not in self.commands:
            # no such command: typer suggests the nearest names among the converted ones
            for name in list(self.declared):
                self.get_command(ctx, name)
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_commands(ctx, formatter)
        finally:
            self._listing = False


def _declared_help(info: CommandInfo) -> str | None:
    """A command's help as typer gives it: the declared ``help``, else the docstring."""
    if info.help is None:
        return inspect.getdoc(info.callback)
    return inspect.cleandoc(info.help)


def command_group(app: typer.Typer) -> DeclaredCommands:
    """``app`` as a click group that converts only the command it runs (``DeclaredCommands``).

    >>> command_group(app)(["top-talkers", "--limit", "3"])  # doctest: +SKIP
    """
    declared, app.registered_commands = app.registered_commands, []
    try:
        group = get_group(app)
    finally:
        app.registered_commands = declared
    assert isinstance(group, DeclaredCommands)
    for info in declared:
        assert info.callback is not None
        group.declared[info.name or get_command_name(info.callback.__name__)] = info
    return group


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
        cls=DeclaredCommands,
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


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread by the handler ``cli.app.main`` installs."""


#: how long an interrupted command may take to unwind (remove its work area, release its lock)
UNWIND_SECONDS = 30.0
#: how long DuckDB interrupts are given before the command, busy in Python, is interrupted too
PYTHON_GRACE_SECONDS = 1.0


def run_interruptibly(fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    """``fn(*args, **kw)`` on a worker thread; Ctrl-C (or SIGTERM) while it runs interrupts its
    DuckDB queries, waits for it to unwind and raises ``KeyboardInterrupt`` (``Terminated``)."""
    from k8saudit.interrupts import interrupt_all

    outcome: dict[str, Any] = {}
    done = threading.Event()  # not Thread.join: a join a signal interrupted can return early

    def target() -> None:
        try:
            outcome["value"] = fn(*args, **kw)
        except BaseException as exc:  # re-raised on the main thread below
            outcome["error"] = exc
        finally:
            done.set()

    worker = threading.Thread(target=target, name="k8saudit-command", daemon=True)
    worker.start()
    try:
        while not done.wait(0.1):
            pass
    except KeyboardInterrupt:
        # again and again: a query the command starts after the first interrupt stops too
        started = time.monotonic()
        interrupt_all()
        nudged = False
        while not done.wait(0.05) and time.monotonic() < started + UNWIND_SECONDS:
            interrupt_all()
            if not nudged and time.monotonic() > started + PYTHON_GRACE_SECONDS:
                _raise_in(worker, KeyboardInterrupt)  # it is in Python code, not in a query
                nudged = True
        raise
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def _traceback_if_debug() -> None:
    if _debug:
        traceback.print_exc(file=sys.stderr)


def _raise_in(thread: threading.Thread, exc_type: type[BaseException]) -> None:
    """Raise ``exc_type`` in ``thread`` at its next Python instruction."""
    import ctypes

    if thread.ident is not None:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(
            ctypes.c_ulong(thread.ident), ctypes.py_object(exc_type)
        )


def _is_no_space(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return True
    return "No space left on device" in str(exc)


class _DeclaredLater:
    """A command's callback whose signature (its options, as typer reads them) is built the
    first time typer asks for it: when the command is made (``DeclaredCommands``), so that
    starting one command does not build the options of the forty others (~4 ms)."""

    def __init__(self, fn: Callable[..., Any], signature: Callable[[], inspect.Signature]):
        functools.update_wrapper(self, fn)
        self._fn = fn
        self._signature = signature

    def __call__(self, *args: Any, **kw: Any) -> Any:
        return self._fn(*args, **kw)

    @functools.cached_property
    def __signature__(self) -> inspect.Signature:
        return self._signature()


def command(
    app: typer.Typer,
    name: str,
    signature: Callable[[], inspect.Signature] | None = None,
    **kwargs: Any,
) -> Callable[[F], F]:
    """Register a CLI command on ``app`` behind the error boundary; ``signature``, if given,
    builds the function's signature (its options) when the command is made.

    >>> @command(app, "hello")  # doctest: +SKIP
    ... def hello() -> None: ...
    """

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kw: Any) -> Any:
            try:
                return run_interruptibly(fn, *args, **kw)
            except (typer.Exit, typer.Abort):
                raise  # typer's own exits
            except K8sAuditError as exc:
                _traceback_if_debug()  # --debug shows it, and keeps the documented exit code
                error_line(str(exc))
                raise typer.Exit(int(exc.exit_code)) from None
            except KeyboardInterrupt as exc:
                _traceback_if_debug()
                terminated = isinstance(exc, Terminated)
                error_line(
                    ("terminated" if terminated else "interrupted")
                    + "; the dataset is as it was before this command"
                )
                code = ExitCode.TERMINATED if terminated else ExitCode.INTERRUPTED
                raise typer.Exit(int(code)) from None
            except BrokenPipeError:
                raise  # stdout closed early (`| head`): cli.app.main makes it exit 0
            except Exception as exc:
                if _is_no_space(exc):
                    _traceback_if_debug()
                    where = getattr(exc, "filename", None) or "the disk"
                    error_line(f"no space left on {where}")
                    raise typer.Exit(int(ExitCode.DATASET)) from None
                if _debug:
                    raise
                error_line(
                    f"internal error: {type(exc).__name__}: {first_line(exc) if str(exc) else ''}"
                    " (rerun with --debug for the traceback)"
                )
                raise typer.Exit(int(ExitCode.INTERNAL)) from None

        app.command(name, **kwargs)(
            wrapper if signature is None else _DeclaredLater(wrapper, signature)
        )
        return fn

    return decorate
