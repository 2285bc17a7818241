"""Writing request rows as Parquet parts, one file per day, in the run's work area.

Every strategy of ``requests`` and the reconciliation in ``commit`` end here: relations that
give the request rows of day ``$day`` as ``day_rows`` (REQUEST columns in order, plus ``day``),
streamed day by day into ``day=YYYY-MM-DD/part-RUN.parquet`` (``sql/write_day.sql``).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

import duckdb

from k8saudit.progress import MergeSteps
from k8saudit.query_loader import compose
from k8saudit.sqlfiles import internal_sql, run_sql
from k8saudit.store import PartEntry

HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"  # Hive's name for the partition of null values


class WrittenPart(NamedTuple):
    """A Parquet part written in the run's work area, and its entry once moved into place."""

    entry: PartEntry
    file: Path


def parse_day(name: str) -> date | None:
    """The day of a partition name (None for Hive's partition of requests without a time).

    >>> parse_day("2019-02-04"), parse_day(HIVE_NULL)
    (datetime.date(2019, 2, 4), None)
    """
    return None if name == HIVE_NULL else date.fromisoformat(name)


def write_materialized(
    con: duckdb.DuckDBPyConnection,
    steps: MergeSteps,
    relations: dict[str, str],
    params: dict[str, Any],
    out: Path,
    run_id: str,
) -> list[WrittenPart]:
    """Materialize the relation ``merged`` of ``relations`` (REQUEST columns + ``day``) once
    (``sql/run_requests.sql``), then write it day by day."""
    steps.add(1)
    with steps.step():
        con.execute(compose(internal_sql("run_requests"), **relations), params).fetchall()
    days = [d for (d,) in run_sql(con, "run_request_days")]
    steps.add(len(days))
    of_day = {"day_rows": internal_sql("run_requests_of_day")}
    return write_days(con, of_day, {}, days, out, run_id, steps)


def write_days(
    con: duckdb.DuckDBPyConnection,
    relations: dict[str, str],
    params: dict[str, Any],
    days: list[date | None],
    out: Path,
    run_id: str,
    steps: MergeSteps,
    reads: int | None = None,
) -> list[WrittenPart]:
    """Write ``day_rows`` of ``relations`` (the rows of day ``$day``) to one Parquet per day.

    Streams each day straight into its file: faster and lighter than materializing the run or
    DuckDB's PARTITION_BY, both of which spill badly under the memory limit. Runs usually span
    one or two days. ``reads``: the bytes of the files each query reads (progress). Returns
    the parts written, with their manifest entries.
    """
    copy = compose(internal_sql("write_day"), **relations)
    parts = []
    for day in days:
        name = day.isoformat() if day is not None else HIVE_NULL
        path = out / f"day={name}" / f"part-{run_id}.parquet"
        path.parent.mkdir(parents=True)
        with steps.step(reads):
            ((rows,),) = con.execute(copy, {**params, "day": day, "out": str(path)}).fetchall()
        if rows:
            relative = f"requests/day={name}/{path.name}"
            parts.append(WrittenPart(PartEntry(relative, name, rows), path))
        else:
            path.unlink()
    return parts
