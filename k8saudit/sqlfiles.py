"""Loading the internal SQL of the ingest pipeline (``k8saudit/sql/*.sql``) from package data."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb


@cache
def internal_sql(name: str) -> str:
    """The text of ``k8saudit/sql/<name>.sql`` (header comments included)."""
    return resources.files("k8saudit.sql").joinpath(f"{name}.sql").read_text()


def create_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Create the shared macros (``k8saudit/sql/macros.sql``) on a DuckDB connection."""
    con.execute(internal_sql("macros")).fetchall()
