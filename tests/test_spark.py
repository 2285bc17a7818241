"""The Spark engine gives DuckDB's rows: every analysis that claims Spark support, the rewrite
rules one by one, ad-hoc SQL and the CLI, on one local SparkSession (``local[2]``).

Skipped, with the reason, only where pyspark or a Java runtime cannot be had (CI installs
both: pyspark from the ``dev`` extra, ``openjdk-17-jre-headless`` by .ci/run).
"""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from polars.testing import assert_frame_equal

import k8saudit
from k8saudit.dataset import Dataset
from k8saudit.exceptions import DatasetError, QueryError, UsageError
from k8saudit.query_loader import list_queries
from k8saudit.spark import NOT_ON_SPARK, spark_support

from .helpers import run_cli
from .test_queries import EXAMPLE_ARGS

#: the simulated cluster of the ~100 k-request dataset: 200 nodes, 16 minutes, 2 apiservers
SIMULATION = ["--nodes", "200", "--duration", "16m", "--apiservers", "2", "--seed", "3"]
SIMULATED_REQUESTS = 100_348


def _why_not_spark() -> str | None:
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install 'k8saudit[spark]')"
    if shutil.which("java") is None and not _java_home():
        return "no Java runtime (apt-get install openjdk-17-jre-headless)"
    return None


def _java_home() -> bool:
    import os

    home = os.environ.get("JAVA_HOME")
    return home is not None and Path(home, "bin", "java").exists()


pytestmark = pytest.mark.skipif(_why_not_spark() is not None, reason=str(_why_not_spark()))


#: Spark settings for small datasets, which change how a query runs, never what it gives: no
#: web UI; plans run interpreted and as planned (compiling whole-stage code and re-planning
#: adaptively cost more than they save on a few MB: about 25% of the parity tests' time)
TEST_CONF = {
    "spark.ui.enabled": "false",
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.adaptive.enabled": "false",
}


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One SparkSession for the test session: local[2], few shuffle partitions (the datasets
    are small: the default 200 partitions would be 200 tasks per shuffle)."""
    from k8saudit.spark import session

    spark = session("local[2]", shuffle_partitions=2, conf=TEST_CONF)
    spark.sparkContext.setLogLevel("ERROR")
    yield spark
    spark.stop()


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A simulated cluster's logs (~100 k requests) ingested."""
    base = tmp_path_factory.mktemp("simulated")
    code, _, err = run_cli("simulate", "--out", str(base / "logs"), *SIMULATION)
    assert code == 0, err
    k8saudit.ingest([base / "logs"], dataset=base / "ds")
    return base / "ds"


@pytest.fixture(scope="module")
def engines(
    spark: Any, sample_dataset: Path, simulated: Path
) -> Iterator[dict[str, tuple[Dataset, Dataset]]]:
    """Each dataset opened on DuckDB and on Spark."""
    opened = {
        name: (k8saudit.open(path), k8saudit.open(path, engine=spark))
        for name, path in (("sample", sample_dataset), ("simulated", simulated))
    }
    yield opened
    for duck, _ in opened.values():
        duck.close()


SUPPORTED = [name for name, reason in spark_support().items() if reason is None]


def test_every_analysis_claims_spark_support() -> None:
    # a query that cannot run on Spark is named with its reason (NOT_ON_SPARK or the
    # transpiler's Unportable); today two are
    assert sorted(NOT_ON_SPARK) == ["history", "sensitive"]
    support = spark_support()
    assert all(support[name] == reason for name, reason in NOT_ON_SPARK.items())
    assert len(SUPPORTED) == len(support) - 2 == len(list_queries()) - 2
    assert {"top_talkers", "rbac_rules"} <= set(SUPPORTED)


def test_the_simulated_dataset_has_100k_requests(engines: dict[str, Any]) -> None:
    duck, on_spark = engines["simulated"]
    assert duck.info().requests == SIMULATED_REQUESTS
    assert on_spark.sql("SELECT count(*) AS n FROM requests").item() == SIMULATED_REQUESTS


@pytest.mark.parametrize("name", SUPPORTED)
@pytest.mark.parametrize(
    "dataset", ["sample", "simulated"]
)  # one dataset's views, then the other's
def test_same_rows_on_spark_as_on_duckdb(
    engines: dict[str, tuple[Dataset, Dataset]], dataset: str, name: str
) -> None:
    duck, on_spark = engines[dataset]
    arguments = EXAMPLE_ARGS.get(name, {})
    expected = duck.query(name, **arguments)
    got = on_spark.query(name, **arguments)
    assert expected.height > 0 or arguments  # a forensic question may find nothing here
    # the same columns, types and values: numbers exactly (percentiles are exact on both)
    assert_frame_equal(got, expected, check_exact=True)


#: analyses with options that take other paths through the SQL (groupings, filters, widths
#: that do not divide a day, so that time_bucket's origin matters)
WITH_OPTIONS = [
    ("errors", {"by": "verb,resource", "since": "3m", "limit": 5}),
    ("timeline", {"every": "7s", "client": "kubelet", "limit": 0}),
    ("inflight", {"every": "13s", "max_requests_inflight": 100}),
    ("open_watches", {"every": "70s", "by": "user"}),
    ("latency", {"by": "resource", "verb": "LIST", "without": "datadog-agent"}),
    ("pollers", {"min_share": 0.0, "client": "kubelet"}),
]


@pytest.mark.parametrize(("name", "options"), WITH_OPTIONS, ids=[n for n, _ in WITH_OPTIONS])
def test_same_rows_with_options(
    engines: dict[str, tuple[Dataset, Dataset]], name: str, options: dict[str, Any]
) -> None:
    duck, on_spark = engines["sample"]
    expected = duck.query(name, **options)
    assert expected.height > 0
    assert_frame_equal(on_spark.query(name, **options), expected, check_exact=True)


#: each rewrite rule of k8saudit.transpile on data, DuckDB's answer the reference
RULE_CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "time_bucket": (
        "SELECT time_bucket(INTERVAL 7 MINUTE, received_at) AS b, count(*) AS n "
        "FROM requests GROUP BY 1 ORDER BY 1",
        {},
    ),
    "time_bucket_param": (
        "SELECT time_bucket($w, completed_at) AS b, count(*) AS n FROM requests "
        "WHERE completed_at IS NOT NULL GROUP BY 1 ORDER BY 1",
        {"w": timedelta(seconds=13, microseconds=500)},
    ),
    "percentiles": (
        # rounded: the engines interpolate between the same two values an ulp apart at most
        "SELECT client, round(quantile_cont(latency_ms, 0.37), 6) AS q, "
        "round(median(latency_ms), 6) AS m FROM requests GROUP BY 1 ORDER BY 1",
        {},
    ),
    "epochs": (
        "SELECT round(sum(epoch(completed_at - received_at)), 3) AS s, "
        "max(epoch_us(received_at)) AS us, round(min(epoch(received_at)), 6) AS e, "
        "epoch($w) AS w FROM requests",
        {"w": timedelta(minutes=1, microseconds=3)},
    ),
    "hash": (
        "SELECT count(DISTINCT hash(verb, resource, subresource, name, namespace)) AS n "
        "FROM requests",
        {},
    ),
    "first_ordered": (
        "SELECT verb, first(client ORDER BY code DESC, client) AS c FROM requests "
        "WHERE code IS NOT NULL GROUP BY verb ORDER BY verb",
        {},
    ),
    "asof": (
        "WITH l AS (SELECT * FROM (VALUES ('a', 1), ('a', 5), ('b', 2), ('c', 9)) AS t(k, x)), "
        "r AS (SELECT * FROM (VALUES ('a', 1, 'a1'), ('a', 4, 'a4'), ('a', 6, 'a6'), "
        "('b', 3, 'b3')) AS t(k, since, v)) "
        "SELECT l.k, l.x, r.v FROM l ASOF LEFT JOIN r ON r.k = l.k AND r.since <= l.x "
        "ORDER BY l.k, l.x",
        {},
    ),
    "limit_null": ("SELECT verb FROM requests GROUP BY verb ORDER BY verb LIMIT $n", {"n": None}),
    "list_index": (
        "SELECT group_key($by, client, identity, user_agent, source_ip, verb, resource, "
        "namespace, apf_flow_schema) AS g, count(*) AS n FROM requests GROUP BY 1 ORDER BY 1",
        {"by": ["verb"]},
    ),
    "order_by_aggregate": (
        "SELECT verb, count(*) AS n FROM requests GROUP BY verb "
        "ORDER BY count(*) FILTER (WHERE code = 429) DESC, verb",
        {},
    ),
    "hugeint": ("SELECT CAST(sum(code) AS HUGEINT) AS s FROM requests", {}),
    "lists": (
        # NULL values kept, DuckDB's order (DESC NULLS FIRST too), NULL over no rows
        "SELECT verb, list(DISTINCT subresource ORDER BY subresource) AS s, "
        "list(DISTINCT code ORDER BY code DESC NULLS FIRST) AS c, "
        "array_to_string(list(resource ORDER BY resource) FILTER (WHERE code = 999), ',') AS none, "
        "first_few(list(DISTINCT namespace ORDER BY namespace), 2) AS few "
        "FROM requests GROUP BY verb ORDER BY verb",
        {},
    ),
    "format": (
        "SELECT format('{} {{{}}} of {}', verb, count(*), subresource) AS f FROM requests "
        "GROUP BY verb, subresource ORDER BY verb, subresource",
        {},
    ),
    "histogram": (
        "WITH h AS (SELECT verb, count(*) AS n, histogram(code) AS codes, "
        "histogram({'r': resource, 's': subresource}) AS objects FROM requests GROUP BY verb) "
        "SELECT verb, n, "
        "(SELECT o.key FROM (SELECT unnest(map_entries(codes)) AS o) "
        "ORDER BY o.value DESC, o.key LIMIT 1) AS top_code, "
        "(SELECT concat_ws('/', o.key.r, o.key.s) FROM (SELECT unnest(map_entries(objects)) AS o) "
        "ORDER BY o.value DESC, o.key.r, o.key.s NULLS FIRST LIMIT 1) AS top_object "
        "FROM h ORDER BY verb",
        {},
    ),
    "observation_window": (
        "SELECT * FROM observation_window($since, NULL)",
        {"since": None},
    ),
}


@pytest.mark.parametrize("case", sorted(RULE_CASES))
def test_rewrite_rules_give_duckdbs_answer(
    engines: dict[str, tuple[Dataset, Dataset]], case: str
) -> None:
    duck, on_spark = engines["sample"]
    sql, params = RULE_CASES[case]
    expected = duck.sql(sql, **params)
    assert expected.height > 0
    assert_frame_equal(on_spark.sql(sql, **params), expected, check_exact=True, check_dtypes=False)


def test_an_analysis_that_cannot_run_on_spark_says_so_by_name(
    engines: dict[str, tuple[Dataset, Dataset]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(NOT_ON_SPARK, "watches", "a reason of its own")
    _, on_spark = engines["sample"]
    with pytest.raises(QueryError, match=r"watches: cannot run on Spark: a reason of its own"):
        on_spark.watches()


def test_spark_errors_are_query_errors(engines: dict[str, tuple[Dataset, Dataset]]) -> None:
    _, on_spark = engines["sample"]
    with pytest.raises(QueryError, match=r"Spark: .*no_such_column"):
        on_spark.sql("SELECT no_such_column FROM requests")


def test_cli_engine_spark_renders_the_same_table(spark: Any, sample_dataset: Path) -> None:
    args = ["latency", "--dataset", str(sample_dataset), "--limit", "5"]
    code, duck_out, err = run_cli(*args)
    assert code == 0, err
    code, spark_out, err = run_cli(*args, "--engine", "spark", "--spark-master", "local[2]")
    assert code == 0, err
    assert spark_out == duck_out
    assert spark_out.startswith("client ")
    code, out, err = run_cli("sql", "SELECT count(*) AS n FROM requests", "-d",
                             str(sample_dataset), "--engine", "spark", "-f", "csv")  # fmt: skip
    assert (code, out) == (0, "n\n30573\n"), err


def test_an_empty_dataset_on_spark(spark: Any, tmp_path: Path) -> None:
    (tmp_path / "nothing.log").write_text("\n")
    k8saudit.ingest([tmp_path / "nothing.log"], dataset=tmp_path / "ds")
    with k8saudit.open(tmp_path / "ds", engine=spark) as ds:
        duck = k8saudit.open(tmp_path / "ds")
        assert_frame_equal(ds.latency(), duck.latency(), check_exact=True)
        assert ds.sql("SELECT count(*) AS n FROM requests").item() == 0


def test_two_datasets_on_one_session_keep_their_own_views(
    engines: dict[str, tuple[Dataset, Dataset]],
) -> None:
    _, sample = engines["sample"]
    _, simulated = engines["simulated"]
    count = "SELECT count(*) AS n FROM requests"
    assert (sample.sql(count).item(), simulated.sql(count).item()) == (30_573, SIMULATED_REQUESTS)
    assert sample.sql(count).item() == 30_573


def test_a_dataset_at_a_uri_is_read_through_sparks_file_systems(
    engines: dict[str, tuple[Dataset, Dataset]], sample_dataset: Path, tmp_path: Path
) -> None:
    # file:// stands for s3a:// or hdfs://: the manifest and the parts are read by Spark's
    # Hadoop file system, in a directory whose name has a space
    where = tmp_path / "audit logs" / "ds"
    shutil.copytree(sample_dataset, where)
    spark = engines["sample"][1].spark
    assert spark is not None
    uri = f"file://{where}"
    with k8saudit.open(uri, engine=spark.spark) as ds:
        assert (ds.uri, ds.manifest) == (uri, engines["sample"][0].manifest)
        assert ds.sql("SELECT count(*) AS n FROM requests").item() == 30_573
        expected = engines["sample"][0].top_talkers()
        assert_frame_equal(ds.top_talkers(), expected, check_exact=True)
        with pytest.raises(UsageError, match=r"DuckDB reads local datasets"):
            ds.duckdb  # noqa: B018
        with pytest.raises(UsageError, match=r"polars reads local datasets"):
            ds.requests()
    with pytest.raises(UsageError, match=r"a dataset at a URI is read by Spark"):
        k8saudit.open(uri)
    with pytest.raises(DatasetError, match=r"nowhere: no k8saudit dataset here"):
        k8saudit.open(f"file://{tmp_path}/nowhere", engine=spark.spark)
    (where / "manifest.json").write_text("[]")
    with pytest.raises(DatasetError, match=r"manifest.json: damaged manifest"):
        k8saudit.open(uri, engine=spark.spark)
