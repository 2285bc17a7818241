"""A DuckDB connection holding the ``requests`` view over the Parquet parts a manifest lists.

The lowest layer that reads a dataset: ``Dataset`` (the query side) opens its connection here,
and so can the ingest side, which needs the view but none of the analyses. The view
(``k8saudit/sql/requests_view.sql``) reads exactly the parts the manifest lists, so a
half-finished ingest is never visible; every connection gets the shared macros
(``k8saudit/sql/macros.sql``: ``is_complete``, ``group_key``...).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from k8saudit.interrupts import watch
from k8saudit.progress import track_progress
from k8saudit.sqlfiles import create_macros, internal_sql, run_sql
from k8saudit.store import Manifest

if TYPE_CHECKING:
    import duckdb


def connect(root: Path, manifest: Manifest) -> duckdb.DuckDBPyConnection:
    """A new in-memory DuckDB connection with the ``requests`` view of the dataset at ``root``.

    Nothing here imports pyarrow: the schema's empty table and the observed spans are DuckDB
    tables, so that a query command does not pay for importing it.

    >>> connect(root, read_manifest(root)).sql("SELECT count(*) FROM requests")  # doctest: +SKIP
    """
    from k8saudit.engine import engine
    from k8saudit.schema import REQUEST_COLUMNS, REQUEST_TYPES

    con = watch(engine.connect())
    con.execute("SET TimeZone = 'UTC'").fetchall()
    # an ASOF join is never planned as a nested loop: DuckDB picks one when it estimates the
    # probing side under 64 rows, and open_watches' grid of intervals is estimated at 5 rows
    # where it has thousands (1.7 k intervals x 5 groups: 37 s instead of 1 on 10 M requests)
    con.execute("SET asof_loop_join_threshold = 0").fetchall()
    # the parts' Parquet footers read once per connection, not at every binding of the view
    # (each reference to `requests` in a statement reads all of them: on 10.1 M requests in
    # 33 parts, planning inflight_peaks took 96 ms against 121-165 ms); parts never change
    con.execute("SET parquet_metadata_cache = true").fetchall()
    track_progress(con, False)
    create_macros(con)
    con.execute(_schema_table_sql()).fetchall()
    con.execute("SET VARIABLE request_columns = $names", {"names": list(REQUEST_COLUMNS)})
    if manifest.parts:
        files = [str(root / p.path) for p in manifest.parts]
        con.execute("SET VARIABLE request_parts = $files", {"files": files})
        con.execute(internal_sql("request_parts")).fetchall()
        parts, schema = _columns(con, "_request_parts"), _columns(con, "_request_schema")
        known = [column for column in parts if column[0] in REQUEST_TYPES]
        view = (
            "requests_view_exact"
            if parts == schema
            else "requests_view_complete"
            if known == schema
            else "requests_view"
        )
    else:
        con.execute("CREATE TEMP VIEW _request_parts AS FROM _request_schema").fetchall()
        view = "requests_view_exact"
    con.execute(internal_sql(view)).fetchall()
    spans = [span for entry in manifest.files for span in entry.observed]
    run_sql(
        con,
        "observed_table",
        apiservers=[s.apiserver for s in spans],
        firsts=[s.first for s in spans],
        lasts=[s.last for s in spans],
    )
    # the manifest says whether the spans table has rows: the view without the fallback if so
    run_sql(con, "observation_spans" if spans else "observation")
    run_sql(con, "observation_window")
    return con


def _schema_table_sql() -> str:
    """The DDL of ``_request_schema``, the empty table of the request schema. Its names and
    types are the schema's own (``schema.REQUEST_TYPES``), never a user's value."""
    from k8saudit.schema import REQUEST_TYPES

    columns = ", ".join(f'"{name}" {kind}' for name, kind in REQUEST_TYPES.items())
    return f"CREATE TEMP TABLE _request_schema ({columns})"


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str]]:
    """The (name, type) of the columns of ``relation``, in its order (``relation`` is one of
    this module's own)."""
    described = con.execute(f"DESCRIBE {relation}").fetchall()
    return [(name, kind) for name, kind, *_ in described]
