"""A DuckDB connection holding the ``requests`` view over the Parquet parts a manifest lists.

The lowest layer that reads a dataset: ``Dataset`` (the query side) opens its connection here,
and so can the ingest side, which needs the view but none of the analyses. The view
(``k8saudit/sql/requests_view.sql``) reads exactly the parts the manifest lists, so a
half-finished ingest is never visible; every connection gets the shared macros
(``k8saudit/sql/macros.sql``: ``is_complete``, ``group_key``...).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from k8saudit.interrupts import watch
from k8saudit.sqlfiles import create_macros, internal_sql, run_sql
from k8saudit.store import Manifest

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa


def connect(root: Path, manifest: Manifest) -> duckdb.DuckDBPyConnection:
    """A new in-memory DuckDB connection with the ``requests`` view of the dataset at ``root``.

    >>> connect(root, read_manifest(root)).sql("SELECT count(*) FROM requests")  # doctest: +SKIP
    """
    import duckdb

    from k8saudit.schema import REQUEST_SCHEMA

    con = watch(duckdb.connect())
    con.execute("SET TimeZone = 'UTC'").fetchall()
    con.execute("SET enable_progress_bar = false").fetchall()
    create_macros(con)
    empty = REQUEST_SCHEMA.empty_table()
    con.register("_request_schema", empty)
    con.execute("SET VARIABLE request_columns = $names", {"names": empty.column_names})
    if manifest.parts:
        files = [str(root / p.path) for p in manifest.parts]
        con.execute("SET VARIABLE request_parts = $files", {"files": files})
        con.execute(internal_sql("request_parts")).fetchall()
    else:
        con.register("_request_parts", empty)
    con.execute(internal_sql("requests_view")).fetchall()
    con.register("_observed", _observed_spans(manifest))
    run_sql(con, "observation")
    return con


def _observed_spans(manifest: Manifest) -> pa.Table:
    """The observed spans of every ingested file (apiserver, first, last) as an Arrow table."""
    import pyarrow as pa

    spans = [span for entry in manifest.files for span in entry.observed]
    schema = pa.schema(
        [("apiserver", pa.string()), ("first", pa.timestamp("us", "UTC")),
         ("last", pa.timestamp("us", "UTC"))]
    )  # fmt: skip
    columns = {
        "apiserver": [s.apiserver for s in spans],
        "first": [datetime.fromisoformat(s.first) for s in spans],
        "last": [datetime.fromisoformat(s.last) for s in spans],
    }
    return pa.Table.from_pydict(columns, schema=schema)
