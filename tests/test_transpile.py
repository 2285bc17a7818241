"""The DuckDB -> Spark rewrite pass (k8saudit.transpile), rule by rule, as SQL text.

What the rules mean on data is tested against DuckDB on a SparkSession in tests/test_spark.py;
here, what each writes and what it refuses, without a JVM.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from k8saudit.query_loader import load_all
from k8saudit.spark import spark_support
from k8saudit.transpile import (
    BUCKET_ORIGIN_US,
    Unportable,
    macros,
    observation_view,
    to_spark,
)

pytest.importorskip("sqlglot", reason="sqlglot comes with the spark extra")


def spark_sql(sql: str, intervals: frozenset[str] = frozenset()) -> str:
    return to_spark(sql, intervals).sql


def test_percentiles_are_spark_exact_percentile() -> None:
    assert spark_sql("SELECT quantile_cont(x, 0.99), median(y) FROM t") == (
        "SELECT PERCENTILE(x, 0.99), PERCENTILE(y, 0.5) FROM t"
    )
    for other in ("quantile", "quantile_disc", "approx_quantile"):
        with pytest.raises(Unportable, match="use quantile_cont"):
            spark_sql(f"SELECT {other}(x, 0.5) FROM t")


def test_time_bucket_counts_microseconds_from_duckdbs_origin() -> None:
    out = spark_sql("SELECT time_bucket(INTERVAL 7 MINUTE, t) FROM r")
    assert out == (
        "SELECT TIMESTAMP_MICROS(UNIX_MICROS(t) - PMOD(UNIX_MICROS(t) - "
        f"{BUCKET_ORIGIN_US}, UNIX_MICROS(TIMESTAMP_MICROS(0) + INTERVAL '7' MINUTE))) FROM r"
    )
    assert "UNIX_MICROS(TIMESTAMP_MICROS(0) + :every)" in spark_sql(
        "SELECT time_bucket($every, t) FROM r", frozenset({"every"})
    )
    with pytest.raises(Unportable, match="not an interval"):
        spark_sql("SELECT time_bucket($every, t) FROM r")  # $every not known as a DURATION


def test_epochs_are_microsecond_arithmetic() -> None:
    assert spark_sql("SELECT epoch(a - b), epoch_us(a), epoch(a) FROM r") == (
        "SELECT ((UNIX_MICROS(a) - UNIX_MICROS(b)) / 1000000), UNIX_MICROS(a), "
        "((UNIX_MICROS(a)) / 1000000) FROM r"
    )
    assert spark_sql("SELECT n / epoch($every) FROM r", frozenset({"every"})) == (
        "SELECT n / ((UNIX_MICROS(TIMESTAMP_MICROS(0) + :every)) / 1000000) FROM r"
    )


def test_asof_join_becomes_a_join_on_the_interval_to_the_next_row() -> None:
    out = spark_sql("SELECT * FROM g ASOF LEFT JOIN o ON o.k = g.k AND o.t <= g.t")
    assert out == (
        "SELECT * FROM g LEFT JOIN (SELECT *, LEAD(t) OVER (PARTITION BY k ORDER BY t NULLS LAST) "
        "AS __asof_next FROM o) AS o ON (o.k = g.k AND o.t <= g.t) "
        "AND (o.__asof_next IS NULL OR o.__asof_next > g.t)"
    )
    assert "__asof_next >= g.t" in spark_sql(
        "SELECT * FROM g ASOF LEFT JOIN o ON g.k = o.k AND g.t > o.t"
    )
    with pytest.raises(Unportable, match="one inequality"):
        spark_sql("SELECT * FROM g ASOF JOIN o ON o.k = g.k AND o.t <= g.t AND o.u <= g.u")


def test_hash_is_64_bits_and_tells_nulls_apart() -> None:
    assert spark_sql("SELECT hash(a, b) FROM r") == (
        "SELECT XXHASH64(a, (a) IS NULL, b, (b) IS NULL) FROM r"
    )


def test_ordered_first_is_min_by_a_struct_of_its_keys() -> None:
    assert spark_sql("SELECT first(x ORDER BY n DESC, c) FROM r") == (
        "SELECT MIN_BY(x, STRUCT(-(n), c)) FROM r"
    )


def test_limits_lists_types_and_materialized_ctes() -> None:
    assert spark_sql("SELECT * FROM r LIMIT $limit").endswith("LIMIT COALESCE(:limit, 2147483647)")
    assert spark_sql("SELECT $names[2] FROM r") == "SELECT TRY_ELEMENT_AT(:names, 2) FROM r"
    assert (
        spark_sql("SELECT CAST(x AS HUGEINT) FROM r") == "SELECT CAST(x AS DECIMAL(38, 0)) FROM r"
    )
    assert spark_sql("WITH a AS MATERIALIZED (SELECT 1 AS x) SELECT x FROM a") == (
        "WITH a AS (SELECT 1 AS x) SELECT x FROM a"
    )


def test_an_aggregate_in_order_by_becomes_a_hidden_column() -> None:
    out = spark_sql(
        "SELECT g, count(*) AS n FROM r GROUP BY g ORDER BY count(*) FILTER (WHERE c) DESC LIMIT 3"
    )
    assert out == (
        "SELECT g, n FROM (SELECT g, COUNT(*) AS n, COUNT(*) FILTER(WHERE c) AS __order_0 "
        "FROM r GROUP BY g) AS __ordered ORDER BY __order_0 DESC LIMIT 3"
    )


def test_regexp_replace_is_portable_only_when_it_matches_once() -> None:
    assert "REGEXP_REPLACE(x, '-[a-z]{5}$', '-*')" in spark_sql(
        "SELECT regexp_replace(x, '-[a-z]{5}$', '-*') FROM r"
    )
    assert "REGEXP_REPLACE(x, 'a', 'b')" in spark_sql("SELECT regexp_replace(x, 'a', 'b', 'g')")
    with pytest.raises(Unportable, match="first match only"):
        spark_sql("SELECT regexp_replace(x, 'a', 'b') FROM r")


def test_files_are_not_read_by_sql_on_spark() -> None:
    with pytest.raises(Unportable, match=r"read_parquet.*`requests` view"):
        spark_sql("SELECT * FROM read_parquet(['a.parquet'], hive_partitioning = false)")


def test_macros_are_inlined_with_their_arguments() -> None:
    assert sorted(macros()) == [
        "audit_status", "first_few", "group_key", "group_value", "is_complete",
        "is_plausible_time", "object_matches", "observation_window", "request_cell",
        "request_source", "seconds_between", "stage_rank", "written_object",
    ]  # fmt: skip
    assert spark_sql("SELECT is_complete(s) FROM r") == (
        "SELECT (COALESCE(s, 'ResponseComplete') IN ('ResponseComplete', 'Panic')) FROM r"
    )
    out = spark_sql("SELECT * FROM observation_window($since, NULL) AS o")
    assert out.startswith("SELECT * FROM (SELECT GREATEST(COALESCE(:since, first), first)")
    assert out.endswith("FROM observation)) AS o")
    assert "OBSERVATION" not in spark_sql("SELECT * FROM observation_window(NULL, NULL)")
    assert observation_view().sql.startswith("SELECT apiserver, MIN(first) AS first")


#: what the Spark SQL of a query must not hold: DuckDB's functions and forms, as sqlglot writes them
DUCKDB_ONLY = (
    "GROUP_KEY(", "DATE_BIN(", "PERCENTILE_CONT(", "UNIX_TIMESTAMP(", "ASOF JOIN", "ASOF LEFT",
    "HASH(", "MATERIALIZED", "OBSERVATION_WINDOW(",
)  # fmt: skip


def test_every_query_of_the_library_transpiles_without_duckdb_left() -> None:
    for name, query in load_all().items():
        intervals = frozenset(n for n, p in query.params.items() if p.type == "DURATION")
        out = to_spark(query.sql, intervals)
        for duckdb_only in DUCKDB_ONLY:
            assert duckdb_only not in out.sql.upper().replace("XXHASH64(", ""), (name, duckdb_only)
        assert out.params <= set(query.params), name


def test_a_query_that_cannot_run_on_spark_is_named_with_its_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    library = Path(__file__).resolve().parents[1] / "queries"
    for part in library.glob("_*.sql"):
        (tmp_path / part.name).write_text(part.read_text())
    (tmp_path / "suffixes.sql").write_text(
        "-- name: suffixes\n-- User agents without their first digit.\n-- shape: listing\n"
        "SELECT regexp_replace(user_agent, '[0-9]', '') AS ua FROM requests\n"
    )
    monkeypatch.setenv("_K8SAUDIT_QUERY_DIR", str(tmp_path))
    support = spark_support()
    assert list(support) == ["suffixes"]
    assert support["suffixes"] is not None
    assert "regexp_replace() without 'g' replaces the first match only" in support["suffixes"]


def test_duckdb_runs_never_import_spark_or_sqlglot(sample_dataset: Path) -> None:
    # the Spark engine costs nothing until asked for: not at import, not on DuckDB, not in the
    # command line's app
    script = (
        "import sys, k8saudit, k8saudit.cli.app\n"
        f"k8saudit.open({str(sample_dataset)!r}).top_talkers(limit=1)\n"
        "print(sorted(m for m in ('pyspark', 'sqlglot', 'py4j') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert out == "[]\n"
