"""Stopping DuckDB work on Ctrl-C: the connections k8saudit opens, so that they can be told.

A DuckDB query runs in C without returning to Python, so a signal is not acted on until it ends
(a long ``sql`` ignored Ctrl-C). The CLI runs each command on a worker thread and, when the main
thread gets SIGINT or SIGTERM, calls ``interrupt_all()``: every connection opened through
``watch`` is interrupted (its query raises ``duckdb.InterruptException``), the command unwinds
through its ``finally`` blocks (an ingest removes its work area and releases its lock) and
nothing it had not committed is kept.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

_connections: weakref.WeakSet[duckdb.DuckDBPyConnection] = weakref.WeakSet()
_lock = threading.Lock()


def watch(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Remember ``con`` so that ``interrupt_all`` can stop its query; returns it.

    >>> import duckdb
    >>> watch(duckdb.connect()) is not None
    True
    """
    with _lock:
        _connections.add(con)
    return con


def interrupt_all() -> None:
    """Interrupt the query running on each watched connection (a closed one is skipped)."""
    with _lock:
        connections = list(_connections)
    for con in connections:
        with contextlib.suppress(Exception):  # closed already: nothing to stop
            con.interrupt()
