"""One error hierarchy for everything a user can get wrong.

The library raises these; the CLI boundary (``k8saudit.cli``) turns each into one stderr line and
the documented exit code below. Anything else that escapes is a bug and shows a traceback only with
``--debug``.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Documented process exit codes of the ``k8saudit`` command."""

    OK = 0
    #: an unexpected internal error (a bug): please report it with ``--debug`` output
    INTERNAL = 1
    #: bad command-line usage (unknown option, bad value); typer/click's own code
    USAGE = 2
    #: an input path does not exist or holds no log file k8saudit can read
    INPUT = 3
    #: the dataset is missing, empty, locked by another ingest, or damaged; or no space is left
    #: to write it (the dataset is left as it was)
    DATASET = 4
    #: a query failed (bad SQL, unknown parameter)
    QUERY = 5
    #: interrupted (Ctrl-C); the dataset is left as it was before the run
    INTERRUPTED = 130
    #: terminated (SIGTERM); the dataset is left as it was, the lock released, temp files removed
    TERMINATED = 143


class K8sAuditError(Exception):
    """Base class of the errors a user can fix; ``hint`` says how."""

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class InputError(K8sAuditError):
    """An input path is missing or unreadable."""

    exit_code = ExitCode.INPUT


class DatasetError(K8sAuditError):
    """The dataset is missing, empty, locked or damaged."""

    exit_code = ExitCode.DATASET


class DatasetLockedError(DatasetError):
    """Another ``k8saudit ingest`` holds the dataset's lock."""


class NoSpaceError(DatasetError):
    """The disk filled up while the dataset (or its work area) was written."""


class QueryError(K8sAuditError):
    """A query could not be loaded or run."""

    exit_code = ExitCode.QUERY


class UsageError(K8sAuditError):
    """An option value the library cannot use (bad time, bad format name)."""

    exit_code = ExitCode.USAGE


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (DuckDB's run on with context and hints)."""
    return str(exc).strip().splitlines()[0]
