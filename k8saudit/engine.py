"""DuckDB's engine, imported at the cost of the engine alone: ``engine`` is its extension module.

DuckDB 2.0's ``duckdb`` package is its extension module ``_duckdb`` (connections, statements,
results, exceptions), re-exported name for name, plus a relational API written in Python
(``duckdb._relation``, the expression builder) and a version read through
``importlib.metadata``. Importing the package takes ~50 ms more than the extension's ~15 ms: a
quarter of a command on a small dataset. What k8saudit runs through ``execute`` (every command's
query, ingest's statements) needs only the extension; the relational API
(``DuckDBPyConnection.sql``, a relation read by polars) joins every connection, those already
made too, once ``duckdb`` is imported, as ``Dataset.sql`` does. A DuckDB without a separate
extension module is imported whole.

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
