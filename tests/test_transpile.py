"""The DuckDB -> Spark rewrite pass (k8saudit.transpile), rule by rule, as SQL text.

What the rules mean on data is tested against DuckDB on a SparkSession in tests/test_spark.py;
here, what each writes and what it refuses, without a JVM.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from k8saudit.exceptions import QueryError
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
    assert spark_sql("SELECT make_timestamptz(us) FROM r") == "SELECT TIMESTAMP_MICROS(us) FROM r"


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


def test_lists_keep_duckdbs_order_nulls_and_null_over_no_rows() -> None:
    keep = "TRANSFORM({}, __e -> __e.__v), ARRAY())"
    assert spark_sql("SELECT list(x ORDER BY n DESC, x) FROM r") == (
        "SELECT NULLIF("
        + keep.format(
            "SORT_ARRAY(COLLECT_LIST(STRUCT((n) IS NULL AS __n0, -(n) AS __k0, (x) IS NULL AS __n1,"
            " x AS __k1, x AS __v)))"
        )
        + " FROM r"
    )
    assert spark_sql("SELECT list(DISTINCT x ORDER BY x NULLS FIRST) FILTER (WHERE c) FROM r") == (
        "SELECT NULLIF("
        + keep.format(
            "SORT_ARRAY(ARRAY_DISTINCT(COLLECT_LIST(STRUCT(NOT (x) IS NULL AS __n0, x AS __k0, "
            "x AS __v)) FILTER(WHERE c)))"
        )
        + " FROM r"
    )
    assert spark_sql("SELECT list(x) FROM r") == (
        "SELECT NULLIF(" + keep.format("COLLECT_LIST(STRUCT(x AS __v))") + " FROM r"
    )
    with pytest.raises(Unportable, match="only with y = x"):
        spark_sql("SELECT list(DISTINCT x ORDER BY y) FROM r")


def test_list_slice_and_format_have_spark_forms() -> None:
    assert spark_sql("SELECT list_slice(l, 2, 4), list_slice(l, 3, 1) FROM r") == (
        "SELECT SLICE(l, 2, 3), SLICE(l, 3, 0) FROM r"
    )
    for bad in ("list_slice(l, 0, 2)", "list_slice(l, 1, n)", "list_slice(l, 1, 5, 2)"):
        with pytest.raises(Unportable, match="list_slice"):
            spark_sql(f"SELECT {bad} FROM r")
    assert spark_sql("SELECT format('{} of {{{}}}: {}', a, b, format('{}%', c)) FROM r") == (
        "SELECT CONCAT(CAST(a AS STRING), ' of {', CAST(b AS STRING), '}: ', "
        "CAST(CONCAT(CAST(c AS STRING), '%') AS STRING)) FROM r"
    )
    with pytest.raises(Unportable, match=r"format\(\)'s \{:d\}"):
        spark_sql("SELECT format('{:d}', a) FROM r")
    with pytest.raises(QueryError, match="more values"):
        spark_sql("SELECT format('{}', a, b) FROM r")


def test_error_is_raise_error() -> None:
    assert spark_sql("SELECT CASE WHEN $n % 2 <> 0 THEN error('odd') END FROM r") == (
        "SELECT CASE WHEN :n % 2 <> 0 THEN RAISE_ERROR('odd') END FROM r"
    )


def test_histogram_is_a_grouped_count_joined_back_on_the_keys() -> None:
    out = spark_sql("SELECT g, count(*) AS n, histogram(v) AS h FROM r WHERE w GROUP BY g")
    assert out == (
        "SELECT __main.g, __main.n, __hist_2.__map AS h FROM (SELECT g, COUNT(*) AS n, "
        "g AS __hist_key_0 FROM r WHERE w GROUP BY g) AS __main LEFT JOIN (SELECT __hist_key_0, "
        "MAP_FROM_ENTRIES(COLLECT_LIST(STRUCT(__value, __count))) AS __map FROM (SELECT "
        "g AS __hist_key_0, v AS __value, COUNT(*) AS __count FROM r WHERE w AND NOT (v) IS NULL "
        "GROUP BY g, v) AS __counts GROUP BY __hist_key_0) AS __hist_2 "
        "ON __main.__hist_key_0 IS NOT DISTINCT FROM __hist_2.__hist_key_0"
    )
    for bad in (
        "SELECT g, map_keys(histogram(v)) AS h FROM r GROUP BY g",
        "SELECT histogram(v) AS h FROM r",
        "SELECT g, histogram(v) AS h FROM r GROUP BY ALL",
        "SELECT g, histogram(v) AS h FROM r GROUP BY g HAVING count(*) > 1",
    ):
        with pytest.raises(Unportable, match="histogram"):
            spark_sql(bad)


def test_the_first_of_an_unnested_list_is_a_sort_in_lambdas() -> None:
    out = spark_sql(
        "SELECT (SELECT o.k || '!' FROM (SELECT unnest(l) AS o) ORDER BY o.n DESC LIMIT 1) FROM r"
    )
    assert out == (
        "SELECT TRY_ELEMENT_AT(TRANSFORM(TRANSFORM(SLICE(SORT_ARRAY(TRANSFORM(l, o -> "
        "STRUCT((o.n) IS NULL AS __n0, -(o.n) AS __k0, o AS __v))), 1, 1), __s -> __s.__v), "
        "o -> o.k || '!'), 1) FROM r"
    )
    with pytest.raises(Unportable, match="LIMIT 1"):
        spark_sql("SELECT (SELECT o FROM (SELECT unnest(l) AS o) ORDER BY o LIMIT 2) FROM r")


def test_files_are_not_read_by_sql_on_spark() -> None:
    with pytest.raises(Unportable, match=r"read_parquet.*`requests` view"):
        spark_sql("SELECT * FROM read_parquet(['a.parquet'], hive_partitioning = false)")


def test_macros_are_inlined_with_their_arguments() -> None:
    assert sorted(macros()) == [
        "audit_status", "event_time", "first_few", "group_key", "group_value",
        "interval_covered_s", "is_complete", "is_plausible_time", "object_matches",
        "observation_window", "request_cell", "request_source", "seconds_between", "stage_rank",
        "utc_bucket", "written_object",
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
    "HASH(", "MATERIALIZED", "OBSERVATION_WINDOW(", "HISTOGRAM(", "LIST_SLICE(", "FORMAT_STRING(",
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
