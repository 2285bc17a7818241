"""A DuckDB connection holding the ``requests`` view over the Parquet parts a manifest lists.

The lowest layer that reads a dataset: ``Dataset`` (the query side) opens its connection here,
and so can the ingest side, which needs the view but none of the analyses. The view reads exactly
the parts the manifest lists, so a half-finished ingest is never visible; every connection gets
the shared macros (``k8saudit/sql/macros.sql``: ``is_complete``, ``group_key``...).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from k8saudit.sqlfiles import create_macros
from k8saudit.store import Manifest

if TYPE_CHECKING:
    import duckdb


def connect(root: Path, manifest: Manifest) -> duckdb.DuckDBPyConnection:
    """A new in-memory DuckDB connection with the ``requests`` view of the dataset at ``root``.

    >>> connect(root, read_manifest(root)).sql("SELECT count(*) FROM requests")  # doctest: +SKIP
    """
    import duckdb

    from k8saudit.schema import REQUEST_SCHEMA

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'").fetchall()
    con.execute("SET enable_progress_bar = false").fetchall()
    create_macros(con)
    columns = ", ".join(f'"{name}"' for name in REQUEST_SCHEMA.names)
    # The empty table of the current schema is the base: columns that parts written by an older
    # k8saudit lack read as NULL (UNION ALL BY NAME), so adding a column never breaks a dataset.
    con.register("_request_schema", REQUEST_SCHEMA.empty_table())
    source = "SELECT * FROM _request_schema"
    if manifest.parts:
        files = [str(root / p.path) for p in manifest.parts]
        source += (
            " UNION ALL BY NAME SELECT * FROM read_parquet("
            f"{_list_literal(files)}, hive_partitioning = false, union_by_name = true)"
        )
    con.execute(f"CREATE VIEW requests AS SELECT {columns} FROM ({source})").fetchall()
    return con


def _list_literal(values: list[str]) -> str:
    # Views cannot hold bound parameters; the paths are the dataset's own files, quoted safely.
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"
