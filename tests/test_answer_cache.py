"""Answers kept across processes (``k8saudit/answer_cache.py``): read back, each is the answer
the query gives, for every query and chart of the library; a commit clears them; a dataset
whose cache cannot be written, a sandboxed one and ``K8SAUDIT_CACHE=off`` keep none."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import k8saudit
from k8saudit import Dataset, answer_cache
from k8saudit.answer_cache import CACHE_ENV, AnswerCache
from k8saudit.charts import chart_names
from k8saudit.exceptions import UsageError
from k8saudit.report import build_report
from k8saudit.store import CACHE_DIR, read_manifest
from tests.helpers import event, jsonl
from tests.test_queries import EXAMPLE_ARGS, QUERY_NAMES


@pytest.fixture
def kept(sample_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the sample dataset whose answers are kept (the sample is far below
    ``MIN_REQUESTS``, so the threshold is lowered)."""
    root = tmp_path / "ds"
    shutil.copytree(sample_dataset, root)
    monkeypatch.setattr(answer_cache, "MIN_REQUESTS", 0)
    monkeypatch.delenv(CACHE_ENV, raising=False)
    return root


def _answers_of(root: Path, ask: Callable[[Dataset], object]) -> list[Path]:
    """The answer files ``ask`` keeps over ``root``, beside those of the parts it binds from
    the data (its end, the audit logs' span: kept by a first question)."""
    with k8saudit.open(root) as ds:
        ds.top_talkers(since="1m", limit=1)  # binds the data's end and the audit logs' span
        before = set(_kept_files(root))
        ask(ds)
    return sorted(set(_kept_files(root)) - before)


def _kept_files(root: Path) -> list[Path]:
    return sorted((root / CACHE_DIR).glob("*.parquet"))


@pytest.mark.parametrize("name", QUERY_NAMES)
def test_an_answer_read_back_is_the_answer(
    name: str, kept: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = EXAMPLE_ARGS.get(name, {})
    computed = pl.DataFrame()

    def ask(ds: Dataset) -> None:
        nonlocal computed
        computed = ds.query(name, **args)

    assert len(_answers_of(kept, ask)) == 1, "the answer is kept"
    files = _kept_files(kept)
    with k8saudit.open(kept) as ds:
        read_back = ds.query(name, **args)
        rows_read_back = ds.answer_rows(name, **args).frame
    assert _kept_files(kept) == files, "read back, nothing is written"
    monkeypatch.setenv(CACHE_ENV, "off")
    with k8saudit.open(kept) as ds:
        fresh = ds.query(name, **args)
        fresh_rows = ds.answer_rows(name, **args).frame
    assert_frame_equal(computed, fresh)
    assert_frame_equal(read_back, fresh)
    assert rows_read_back == fresh_rows


@pytest.mark.parametrize("name", chart_names())
def test_a_chart_read_back_is_the_chart(
    name: str, kept: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with k8saudit.open(kept) as ds:
        computed = ds.chart(name).to_dict()
    assert _kept_files(kept)
    with k8saudit.open(kept) as ds:
        read_back = ds.chart(name).to_dict()
    monkeypatch.setenv(CACHE_ENV, "off")
    with k8saudit.open(kept) as ds:
        fresh = ds.chart(name).to_dict()
    assert computed == fresh
    assert read_back == fresh


def test_other_values_are_another_answer(kept: Path) -> None:
    found = {}

    def ask(ds: Dataset) -> None:
        found["client"] = ds.top_talkers(limit=3)
        found["user"] = ds.top_talkers(by="user", limit=3)
        found["since"] = ds.top_talkers(since="1m", limit=3)

    assert len(_answers_of(kept, ask)) == 3
    by_client, by_user, since = found["client"], found["user"], found["since"]
    with k8saudit.open(kept) as ds:
        assert_frame_equal(ds.top_talkers(limit=3), by_client)
        assert_frame_equal(ds.top_talkers(by="user", limit=3), by_user)
        assert_frame_equal(ds.top_talkers(since="1m", limit=3), since)
    assert by_client["requests"].to_list() != since["requests"].to_list()


def test_an_ingest_clears_the_answers_and_the_next_one_counts_it(
    kept: Path, tmp_path: Path
) -> None:
    with k8saudit.open(kept) as ds:
        before = ds.top_talkers(by="user", limit=0)
    assert _kept_files(kept)
    more = [event(f"added-{i}", user={"username": "added-user"}) for i in range(7)]
    k8saudit.ingest([jsonl(tmp_path / "more.log", more)], dataset=kept)
    assert not (kept / CACHE_DIR).exists()
    with k8saudit.open(kept) as ds:
        after = ds.top_talkers(by="user", limit=0)
    assert "added-user" not in before["user"].to_list()
    assert after.filter(after["user"] == "added-user")["requests"].to_list() == [7]
    assert after["requests"].sum() == before["requests"].sum() + 7


def test_a_cache_that_cannot_be_written_changes_nothing(kept: Path) -> None:
    (kept / CACHE_DIR).write_text("not a directory")
    with k8saudit.open(kept) as ds:
        first = ds.throttling()
        again = ds.throttling()
    assert_frame_equal(first, again)
    assert (kept / CACHE_DIR).read_text() == "not a directory"


def test_a_sandboxed_dataset_keeps_nothing(kept: Path) -> None:
    with k8saudit.open(kept) as ds:
        ds.sandbox()
        assert ds.throttling().height
    assert not (kept / CACHE_DIR).exists()


def test_the_environment_turns_it_off(kept: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CACHE_ENV, "off")
    with k8saudit.open(kept) as ds:
        assert ds.throttling().height
    assert not (kept / CACHE_DIR).exists()


def test_a_small_dataset_keeps_nothing(sample_dataset: Path) -> None:
    assert AnswerCache(sample_dataset, read_manifest(sample_dataset)).path("SELECT 1", {}) is None


def test_columns_parquet_would_change_are_not_kept(kept: Path) -> None:
    con = duckdb.connect()
    for statement in ("SELECT sum(1::BIGINT) AS n", "SELECT INTERVAL 1 SECOND AS i"):
        assert not AnswerCache.keeps(con.sql(statement).types), statement
    kinds = con.sql("SELECT 1::BIGINT, 'a', [['a']], now(), 1.5::DECIMAL(9,2), 1.5").types
    assert AnswerCache.keeps(kinds)


def test_a_connection_handed_out_keeps_and_reads_no_answer(kept: Path) -> None:
    with k8saudit.open(kept) as ds:
        computed = ds.top_talkers(limit=3)
    files = _kept_files(kept)
    with k8saudit.open(kept) as ds:
        ds.duckdb.execute(
            "CREATE TEMP TABLE r AS SELECT * FROM requests WHERE verb = 'get';"
            "CREATE OR REPLACE VIEW requests AS SELECT * FROM r"
        )
        changed = ds.top_talkers(limit=3)
        assert ds.throttling().height
    assert changed["requests"].to_list() != computed["requests"].to_list()
    assert _kept_files(kept) == files, "nothing kept after the connection was handed out"
    with k8saudit.open(kept) as ds:
        assert_frame_equal(ds.top_talkers(limit=3), computed)


def test_a_statement_that_is_not_a_query_stops_the_answers(kept: Path) -> None:
    with k8saudit.open(kept) as ds:
        assert ds.sql("SELECT count(*) AS n FROM requests")["n"].to_list() == [30573]
        ds.top_talkers(limit=3)
        files = _kept_files(kept)
        assert files, "a query changes nothing"
        ds.sql("CREATE TEMP TABLE r AS SELECT * FROM requests WHERE code = 429")
        ds.sql("CREATE OR REPLACE VIEW requests AS SELECT * FROM r")
        throttled = ds.top_talkers(limit=3)
    assert throttled["requests"].sum() < 1000
    assert _kept_files(kept) == files


def test_a_report_over_a_changed_connection_reads_no_answer(kept: Path) -> None:
    with k8saudit.open(kept) as ds:
        ds.top_talkers(limit=0)
    with k8saudit.open(kept) as ds:
        ds.sql(
            "CREATE TEMP TABLE r AS SELECT * FROM requests WHERE code = 429;"
            "CREATE OR REPLACE VIEW requests AS SELECT * FROM r"
        )
        html = build_report(ds)
    assert "the logs show 528 requests" in html


def test_a_registered_table_cannot_hide_a_view(kept: Path) -> None:
    with k8saudit.open(kept) as ds, pytest.raises(UsageError, match="requests"):
        ds.registered(requests=pl.DataFrame({"a": [1]})).__enter__()


def test_a_damaged_answer_is_computed_again(kept: Path) -> None:
    (path,) = _answers_of(kept, lambda ds: ds.throttling())
    with k8saudit.open(kept) as ds:
        computed = ds.throttling()
    path.write_bytes(path.read_bytes()[:-10])  # cut short
    with k8saudit.open(kept) as ds:
        assert_frame_equal(ds.throttling(), computed)
    assert path.exists()
    assert path.read_bytes().endswith(b"PAR1")


def test_an_answer_damaged_inside_is_computed_again(kept: Path) -> None:
    (path,) = _answers_of(kept, lambda ds: ds.throttling())
    with k8saudit.open(kept) as ds:
        computed = ds.throttling()
    data = bytearray(path.read_bytes())
    data[8 : len(data) - 8] = bytes(len(data) - 16)  # its pages and footer zeroed, ends kept
    path.write_bytes(bytes(data))
    with k8saudit.open(kept) as ds:
        assert_frame_equal(ds.throttling(), computed)
    assert path.read_bytes().endswith(b"PAR1")


def test_a_report_read_back_is_the_report(kept: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every answer of a report kept, then read back: the same page (a report remembers its
    answers by their statements, so each answer read back has a statement of its own)."""

    def report() -> str:
        with k8saudit.open(kept) as ds:
            return build_report(ds).split("<h2>How this report was made</h2>")[0]

    computed = report()
    assert len(_kept_files(kept)) > 10
    read_back = report()
    monkeypatch.setenv(CACHE_ENV, "off")
    assert computed == report()
    assert read_back == computed


def test_the_answers_read_longest_ago_go_first(kept: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (throttling,) = _answers_of(kept, lambda ds: ds.throttling())
    files = [throttling, *_answers_of(kept, lambda ds: (ds.errors(), ds.latency()))]
    for age, path in enumerate(files):  # throttling's read longest ago
        os.utime(path, (age + 1, age + 1))
    with k8saudit.open(kept) as ds:
        ds.throttling()  # read now: the last to go
    assert throttling.stat().st_mtime > len(files)
    cache = AnswerCache(kept, read_manifest(kept))
    monkeypatch.setattr(answer_cache, "MAX_TOTAL_BYTES", throttling.stat().st_size + 1)
    cache._prune()
    assert _kept_files(kept) == [throttling], "the others go, read longer ago"
