"""``k8saudit.open``: a dataset as DuckDB views and polars frames, and its analyses.

A ``Dataset`` holds data and connections: the root, the manifest, the DuckDB connection with the
``requests`` view (one row per API request, ``schema.REQUEST_SCHEMA``; ``k8saudit.connection``),
rejects and a summary. The analyses are not written here: each ``queries/*.sql`` file is a
method (``ds.top_talkers(...)``) built from its header by ``k8saudit.analyses`` when first asked
for, so a new analysis is one new file and ``dir(ds)`` lists them all. ``Dataset.answer`` is
an analysis as a command gives it: a dataset without requests is an error saying why, an empty
result comes with its reason (``k8saudit.explain``). ``open(path, engine=spark)`` runs all of
it on a SparkSession instead of DuckDB (``k8saudit.spark``): the same SQL, transpiled.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
import types
import weakref
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar

from k8saudit.analyses import (
    analysis_method,
    analysis_names,
    read_internal,
    run_query,
    run_query_rows,
    run_query_text,
)
from k8saudit.answer_cache import AnswerCache
from k8saudit.connection import connect
from k8saudit.engine_text import WrittenText, written_table, written_text
from k8saudit.exceptions import DatasetError, QueryError, UsageError, first_line
from k8saudit.explain import EmptyReason, dataset_empty, explain_empty
from k8saudit.query_loader import (
    Query,
    get_query,
    kept_parts,
    parameters_in,
    part_statement,
    reading,
)
from k8saudit.rows import Rows
from k8saudit.store import Manifest, is_uri, read_manifest, redaction_key, resolve_dataset

if TYPE_CHECKING:
    import altair as alt
    import duckdb
    import polars as pl
    from duckdb import DuckDBPyConnection, DuckDBPyRelation

    from k8saudit.spark import SparkEngine


#: result types polars cannot take from DuckDB's Arrow stream without pyarrow (it panics): such a
#: result goes through a pyarrow table, whose conversion fails with an error instead
_ARROW_TABLE_ONLY = re.compile(r"\b(INTERVAL|UNION|TIME WITH TIME ZONE)\b")

#: the temp table a kept answer (``answer_cache``) is loaded into: one per answer, so that a
#: statement's text names its rows (the report remembers answers by it)
_ANSWER_TABLE = "k8saudit_answer_{key}"
#: the most rows of a Parquet row group of a part (``ROW_GROUP_SIZE`` in
#: k8saudit/sql/write_day.sql; fewer where a group reaches ``ROW_GROUP_SIZE_BYTES`` first)
ROW_GROUP_ROWS = 122_880

#: the tables of ``Dataset.info()``: title -> the part of the query library that computes it
INFO_TABLES = {
    "requests by log format": "_info_formats",
    "top clients": "_info_clients",
    "apiservers": "_info_apiservers",
}


@dataclass
class Info:
    """A summary of what a dataset holds (``Dataset.info()``; ``render.info_text`` prints it)."""

    dataset: Path
    files: int
    rejects: int
    requests: int
    first: datetime | None
    last: datetime | None
    time_notes: list[str] = field(default_factory=list)
    tables: dict[str, pl.DataFrame] = field(default_factory=dict)


#: what an answer's result is: a DataFrame (``Dataset.answer``), or Rows where it can be
#: (``Dataset.answer_rows``)
Result = TypeVar("Result")


class Answer(NamedTuple, Generic[Result]):
    """An analysis result and, when it has no rows, why (``k8saudit.explain``)."""

    frame: Result
    empty_reason: EmptyReason | None
    #: the columns the terminal table shows (the query's ``-- table:``; empty: all)
    table: tuple[str, ...] = ()


class Dataset:
    """An ingested dataset, ready to query; every analysis of the library is a method.

    >>> ds = k8saudit.open("k8saudit-data")  # doctest: +SKIP
    >>> ds.sql("SELECT verb, count(*) AS n FROM requests GROUP BY verb")  # doctest: +SKIP
    shape: (5, 2) ...
    >>> ds.top_talkers(by="user", since="1h30m", limit=5)  # doctest: +SKIP
    """

    def __init__(
        self, root: Path, manifest: Manifest, engine: Any = None, *, uri: str | None = None
    ) -> None:
        self.root = root
        self.manifest = manifest
        #: where a dataset that Spark reads through its Hadoop file systems is (s3a://...)
        self.uri = uri
        self._con: duckdb.DuckDBPyConnection | None = None
        self._spill: weakref.finalize[Any, Any] | None = None
        #: the Spark engine the analyses and ``sql`` run on, if one was asked for
        self.spark: SparkEngine | None = _spark_engine(engine, uri or root, manifest)
        # values the analyses compute once per open dataset (its end, the audit logs' span):
        # the manifest, and so the data, does not change under it
        self._memo: dict[str, Any] = {}
        # inside ``keeping()``: the temp table of each kept part by its statement and values
        self._kept: dict[tuple[str, str], str] | None = None
        #: the answers kept across processes (large datasets only: ``answer_cache``), and the
        #: temp table the last one read was loaded into
        self._answers = AnswerCache(root, manifest)
        self._answer_table: str | None = None

    def __getattr__(self, name: str) -> Callable[..., pl.DataFrame]:
        if not name.startswith("_") and name in analysis_names():
            return types.MethodType(analysis_method(name), self)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *analysis_names()})

    @property
    def duckdb(self) -> duckdb.DuckDBPyConnection:
        """The DuckDB connection holding the ``requests`` view (created on first use).

        It spills to a directory of its own in the system temp dir (never the working
        directory, DuckDB's default), removed when the dataset is closed or collected. A
        dataset whose requests fit in one Parquet row group has one DuckDB thread: a scan is
        parallel by row groups, so a second thread would only be woken for nothing (a few ms
        of every query on a small dataset). Whoever holds it can change what the queries
        read, so from then on this dataset neither keeps nor reads back answers
        (``answer_cache``).
        """
        self._answers.enabled = False
        return self._connection()

    def _connection(self) -> DuckDBPyConnection:
        """``duckdb``, for the library's own statements (the answers stay kept)."""
        self._local("DuckDB")
        if self._con is None:
            spill = Path(tempfile.mkdtemp(prefix="k8saudit-spill-"))
            self._spill = weakref.finalize(self, shutil.rmtree, spill, ignore_errors=True)
            self._con = connect(self.root, self.manifest)
            self._con.execute("SET temp_directory = $t", {"t": str(spill)}).fetchall()
            if self.manifest.requests <= ROW_GROUP_ROWS:
                self._con.execute("SET threads = 1").fetchall()
        return self._con

    @contextlib.contextmanager
    def registered(self, **tables: Any) -> Iterator[Dataset]:
        """While inside, each of ``tables`` (an Arrow table, or a DataFrame DuckDB reads) is a
        view of its name for ``sql``: ``compare`` joins its two sides so. A name the library
        reads (``requests``...) is refused, so the answers kept stay the library's.

        >>> with ds.registered(before=sides[0], after=sides[1]):  # doctest: +SKIP
        ...     ds.sql("SELECT * FROM before JOIN after USING (grp)")
        """
        con = self._connection()
        taken = {name for (name,) in con.execute("SELECT view_name FROM duckdb_views()").fetchall()}
        if clash := sorted(taken.intersection(tables)):
            raise UsageError(f"{', '.join(clash)}: a view of the dataset; register another name")
        for name, table in tables.items():
            con.register(name, table)
        try:
            yield self
        finally:
            for name in tables:
                con.unregister(name)

    def _only_queries(self, query: str) -> None:
        """Stop keeping and reading answers when ``query`` holds a statement that is not a
        query (``CREATE OR REPLACE VIEW requests``, ``SET TimeZone``...): it may change what
        the library's queries read. Parsed only while answers are kept (a large dataset)."""
        if not self._answers.enabled:
            return
        from k8saudit.engine import engine

        try:
            statements = self._connection().extract_statements(query)
        except engine.Error:  # not SQL: it will fail where it runs, changing nothing
            return
        if any(s.type != engine.StatementType.SELECT for s in statements):
            self._answers.enabled = False

    def _local(self, reader: str) -> None:
        """``UsageError`` when this dataset is at a URI, which only Spark reads."""
        if self.uri is not None:
            raise UsageError(
                f"{self.uri}: {reader} reads local datasets; this one is read by Spark"
            )

    def sandbox(self) -> None:
        """From now on this dataset's SQL can read its own Parquet parts and nothing else: no
        file outside them read or written, no extension installed, no setting changed back
        (DuckDB ``enable_external_access = false`` with only the parts allowed, then
        ``lock_configuration``). ``k8saudit sql`` runs this way unless
        ``--allow-external-access``.

        >>> ds.sandbox(); ds.sql("SELECT * FROM read_csv('/etc/passwd')")  # doctest: +SKIP
        Traceback (most recent call last):
        k8saudit.exceptions.QueryError: Permission Error: Cannot access file "/etc/passwd" ...
        """
        con = self._connection()  # the views are made first: they read the parts
        parts = [str((self.root / p.path).resolve()) for p in self.manifest.parts]
        con.execute("SET allowed_paths = $p", {"p": parts}).fetchall()
        con.execute("SET enable_external_access = false").fetchall()
        con.execute("SET lock_configuration = true").fetchall()
        self._answers.enabled = False  # their files are outside the parts

    def sql(self, query: str, **params: Any) -> pl.DataFrame:
        """Run SQL over the views with named parameters bound (``$name``), as a polars DataFrame.

        >>> ds.sql("SELECT count(*) FROM requests WHERE client = $c", c="kubelet")  # doctest: +SKIP
        """
        if self.spark is not None:
            return self.spark.sql(query, **params)
        self._only_queries(query)
        return self._frame(self._relation(query, params))

    def rows(self, query: str, **params: Any) -> Rows | pl.DataFrame:
        """``sql(query, **params)`` as ``Rows``, plain Python values without importing polars,
        when DuckDB runs it and every column is of a type ``Rows`` holds; else ``sql``'s
        DataFrame. What a command renders: a small result, read at no import's cost.

        >>> ds.rows("SELECT verb, count(*) AS n FROM requests GROUP BY 1").names  # doctest: +SKIP
        ('verb', 'n')
        """
        if self.spark is not None:
            return self.spark.sql(query, **params)
        import duckdb

        self._only_queries(query)
        relation = self._relation(query, params)
        try:
            found = Rows.from_relation(relation)
        except duckdb.Error as exc:
            raise QueryError(first_line(exc)) from exc
        return self._frame(relation) if found is None else found

    def query_rows(self, query: str, **params: Any) -> Rows | pl.DataFrame:
        """``rows(query, **params)`` for a statement whose columns are all of types ``Rows``
        holds, as every query of the library is (it casts them): planned once and run, where
        ``rows`` first binds the statement to learn its types (for an analysis, ~10 ms more).
        A column of another type makes it ``sql``'s DataFrame, the statement run again.

        >>> ds.query_rows("SELECT max(received_at) AS t FROM requests").kinds  # doctest: +SKIP
        ('timestamptz',)
        """
        if self.spark is not None:
            return self.spark.sql(query, **params)
        self._only_queries(query)
        self._execute(query, params, fetch=False)
        found = Rows.from_executed(self._connection())
        if found is None:
            self._connection().abort()  # its result, not fetched, is dropped
            return self.sql(query, **params)
        return found

    def text(self, query: str, fmt: str, /, **params: Any) -> WrittenText | None:
        """``rows(query, **params)`` as ``render`` writes it in ``fmt`` (csv, json or markdown),
        written by DuckDB (``query_text``) when ``query`` is one SELECT; None when it is not, or
        DuckDB cannot write the answer so (``rows`` gives it then). What ``k8saudit sql``
        prints.

        >>> ds.text("SELECT client FROM requests LIMIT 1", "csv").height  # doctest: +SKIP
        1
        """
        if self.spark is not None:
            return None
        from k8saudit.engine import engine

        try:
            statements = self._connection().extract_statements(query)
        except engine.Error:  # not SQL: rows says why
            return None
        if len(statements) != 1 or statements[0].type != engine.StatementType.SELECT:
            return None
        return self.query_text(statements[0].query, fmt, None, None, **params)

    def query_text(
        self,
        query: str,
        fmt: str,
        rename: Mapping[str, str] | None = None,
        width: int | None = None,
        /,
        **params: Any,
    ) -> WrittenText | None:
        """``query_rows(query, **params)`` as ``render`` writes it in ``fmt`` (csv, json or
        markdown; table: as an analysis's terminal table ``width`` columns wide, 80 if None,
        ``render.render_view``), its columns renamed by ``rename``, written by DuckDB
        (``engine_text``: the values are never fetched); None when DuckDB cannot write it so
        (a value with a control character, a column of a type ``Rows`` does not hold, a
        markdown footer...), or Spark runs the queries.

        >>> print(ds.query_text("SELECT 'kubelet' AS client", "csv").text, end="")  # doctest: +SKIP
        client
        kubelet
        """
        if self.spark is not None:
            return None
        from k8saudit.engine import engine

        self._only_queries(query)
        con = self._connection()
        try:
            if fmt == "table":
                return written_table(con, query, params, rename, 80 if width is None else width)
            return written_text(con, query, params, fmt, rename)
        except engine.Error as exc:
            raise QueryError(first_line(exc)) from exc

    def _relation(self, query: str, params: dict[str, Any]) -> DuckDBPyRelation:
        import duckdb

        try:
            return self._connection().sql(query, params=params or None)
        except duckdb.Error as exc:
            raise QueryError(first_line(exc)) from exc

    def _frame(self, relation: DuckDBPyRelation) -> pl.DataFrame:
        import duckdb
        import polars as pl

        try:
            if not _ARROW_TABLE_ONLY.search(" ".join(map(str, relation.types))):
                # polars reads DuckDB's Arrow stream itself: no pyarrow to import
                return pl.DataFrame(relation)
            table = relation.to_arrow_table()
        except duckdb.Error as exc:
            raise QueryError(first_line(exc)) from exc
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        return frame

    @contextlib.contextmanager
    def keeping(self) -> Iterator[Dataset]:
        """While inside, the parts of the library that declare ``-- keep: yes`` are computed
        once for each binding of their parameters and held in a temp table that every query
        reading them reads: for a reader of several analyses over the same filters (the
        report: the in-flight chart and ``diagnose``'s peaks come from one sweep,
        ``queries/_inflight_seconds.sql``). The tables are dropped on leaving.

        >>> with ds.keeping():  # doctest: +SKIP
        ...     peaks, over_time = ds.inflight_peaks(), ds.inflight(every="1m")
        """
        if self._kept is not None:  # already keeping: the outer one drops them
            yield self
            return
        self._kept = {}
        try:
            yield self
        finally:
            tables, self._kept = self._kept, None
            if self._con is not None:
                for table in tables.values():
                    self._con.execute(f"DROP TABLE IF EXISTS {table}").fetchall()

    def statement(self, query: Query, bound: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
        """The statement that runs the library query ``query`` with ``bound`` values, and the
        values it binds: over a large dataset, one reading the answer an earlier run kept
        (``answer_cache``: computed and kept now when none is); else its own, or (inside
        ``keeping()``) one reading its kept parts from their tables, each computed the first
        time it is read with these values."""
        if self.spark is not None:
            return query.sql, bound
        answer = self._answers.path(query.sql, bound)
        if answer is not None and answer.is_file():
            if loaded := self._load_answer(answer, answer):
                self._answers.touch(answer)
                return loaded, {}
            self._answers.discard(answer)  # damaged (cut short...): computed again
        statement = self._reading_kept(query, bound)
        values = bound
        if statement != query.sql:  # a statement reading a kept part binds fewer
            used = parameters_in(statement)
            values = {k: v for k, v in bound.items() if k in used}
        if answer is not None and (loaded := self._keep_answer(answer, statement, values)):
            return loaded, {}
        return statement, values

    def _reading_kept(self, query: Query, bound: Mapping[str, Any]) -> str:
        """``query``'s statement, reading (inside ``keeping()``) its kept parts' tables."""
        kept = self._kept
        if kept is None:
            return query.sql
        tables = {}
        for part in kept_parts(query):
            rows = part_statement(query, part)
            used = parameters_in(rows)
            values = {k: v for k, v in bound.items() if k in used}
            key = (rows, repr(sorted(values.items())))
            if key not in kept:
                table = f"k8saudit_kept_{len(kept) + 1}"
                self._execute(f"CREATE TEMP TABLE {table} AS {rows}", values)
                kept[key] = table
            tables[part] = kept[key]
        return reading(query, tables)

    def _keep_answer(self, path: Path, statement: str, values: Mapping[str, Any]) -> str | None:
        """Compute the answer of ``statement`` into ``path`` and load it: the statement reading
        it, or None when it is not kept (nothing is loaded then)."""
        import duckdb

        relation = self._relation(statement, dict(values))
        written = self._answers.temporary(path) if self._answers.keeps(relation.types) else None
        if written is None:
            return None
        try:
            try:
                relation.write_parquet(str(written), compression="zstd")
            except duckdb.IOException as exc:
                if str(self._answers.directory) not in str(exc):  # the query's own error
                    raise QueryError(first_line(exc)) from exc
                self._answers.enabled = False  # the directory cannot be written after all
                return None
            except duckdb.Error as exc:
                raise QueryError(first_line(exc)) from exc
            loaded = self._load_answer(written, path)
            if loaded is not None:
                self._answers.put(written, path)
            return loaded
        finally:
            self._answers.discard(written)

    def _load_answer(self, file: Path, path: Path) -> str | None:
        """Load the answer kept at ``path`` from ``file`` (it, or the file it is written to
        first) into its temp table, dropping the one loaded before: the statement reading it,
        or None when it cannot be read (damaged, or gone: a commit cleared the cache)."""
        from k8saudit.engine import engine

        table = _ANSWER_TABLE.format(key=path.stem)  # a hex digest: a plain name
        con = self._connection()
        try:
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {table} AS FROM read_parquet($file)",
                {"file": str(file)},
            ).fetchall()
        except engine.InterruptException as exc:
            raise QueryError(first_line(exc)) from exc
        except engine.Error:
            return None
        if self._answer_table not in (None, table):
            con.execute(f"DROP TABLE IF EXISTS {self._answer_table}").fetchall()
        self._answer_table = table
        return f"FROM {table}"

    def _execute(self, statement: str, params: dict[str, Any], fetch: bool = True) -> None:
        """Run ``statement``; its rows are fetched (and dropped) unless not ``fetch``."""
        from k8saudit.engine import engine

        try:
            result = self._connection().execute(statement, params or None)
            if fetch:
                result.fetchall()
        except engine.Error as exc:
            raise QueryError(first_line(exc)) from exc

    def query(self, name: str, **params: Any) -> pl.DataFrame:
        """Run the library query ``name`` with its parameters (strings are converted).

        ``since``/``until`` may be relative and ``by`` a comma list, as in the analysis methods.

        >>> ds.query("top_talkers", by="user", limit="5")  # doctest: +SKIP
        """
        if self.spark is not None:
            from k8saudit.spark import check_support

            check_support(name)
        return run_query(self, name, params, self._memo)

    def answer(self, name: str, **params: Any) -> Answer[pl.DataFrame]:
        """``query(name, **params)`` as a command answers: a dataset without requests is a
        ``DatasetError`` saying why, and an empty result comes with the reason it is empty.

        >>> ds.answer("top_talkers", client="datadog").empty_reason  # doctest: +SKIP
        NoSuchValue(filter='client', value='datadog', nearest=('datadog-agent',))
        """
        self._check_not_empty()
        frame = self.query(name, **params)
        return Answer(frame, self._why_empty(name, params, frame.height), _table(name, frame))

    def answer_rows(self, name: str, **params: Any) -> Answer[Rows | pl.DataFrame]:
        """``answer`` with its result as ``rows`` gives it: ``Rows`` when every column is of a
        type they hold (what the command line renders, polars not imported).

        >>> ds.answer_rows("top_talkers", limit=3).frame.height  # doctest: +SKIP
        3
        """
        self._check_not_empty()
        frame = self.query_named_rows(name, **params)
        return Answer(frame, self._why_empty(name, params, frame.height), _table(name, frame))

    def answer_text(
        self, name: str, fmt: str, width: int | None = None, /, **params: Any
    ) -> Answer[WrittenText | Rows | pl.DataFrame]:
        """``answer_rows`` with its result written by DuckDB in ``fmt`` (csv, json, markdown,
        or table: the terminal's, ``width`` columns wide; ``query_text``) when it can be: what
        ``--format csv|json|markdown`` prints and the table on a terminal, ``render``'s
        bytes.

        >>> ds.answer_text("who", "csv", verb="get", object="nodes").frame.height  # doctest: +SKIP
        139991
        """
        self._check_not_empty()
        if self.spark is not None:
            return Answer(*self.answer_rows(name, **params))
        frame = run_query_text(self, name, params, self._memo, fmt, width)
        return Answer(frame, self._why_empty(name, params, frame.height), _table(name, frame))

    def query_named_rows(self, name: str, **params: Any) -> Rows | pl.DataFrame:
        """``query(name, **params)`` as ``query_rows`` gives it: ``Rows`` when every column is
        of a type they hold (polars not imported: ``diagnose`` and the commands read these),
        else the DataFrame.

        >>> ds.query_named_rows("pollers", limit=0).height  # doctest: +SKIP
        12
        """
        if self.spark is not None:
            return self.query(name, **params)
        return run_query_rows(self, name, params, self._memo)

    def _check_not_empty(self) -> None:
        empty = dataset_empty(self.uri or self.root, self.manifest)
        if empty is not None:
            raise empty

    def _why_empty(self, name: str, params: dict[str, Any], height: int) -> EmptyReason | None:
        return None if height else self.explain_empty(name, **params)

    def chart(self, name: str, **params: Any) -> alt.TopLevelMixin:
        """The chart ``name`` (``k8saudit.charts.chart_names()``: timeline, throttling,
        inflight, latency, errors, pollers, heatmap, open_watches) as an altair chart, with the
        common filters and the chart's options (``every``, ``limit``, ``by``...).

        >>> ds.chart("timeline", since="30m", limit=5)  # doctest: +SKIP
        alt.LayerChart(...)
        """
        from k8saudit.charts import chart  # its page-writing modules: only charts need them

        return chart(self, name, params, self._memo)

    def explain_empty(self, name: str, **params: Any) -> EmptyReason:
        """Why the library query ``name`` with ``params`` returns no rows: a value no request
        has (and the nearest ones), a window outside the data, filters that match only apart.

        >>> ds.explain_empty("top_talkers", resource="pod")  # doctest: +SKIP
        NoSuchValue(filter='resource', value='pod', nearest=('pods',))
        """
        return explain_empty(self, name, params, self._memo)

    def requests(self) -> pl.LazyFrame:
        """The request table as a polars LazyFrame (scans the Parquet parts lazily)."""
        import polars as pl

        from k8saudit.schema import REQUEST_SCHEMA

        self._local("polars")
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

    @property
    def redaction_key(self) -> bytes:
        """The key of the hashes in this dataset's redaction marks (``formats.redact``); a
        dataset written before it had one gets a key of this session, never written."""
        if "redaction_key" not in self._memo:
            key = redaction_key(self.root)
            self._memo["redaction_key"] = key if key is not None else os.urandom(32)
        found: bytes = self._memo["redaction_key"]
        return found

    def rejects(self) -> Iterator[dict[str, Any]]:
        """Rejected input records: ``{"file", "line", "reason", "text"}``, oldest run first.

        ``text`` is the start of the record without bodies or secret values
        (``formats.redact.scrub_line``), also for rejects kept before k8saudit scrubbed them.
        """
        from k8saudit.formats.redact import scrub_line  # hashlib and hmac: only rejects need them

        self._local("the rejects reader")
        for name in self.manifest.rejects:
            with (self.root / name).open() as fh:
                for line in fh:
                    row = json.loads(line)
                    text = row.get("text") or ""
                    if not row.get("scrubbed"):
                        text = scrub_line(text, self.redaction_key)
                    yield {"file": row["file"], "line": row["line"], "reason": row["reason"],
                           "text": text}  # fmt: skip

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
        n, first, last = read_internal(self, "_info_span", self._memo).row(0)
        notes = sorted({f"{f.path}: {f.time_source}" for f in self.manifest.files if f.time_source})
        tables = {
            title: read_internal(self, name, self._memo) for title, name in INFO_TABLES.items()
        }
        rejects = sum(f.rejected for f in self.manifest.files)
        return Info(self.root, len(self.manifest.files), rejects, n, first, last, notes, tables)

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
        if self._spill is not None:
            self._spill()  # removes the spill directory (once)

    def __enter__(self) -> Dataset:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _table(name: str, frame: WrittenText | Rows | pl.DataFrame) -> tuple[str, ...]:
    """The columns the terminal table of the analysis ``name`` shows: its ``-- table:`` with
    ``grp``, the group column, named after --by (the result's first column)."""
    return tuple(frame.columns[0] if c == "grp" else c for c in get_query(name).table)


def open(
    dataset: str | os.PathLike[str] | None = None, *, must_exist: bool = True, engine: Any = None
) -> Dataset:
    """Open a dataset (default: ``$K8SAUDIT_DATASET`` or ./k8saudit-data).

    ``engine``: where the analyses and ``sql`` run: DuckDB (None or ``"duckdb"``, the
    default), or a ``pyspark.sql.SparkSession`` (``"spark"``: a local one).

    A dataset named by URI (``s3a://bucket/ds``, ``hdfs://...``, ``file:///...``) is read by
    Spark through its own Hadoop file systems, its manifest included: the file system's
    package and credentials are the session's configuration.

    >>> ds = k8saudit.open()  # doctest: +SKIP
    >>> ds = k8saudit.open("k8saudit-data", engine=spark)  # doctest: +SKIP
    >>> ds = k8saudit.open("s3a://audit/k8saudit", engine=spark)  # doctest: +SKIP
    """
    if is_uri(dataset):
        assert isinstance(dataset, str)
        return _open_uri(dataset, engine)
    root = resolve_dataset(dataset)
    if root.exists() and not root.is_dir():
        raise UsageError(f"{root}: the dataset must be a directory, and this is a file")
    if must_exist and not (root / "manifest.json").exists():
        raise DatasetError(
            f"{root}: no k8saudit dataset here", hint="run `k8saudit ingest LOGS...` first"
        )
    return Dataset(root, read_manifest(root), engine)


def _open_uri(uri: str, engine: Any) -> Dataset:
    if engine is None or engine == "duckdb":
        raise UsageError(
            f"{uri}: a dataset at a URI is read by Spark", hint="k8saudit.open(uri, engine=spark)"
        )
    from k8saudit.spark import read_manifest_at

    spark = _spark_session(engine)
    return Dataset(Path(uri), read_manifest_at(spark, uri), spark, uri=uri)


def _spark_engine(engine: Any, root: Path | str, manifest: Manifest) -> SparkEngine | None:
    if engine is None or engine == "duckdb":
        return None
    from k8saudit.spark import SparkEngine

    return SparkEngine(_spark_session(engine), root, manifest)


def _spark_session(engine: Any) -> Any:
    """The SparkSession ``engine`` names: ``"spark"`` (a local one) or a session itself."""
    from k8saudit.spark import session

    if engine == "spark":
        return session()
    if isinstance(engine, str) or not hasattr(engine, "sql"):
        raise UsageError(
            f"engine {engine!r}: not an engine", hint="None, 'duckdb', 'spark' or a SparkSession"
        )
    return engine
