"""The Spark engine: the same dataset and the same query library on Apache Spark.

DuckDB is the default and the reference (``k8saudit.connection``); when one machine is
outgrown, ``k8saudit.open(path, engine=spark)`` runs every analysis on a ``SparkSession``
instead (DESIGN.md §6a). This module gives Spark what a DuckDB connection has: the ``requests``
view over exactly the Parquet parts the manifest lists (read with the request schema, so a
column older parts lack reads as NULL), ``_observed`` and the ``observation`` view; and runs
DuckDB SQL there, transpiled by ``k8saudit.transpile``, with bound parameters, returning
polars through Arrow like the DuckDB side. pyspark is imported only here, and only when a
Spark engine is asked for (``pip install 'k8saudit[spark]'``).

A query runs with ``spark.sql.session.timeZone=UTC`` (as DuckDB's ``TimeZone``) and ANSI mode
off (a list index or division out of range is NULL, as the queries expect), set for the query
and restored after it. The views are temporary views of the session; a session shared by two
datasets holds the views of the one that ran last, and each query registers its own first.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from k8saudit.exceptions import DatasetError, K8sAuditError, QueryError, UsageError, first_line
from k8saudit.query_loader import list_queries
from k8saudit.store import Manifest, parse_manifest
from k8saudit.transpile import Unportable, observation_view, to_spark

if TYPE_CHECKING:
    import polars as pl
    from pyspark.sql import SparkSession

#: the analyses that transpile but must not run on Spark, with the reason (every other analysis
#: of the library transpiles and gives DuckDB's rows, tests/test_spark.py)
NOT_ON_SPARK: dict[str, str] = {
    "history": "what each write changed is computed by DuckDB's json_tree table function over "
    "the bodies, which Spark SQL has no equivalent of",
    "sensitive": "its findings from kept bodies (privileged pods, RBAC grants) read JSON path "
    "lists (`$.containers[*]`) and list comprehensions over them, which the rewrite pass does "
    "not map to Spark's JSON functions",
}

#: the session settings a query runs with
QUERY_CONF = {"spark.sql.session.timeZone": "UTC", "spark.sql.ansi.enabled": "false"}

#: which engine registered the views a session holds now
_OWNERS: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()


def session(
    master: str = "local[*]",
    shuffle_partitions: int | None = None,
    conf: Mapping[str, str] | None = None,
) -> SparkSession:
    """A SparkSession for ``master`` (what ``--engine spark --spark-master`` makes), with the
    Spark settings ``conf`` besides; an existing session of the process is reused.
    ``UsageError`` when pyspark is not installed.

    >>> spark = session("local[2]", shuffle_partitions=4)  # doctest: +SKIP
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise UsageError(
            "the Spark engine needs pyspark", hint="pip install 'k8saudit[spark]'"
        ) from None
    builder = (
        SparkSession.builder.master(master)
        .appName("k8saudit")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
    )
    if shuffle_partitions is not None:
        builder = builder.config("spark.sql.shuffle.partitions", str(shuffle_partitions))
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    try:
        return builder.getOrCreate()
    except Exception as exc:  # the JVM could not start: no Java, no memory...
        raise K8sAuditError(f"Spark did not start: {first_line(exc)}") from exc


class SparkEngine:
    """One dataset on one SparkSession: its views, and DuckDB SQL run there.

    >>> engine = SparkEngine(spark, root, read_manifest(root))  # doctest: +SKIP
    >>> engine.sql("SELECT count(*) AS n FROM requests WHERE verb = $v", v="get")  # doctest: +SKIP
    """

    def __init__(self, spark: SparkSession, root: Path | str, manifest: Manifest) -> None:
        self.spark = spark
        self.root = root
        self.manifest = manifest
        # the frames of the views, made once: the parts listed, the spans sent to the JVM
        self._frames: tuple[Any, Any] | None = None

    def sql(self, query: str, **params: Any) -> pl.DataFrame:
        """Run ``query`` (DuckDB SQL, ``$name`` parameters bound from ``params``) on Spark."""
        import polars as pl

        intervals = frozenset(k for k, v in params.items() if isinstance(v, timedelta))
        statement = to_spark(query, intervals)
        missing = sorted(statement.params - set(params))
        if missing:
            raise QueryError(f"no value for the parameter ${missing[0]}")
        args = {name: params[name] for name in statement.params}
        with self._conf():
            self._register()
            try:
                table = self.spark.sql(statement.sql, args=args or None).toArrow()
            except Exception as exc:  # pyspark's errors come from the JVM, of many classes
                raise QueryError(f"Spark: {first_line(exc)}") from exc
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        return frame

    @contextlib.contextmanager
    def _conf(self) -> Iterator[None]:
        conf = self.spark.conf
        before: dict[str, str | None] = {key: conf.get(key, None) for key in QUERY_CONF}
        for key, value in QUERY_CONF.items():
            conf.set(key, value)
        try:
            yield
        finally:
            for key, old in before.items():
                if old is None:
                    conf.unset(key)
                else:
                    conf.set(key, old)

    def _register(self) -> None:
        """Create the session's views of this dataset unless it holds them already."""
        if _OWNERS.get(self.spark) == id(self):
            return
        if self._frames is None:
            self._frames = (self._requests(), self._observed())
        requests, observed = self._frames
        requests.createOrReplaceTempView("requests")
        observed.createOrReplaceTempView("_observed")
        self.spark.sql(
            "CREATE OR REPLACE TEMPORARY VIEW observation AS " + observation_view().sql
        ).collect()
        _OWNERS[self.spark] = id(self)

    def _requests(self) -> Any:
        """The parts the manifest lists, read with the request schema, its columns in order."""
        from pyspark.sql.pandas.types import from_arrow_schema

        from k8saudit.schema import REQUEST_SCHEMA

        schema = from_arrow_schema(REQUEST_SCHEMA)
        if not self.manifest.parts:
            return self.spark.createDataFrame([], schema)
        if isinstance(self.root, str):  # a URI, read as Hadoop reads paths (not %-decoded)
            files = [f"{self.root.rstrip('/')}/{p.path}" for p in self.manifest.parts]
        else:  # a file: path, not a URI: Hadoop reads `%3D` literally, and partitions are `day=`
            files = ["file:" + str((self.root / p.path).resolve()) for p in self.manifest.parts]
        frame = self.spark.read.schema(schema).parquet(*files)
        return frame.select(*REQUEST_SCHEMA.names)

    def _observed(self) -> Any:
        """The observed spans of every ingested file (apiserver, first, last)."""
        from pyspark.sql.types import StringType, StructField, StructType, TimestampType

        schema = StructType(
            [StructField("apiserver", StringType()), StructField("first", TimestampType()),
             StructField("last", TimestampType())]
        )  # fmt: skip
        rows = [
            (s.apiserver, datetime.fromisoformat(s.first), datetime.fromisoformat(s.last))
            for entry in self.manifest.files
            for s in entry.observed
        ]
        return self.spark.createDataFrame(rows, schema)


def read_manifest_at(spark: SparkSession, uri: str) -> Manifest:
    """The manifest of the dataset at ``uri`` (``s3a://``, ``hdfs://``, ``file://``...), read
    through the session's Hadoop file systems: no Python package per store, the session's
    configuration (hadoop-aws and credentials for S3) is all it takes.

    >>> read_manifest_at(spark, "s3a://audit/k8saudit").requests  # doctest: +SKIP
    10123456
    """
    path = f"{uri.rstrip('/')}/manifest.json"
    try:
        rows = spark.read.text(path, wholetext=True).collect()
    except Exception as exc:  # pyspark's errors come from the JVM, of many classes
        if "PATH_NOT_FOUND" in str(exc):
            raise DatasetError(
                f"{uri}: no k8saudit dataset here", hint="run `k8saudit ingest LOGS...` first"
            ) from exc
        raise DatasetError(f"{path}: unreadable manifest ({first_line(exc)})") from exc
    return parse_manifest(rows[0][0] if rows else "", path)


def spark_support() -> dict[str, str | None]:
    """Every analysis of the library by name: None when it runs on Spark, else why not.

    >>> spark_support()["pollers"] is None
    True
    """
    support: dict[str, str | None] = {}
    for query in list_queries():
        reason = NOT_ON_SPARK.get(query.name)
        if reason is None:
            intervals = frozenset(n for n, p in query.params.items() if p.type == "DURATION")
            try:
                to_spark(query.sql, intervals)
            except Unportable as exc:
                reason = exc.message
        support[query.name] = reason
    return support


def check_support(name: str) -> None:
    """``QueryError`` naming the analysis ``name`` and why, when it cannot run on Spark."""
    reason = spark_support().get(name)
    if reason is not None:
        raise QueryError(f"{name}: cannot run on Spark: {reason}", hint="run it on DuckDB")
