"""The internal SQL of ingest (``k8saudit/sql/*.sql``), file by file: every file loads with its
parameters checked, the column lists written in SQL agree with the schema, and the key steps
give the rows they should for hand-made rows in."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from k8saudit.query_loader import compose
from k8saudit.schema import RAW_EVENT_COLUMNS, RAW_EVENT_SCHEMA, REQUEST_COLUMNS, REQUEST_SCHEMA
from k8saudit.sqlfiles import create_macros, internal_query, internal_sql, run_sql

FILES = sorted(
    f.name.removesuffix(".sql")
    for f in resources.files("k8saudit.sql").iterdir()
    if f.name.endswith(".sql")
)


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'").fetchall()
    create_macros(con)
    return con


@pytest.mark.parametrize("name", FILES)
def test_every_file_loads_with_its_parameters_checked(name: str) -> None:
    query = internal_query(name)
    assert query.name == name
    assert query.description
    used = set(re.findall(r"\$(\w+)", re.sub(r"'(?:[^']|'')*'|--[^\n]*", "", query.body)))
    assert used == set(query.params)


def test_a_value_for_an_undeclared_parameter_is_an_error(con: duckdb.DuckDBPyConnection) -> None:
    from k8saudit.exceptions import QueryError

    with pytest.raises(QueryError, match=r"parts_span\.sql: no parameter 'day'"):
        run_sql(con, "parts_span", files=["x.parquet"], day=None)


def test_derive_gives_the_request_columns_in_schema_order(con: duckdb.DuckDBPyConnection) -> None:
    con.register("_raw", RAW_EVENT_SCHEMA.empty_table())
    raw = "SELECT *, NULL::VARCHAR AS request_key FROM _raw"
    derived = con.execute(compose("SELECT * FROM d", raw=raw, d=internal_sql("derive")))
    assert [c[0] for c in derived.description] == list(REQUEST_COLUMNS)


def test_key_by_content_hashes_every_raw_column_but_where_it_was_written() -> None:
    body = internal_sql("key_by_content")
    hashed = re.findall(r'"(\w+)"', body[body.index("hash(") : body.index(") AS h")])
    # bodies are kept by some runs only: a line read again must get its key either way
    unhashed = ("audit_id", "source_file", "source_line", "request_object", "response_object")
    expected = [c for c in RAW_EVENT_COLUMNS if c not in unhashed]
    assert hashed == expected


def _request(**values: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(REQUEST_COLUMNS)
    row.update(values)
    return row


def _merge(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    con.register("_rows", pa.Table.from_pylist(rows, schema=REQUEST_SCHEMA))
    merged = con.execute(
        compose(
            "SELECT * FROM merged ORDER BY request_key",
            rows="FROM _rows",
            merged=internal_sql("merge_requests"),
        )
    )
    columns = [c[0] for c in merged.description]
    assert columns == [*REQUEST_COLUMNS, "day"]
    return [dict(zip(columns, row, strict=True)) for row in merged.fetchall()]


def test_merge_joins_an_audit_event_and_its_access_line(con: duckdb.DuckDBPyConnection) -> None:
    at = datetime(2019, 2, 4, 12, 0, tzinfo=UTC)
    audit = _request(
        request_key="r",
        audit_id="r",
        received_at=at,
        stage="ResponseComplete",
        is_complete=True,
        verb="list",
        code=200,
        has_audit=True,
        has_access=False,
        apf_flow_schema="from-audit",
        source_file="audit.log",
        source_line=3,
    )
    access = _request(
        request_key="r",
        audit_id="r",
        received_at=at,
        verb="LIST",
        code=429,
        is_complete=True,
        has_audit=False,
        has_access=True,
        latency_ms=7.0,
        apf_flow_schema="global-default",
        source_file="klog",
        source_line=9,
    )
    (row,) = _merge(con, [audit, access])
    assert (row["verb"], row["code"], row["latency_ms"]) == ("list", 200, 7.0)
    assert row["apf_flow_schema"] == "global-default"  # the access log knows APF best
    assert (row["has_audit"], row["has_access"], row["is_complete"]) == (True, True, True)
    assert (row["source_file"], row["day"].isoformat()) == ("audit.log", "2019-02-04")


def test_merge_keeps_the_latest_stage_of_each_request(con: duckdb.DuckDBPyConnection) -> None:
    at = datetime(2019, 2, 4, 23, 59, 59, tzinfo=UTC)
    stages = [("RequestReceived", 1), ("ResponseComplete", 2), ("ResponseStarted", 3)]
    rows = [
        _request(
            request_key="w",
            audit_id="w",
            received_at=at,
            stage=stage,
            has_audit=True,
            has_access=False,
            is_complete=stage == "ResponseComplete",
            source_line=line,
        )
        for stage, line in stages
    ]
    (row,) = _merge(con, rows)
    assert (row["stage"], row["source_line"], row["is_complete"]) == ("ResponseComplete", 2, True)


def test_pick_takes_the_latest_stage_then_completion_then_file_order(
    con: duckdb.DuckDBPyConnection,
) -> None:
    con.execute(
        "CREATE TEMP VIEW candidates AS SELECT * FROM (VALUES "
        "('open', 'RequestReceived', NULL, 'a.log', 1), "
        "('open', 'ResponseStarted', NULL, 'a.log', 2), "
        "('copies', 'ResponseComplete', TIMESTAMPTZ '2019-02-04 12:00:01', 'b.log', 5), "
        "('copies', 'ResponseComplete', TIMESTAMPTZ '2019-02-04 12:00:02', 'a.log', 7), "
        "('twins', 'RequestReceived', NULL, 'a.log', 4), "
        "('twins', 'RequestReceived', NULL, 'a.log', 3)"
        ") AS t(request_key, stage, stage_at, source_file, source_line), "
        "LATERAL (SELECT NULL::TIMESTAMPTZ AS received_at, 0 AS _item, NULL::INTEGER AS _direct)"
    ).fetchall()
    run_sql(con, "pick")
    picked = con.execute(
        "SELECT request_key, stage, source_line, _slot FROM picks ORDER BY request_key"
    ).fetchall()
    assert picked == [
        ("copies", "ResponseComplete", 7, ""),
        ("open", "ResponseStarted", 2, "ResponseStarted"),
        ("twins", "RequestReceived", 3, "RequestReceived"),
    ]


def test_compose_joins_a_statement_of_its_own_with(con: duckdb.DuckDBPyConnection) -> None:
    sql = compose("WITH b AS (SELECT x + 1 AS y FROM a) SELECT y FROM b", a="SELECT 1 AS x")
    assert con.execute(sql).fetchall() == [(2,)]


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Kathmandu"])
def test_the_keys_pass_finds_every_day_its_events_were_received(
    con: duckdb.DuckDBPyConnection, zone: str
) -> None:
    con.execute("SET TimeZone = $z", {"z": zone}).fetchall()
    run_sql(con, "direct_tables")
    times = [
        "1969-12-31 23:59:59.5+00", "1970-01-01 00:00:00.3+00", "1969-12-30 23:30:00+00",
        "2019-02-03 23:59:59.999999+00", "2019-02-04 00:00:00+00", "2019-02-04 23:10:00+00",
        "2019-03-10 06:59:59+00", "2019-03-10 07:00:00+00", "2019-11-03 05:30:00+00", None,
        # one hour, two dates in Kathmandu (+05:45): 23:55, 00:00:30, 00:05
        "2019-06-01 18:10:00+00", "2019-06-01 18:15:30+00", "2019-06-01 18:20:00+00",
        "infinity", "-infinity",  # times a log can state, which have no epoch
    ]  # fmt: skip
    con.execute(
        "CREATE TEMP TABLE _direct_scan AS SELECT 'a' AS audit_id, 'ResponseComplete' AS stage, "
        "NULL::TIMESTAMPTZ AS stage_at, t::TIMESTAMPTZ AS received_at, s AS _status "
        "FROM (SELECT unnest($t) AS t, unnest($s) AS s)",
        {"t": [*times, "2000-01-01 00:00:00+00"], "s": ["ok"] * len(times) + ["invalid JSON"]},
    ).fetchall()
    ((*_, days),) = run_sql(con, "direct_scan_summary")
    expected = con.execute(
        "SELECT list(DISTINCT received_at::DATE) FROM _direct_scan WHERE _status = 'ok'"
    ).fetchall()[0][0]
    assert sorted(days, key=str) == sorted(expected, key=str)
    assert len(days) == {"UTC": 11, "America/New_York": 10, "Asia/Kathmandu": 11}[zone]


def test_utc_bucket_is_time_bucket(con: duckdb.DuckDBPyConnection) -> None:
    # the macro every analysis buckets time with, against DuckDB's own time_bucket: widths that
    # do and do not divide a day (whose origin, 2000-01-03, then matters), instants before
    # 1970 and 2000, on a boundary, infinite and NULL
    ((compared, differ),) = con.execute(
        """
        WITH widths (width) AS (VALUES (INTERVAL 1 MICROSECOND), (INTERVAL 250 MILLISECOND),
            (INTERVAL 1 SECOND), (INTERVAL 7 SECOND), (INTERVAL 90 SECOND), (INTERVAL 1 MINUTE),
            (INTERVAL 13 HOUR), (INTERVAL 1 DAY), (INTERVAL 3 DAY)),
        instants (t) AS (
            SELECT TIMESTAMPTZ '1960-01-01 00:00:00+00'
                + to_microseconds((hash(range) % 3000000000000000)::BIGINT)
            FROM range(20000)
            UNION ALL VALUES (TIMESTAMPTZ '2000-01-03 00:00:00+00'),
                (TIMESTAMPTZ '1970-01-01 00:00:00+00'),
                (TIMESTAMPTZ '1999-12-31 23:59:59.999999+00'),
                (TIMESTAMPTZ 'infinity'), (TIMESTAMPTZ '-infinity'), (NULL)
        )
        SELECT count(*), count(*) FILTER (WHERE utc_bucket(width, t) IS DISTINCT FROM
            time_bucket(width, t))
        FROM widths, instants
        """
    ).fetchall()
    assert (compared, differ) == (9 * 20006, 0)
