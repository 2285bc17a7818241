"""The ``requests`` view a connection opens: parts alone when they hold every column, the
union with the schema's empty table when an older part lacks one."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path

import duckdb

import k8saudit
from k8saudit.dataset import ROW_GROUP_ROWS, Dataset
from k8saudit.schema import REQUEST_COLUMNS
from k8saudit.store import read_manifest, write_manifest

from .helpers import event, jsonl

REPO = Path(__file__).resolve().parents[1]


def _dataset(tmp_path: Path) -> Path:
    logs = jsonl(tmp_path / "audit.log", [event("a"), event("b", verb="get"), event("c")])
    root = tmp_path / "ds"
    k8saudit.ingest([logs], dataset=root)
    return root


def _view_sql(ds: k8saudit.Dataset) -> str:
    ((sql,),) = ds.duckdb.execute(
        "SELECT sql FROM duckdb_views() WHERE view_name = 'requests'"
    ).fetchall()
    return str(sql)


def test_complete_parts_are_read_alone(tmp_path: Path) -> None:
    with k8saudit.open(_dataset(tmp_path)) as ds:
        assert "UNION" not in _view_sql(ds).upper()
        assert ds.sql("SELECT count(*) AS n FROM requests")["n"].to_list() == [3]
        assert tuple(ds.sql("SELECT * FROM requests").columns) == REQUEST_COLUMNS


def test_a_part_with_a_column_of_a_newer_schema_reads_the_schema_columns(tmp_path: Path) -> None:
    root = _dataset(tmp_path)
    with k8saudit.open(root) as ds:
        assert "SELECT *" in _view_sql(ds)  # exactly the schema's columns: the parts as they are
    (part,) = read_manifest(root).parts
    path = str(root / part.path)
    con = duckdb.connect()
    con.execute("CREATE TABLE newer AS SELECT *, 1 AS future FROM read_parquet($p)", {"p": path})
    con.execute("COPY newer TO $p (FORMAT parquet)", {"p": path})
    with k8saudit.open(root) as ds:
        assert "list_contains" in _view_sql(ds) and "UNION" not in _view_sql(ds).upper()
        assert tuple(ds.sql("SELECT * FROM requests").columns) == REQUEST_COLUMNS
        assert ds.sql("SELECT count(*) AS n FROM requests")["n"].to_list() == [3]


def test_a_part_without_a_column_reads_it_as_null(tmp_path: Path) -> None:
    root = _dataset(tmp_path)
    (part,) = read_manifest(root).parts
    path = str(root / part.path)
    con = duckdb.connect()
    # an older k8saudit's part: without two of today's columns
    con.execute(
        "CREATE TABLE old AS SELECT * EXCLUDE (has_access, verb) FROM read_parquet($p)", {"p": path}
    )
    con.execute("COPY old TO $p (FORMAT parquet)", {"p": path})
    with k8saudit.open(root) as ds:
        assert "UNION" in _view_sql(ds).upper()
        frame = ds.sql("SELECT * FROM requests ORDER BY audit_id")
        assert tuple(frame.columns) == REQUEST_COLUMNS
        assert frame["audit_id"].to_list() == ["a", "b", "c"]
        assert frame["verb"].to_list() == [None, None, None]
        assert frame["has_access"].to_list() == [None, None, None]
        assert ds.sql("SELECT count(*) AS n FROM requests")["n"].to_list() == [3]


def _threads(ds: k8saudit.Dataset) -> int:
    ((threads,),) = ds.duckdb.execute("SELECT current_setting('threads')").fetchall()
    return int(threads)


def test_a_dataset_of_one_row_group_has_one_duckdb_thread(tmp_path: Path) -> None:
    root = _dataset(tmp_path)
    with k8saudit.open(root) as ds:
        assert _threads(ds) == 1
    manifest = read_manifest(root)
    (part,) = manifest.parts
    bigger = dataclasses.replace(manifest, parts=[dataclasses.replace(part, rows=122_881)])
    default = duckdb.connect().execute("SELECT current_setting('threads')").fetchall()[0][0]
    with Dataset(root, bigger) as ds:
        assert _threads(ds) == int(default)


def test_the_row_group_size_is_the_one_parts_are_written_with() -> None:
    written = (REPO / "k8saudit" / "sql" / "write_day.sql").read_text()
    assert f"ROW_GROUP_SIZE {ROW_GROUP_ROWS}," in written


def _observation(ds: k8saudit.Dataset) -> tuple[str, list[tuple[object, ...]]]:
    ((sql,),) = ds.duckdb.execute(
        "SELECT sql FROM duckdb_views() WHERE view_name = 'observation'"
    ).fetchall()
    rows = ds.duckdb.execute("SELECT * FROM observation ORDER BY apiserver").fetchall()
    return str(sql), rows


def test_the_observation_view_reads_the_requests_only_without_observed_spans(
    tmp_path: Path,
) -> None:
    """A manifest with observed spans gets the view over them alone; one written before they
    were kept falls back to the span of the requests."""
    root = _dataset(tmp_path)
    manifest = read_manifest(root)
    with k8saudit.open(root) as ds:
        spans_sql, spans_rows = _observation(ds)
        received = ds.duckdb.execute(
            "SELECT min(received_at), max(coalesce(completed_at, received_at)) FROM requests"
        ).fetchall()
    assert "requests" not in spans_sql.lower()
    (span,) = [span for entry in manifest.files for span in entry.observed]
    first, last = (datetime.fromisoformat(t) for t in (span.first, span.last))
    assert spans_rows == [(span.apiserver, first, last)]
    older = [dataclasses.replace(f, observed=()) for f in manifest.files]
    write_manifest(root, dataclasses.replace(manifest, files=older))
    with k8saudit.open(root) as ds:
        fallback_sql, fallback_rows = _observation(ds)
    assert "requests" in fallback_sql.lower()
    assert fallback_rows == [(None, *received[0])]
