"""DuckDB's engine, imported at the cost of the engine alone: ``engine`` is its extension module.

DuckDB 2.0's ``duckdb`` package is its extension module ``_duckdb`` (connections, statements,
results, exceptions), re-exported name for name, plus a relational API written in Python
(``duckdb._relation``, the expression builder) and a version read through
``importlib.metadata``. Importing the package takes ~50 ms more than the extension's ~15 ms: a
quarter of a command on a small dataset. A statement run through ``execute`` (every command's
query) needs only the extension. The relational API (``DuckDBPyConnection.sql``, a relation
read by polars) and scans of Arrow tables (``register``) join every connection, those already
made too, once ``duckdb`` is imported: ``Dataset.sql`` and the ingest package import it. A
DuckDB without a separate extension module is imported whole.

>>> engine.connect().execute("SELECT 42").fetchall()
[(42,)]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb as engine
else:
    try:
        import _duckdb as engine
    except ImportError:  # pragma: no cover - a DuckDB whose package is all there is
        import duckdb as engine

__all__ = ["engine"]
