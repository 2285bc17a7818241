"""``k8saudit.open``: a dataset as DuckDB views and polars frames.

The ``requests`` view (one row per API request, ``schema.REQUEST_SCHEMA``) reads exactly the
Parquet parts the manifest lists, so a half-finished ingest is never visible. Every query,
``k8saudit sql`` and the notebook API read it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from k8saudit.analyses import Analyses
from k8saudit.exceptions import DatasetError, QueryError, first_line
from k8saudit.store import Manifest, read_manifest, resolve_dataset

if TYPE_CHECKING:
    import duckdb
    import polars as pl


@dataclass
class Info:
    """A summary of what a dataset holds (``Dataset.info()``)."""

    files: int
    rejects: int
    requests: int
    first: datetime | None
    last: datetime | None
    time_notes: list[str] = field(default_factory=list)
    tables: dict[str, pl.DataFrame] = field(default_factory=dict)


class Dataset(Analyses):
    """An ingested dataset, ready to query.

    >>> ds = k8saudit.open("k8saudit-data")  # doctest: +SKIP
    >>> ds.sql("SELECT verb, count(*) AS n FROM requests GROUP BY verb")  # doctest: +SKIP
    shape: (5, 2) ...
    """

    def __init__(self, root: Path, manifest: Manifest) -> None:
        self.root = root
        self.manifest = manifest
        self._con: duckdb.DuckDBPyConnection | None = None

    @property
    def duckdb(self) -> duckdb.DuckDBPyConnection:
        """The DuckDB connection holding the ``requests`` view (created on first use)."""
        if self._con is None:
            self._con = _connect(self)
        return self._con

    def sql(self, query: str, **params: Any) -> pl.DataFrame:
        """Run SQL over the views with named parameters bound (``$name``), as a polars DataFrame.

        >>> ds.sql("SELECT count(*) FROM requests WHERE client = $c", c="kubelet")  # doctest: +SKIP
        """
        import duckdb
        import polars as pl

        try:
            table = self.duckdb.sql(query, params=params or None).to_arrow_table()
        except duckdb.Error as exc:
            raise QueryError(first_line(exc)) from exc
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        return frame

    def requests(self) -> pl.LazyFrame:
        """The request table as a polars LazyFrame (scans the Parquet parts lazily)."""
        import polars as pl

        from k8saudit.schema import REQUEST_SCHEMA

        if not self.manifest.parts:
            return pl.from_arrow(REQUEST_SCHEMA.empty_table()).lazy()  # type: ignore[union-attr]
        files = [str(self.root / p.path) for p in self.manifest.parts]
        # parts written before a column was added lack it: it reads as nulls
        schema = pl.from_arrow(REQUEST_SCHEMA.empty_table()).schema  # type: ignore[union-attr]
        return pl.scan_parquet(
            files,
            hive_partitioning=False,
            schema=schema,
            missing_columns="insert",
            extra_columns="ignore",
        )

    def rejects(self) -> Iterator[dict[str, Any]]:
        """Rejected input records: ``{"file", "line", "reason", "text"}``, oldest run first."""
        for name in self.manifest.rejects:
            with (self.root / name).open() as fh:
                for line in fh:
                    yield json.loads(line)

    def rejects_frame(self, limit: int | None = None) -> pl.DataFrame:
        """Rejected records as a DataFrame (file, line, reason, text), at most ``limit`` rows."""
        import itertools

        import polars as pl

        rows = list(itertools.islice(self.rejects(), limit))
        schema = {"file": pl.String, "line": pl.Int64, "reason": pl.String, "text": pl.String}
        return pl.DataFrame(rows, schema=schema)

    def info(self) -> Info:
        """Time span, requests by format, top clients, apiservers, rejects.

        >>> k8saudit.open().info().requests  # doctest: +SKIP
        30573
        """
        span = self.sql(
            "SELECT count(*) AS n, min(received_at) AS a, max(received_at) AS b FROM requests"
        )
        n, first, last = span.row(0)
        notes = sorted({f"{f.path}: {f.time_source}" for f in self.manifest.files if f.time_source})
        tables = {
            "requests by log format": self.sql(
                "SELECT log_format, count(*) AS requests FROM requests GROUP BY ALL ORDER BY 2 DESC"
            ),
            "top clients": self.sql(
                "SELECT coalesce(client, '(no user agent)') AS client, count(*) AS requests "
                "FROM requests GROUP BY ALL ORDER BY 2 DESC, 1 LIMIT 10"
            ),
            "apiservers": self.sql(
                "SELECT coalesce(apiserver, '(not stated)') AS apiserver, count(*) AS requests "
                "FROM requests GROUP BY ALL ORDER BY 2 DESC, 1"
            ),
        }
        rejects = sum(f.rejected for f in self.manifest.files)
        return Info(len(self.manifest.files), rejects, n, first, last, notes, tables)

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    def __enter__(self) -> Dataset:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _connect(ds: Dataset) -> duckdb.DuckDBPyConnection:
    import duckdb

    from k8saudit.schema import REQUEST_SCHEMA

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'").fetchall()
    con.execute("SET enable_progress_bar = false").fetchall()
    columns = ", ".join(f'"{name}"' for name in REQUEST_SCHEMA.names)
    # The empty table of the current schema is the base: columns that parts written by an older
    # k8saudit lack read as NULL (UNION ALL BY NAME), so adding a column never breaks a dataset.
    con.register("_request_schema", REQUEST_SCHEMA.empty_table())
    source = "SELECT * FROM _request_schema"
    if ds.manifest.parts:
        files = [str(ds.root / p.path) for p in ds.manifest.parts]
        source += (
            " UNION ALL BY NAME SELECT * FROM read_parquet("
            f"{_list_literal(files)}, hive_partitioning = false, union_by_name = true)"
        )
    con.execute(f"CREATE VIEW requests AS SELECT {columns} FROM ({source})").fetchall()
    return con


def _list_literal(values: list[str]) -> str:
    # Views cannot hold bound parameters; the paths are the dataset's own files, quoted safely.
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def open(dataset: str | os.PathLike[str] | None = None, *, must_exist: bool = True) -> Dataset:
    """Open a dataset (default: ``$K8SAUDIT_DATASET`` or ./k8saudit-data).

    >>> ds = k8saudit.open()  # doctest: +SKIP
    """
    root = resolve_dataset(dataset)
    if must_exist and not (root / "manifest.json").exists():
        raise DatasetError(
            f"{root}: no k8saudit dataset here", hint="run `k8saudit ingest LOGS...` first"
        )
    return Dataset(root, read_manifest(root))
