"""The query library: every ``queries/*.sql`` loads, has help, runs, and matches its golden CSV.

Golden results live in ``tests/golden/queries/NAME.csv``; regenerate them after an intended change
with ``K8SAUDIT_UPDATE_GOLDEN=1 pytest tests/test_queries.py`` and review the diff.
"""

from __future__ import annotations

import inspect
import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import polars.selectors as cs
import pytest

import k8saudit
from k8saudit.analyses import bind_query
from k8saudit.dataset import Dataset
from k8saudit.exceptions import QueryError, UsageError
from k8saudit.params import parse_time
from k8saudit.query_loader import (
    get_query,
    list_queries,
    load_all,
    load_query_file,
    parameters_in,
    parse_query,
)

from .helpers import event, jsonl

REPO = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).parent / "golden" / "queries"
UPDATE_GOLDEN = os.environ.get("K8SAUDIT_UPDATE_GOLDEN") == "1"
QUERY_NAMES = [q.name for q in list_queries()]
#: the arguments the golden and empty-dataset runs give the analyses that take some (``-- arg:``)
EXAMPLE_ARGS: dict[str, dict[str, str]] = {
    "who": {"verb": "patch", "object": "deployments"},
    "history": {"object": "deployments/platform-app", "namespace": "platform"},
    "activity": {"actor": "bob"},
    "activity_timeline": {"actor": "bob"},
    "rbac_rules": {"subject": "system:serviceaccount:ci:deploy-bot"},
}


@pytest.fixture
def sample(sample_dataset: Path) -> Dataset:
    return k8saudit.open(sample_dataset)


@pytest.fixture
def empty(tmp_path: Path) -> Dataset:
    return k8saudit.open(tmp_path / "empty", must_exist=False)


def test_library_is_not_empty() -> None:
    assert {"top_talkers", "throttling", "timeline"} <= set(QUERY_NAMES)


@pytest.mark.parametrize("name", QUERY_NAMES)
def test_query_has_help(name: str) -> None:
    query = get_query(name)
    assert len(query.description) > 40
    assert all(p.description for p in query.params.values()), "every parameter is described"


@pytest.mark.parametrize("name", QUERY_NAMES)
def test_query_runs_on_an_empty_dataset(name: str, empty: Dataset) -> None:
    frame = empty.query(name, **EXAMPLE_ARGS.get(name, {}))
    assert frame.height == 0
    assert frame.columns


@pytest.mark.parametrize("name", QUERY_NAMES)
def test_query_matches_golden(name: str, sample: Dataset) -> None:
    # the events' source files are named by absolute path: the repository's is left out
    # (lists, such as history's changes, joined with ';' as CSV output joins them)
    frame = sample.query(name, **EXAMPLE_ARGS.get(name, {}))
    frame = frame.with_columns(cs.by_dtype(pl.List(pl.String)).list.join(";"))
    actual = frame.write_csv().replace(str(REPO), "<repo>")
    golden = GOLDEN / f"{name}.csv"
    if UPDATE_GOLDEN or not golden.exists():
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(actual)
        if not UPDATE_GOLDEN:
            pytest.fail(f"{golden} was missing and has been written; review and commit it")
    assert actual == golden.read_text()


def _ground_truth() -> dict:
    return json.loads((REPO / "sample_logs" / "ground_truth.json").read_text())


def test_top_talkers_matches_ground_truth(sample: Dataset) -> None:
    truth = _ground_truth()["clients"]
    frame = sample.top_talkers()
    found = {row["client"]: row for row in frame.iter_rows(named=True)}
    for client in truth:
        row = found[client["client"]]
        assert (row["requests"], row["throttled"]) == (
            client["requests"],
            client["throttled_429"],
        ), client["client"]
    assert frame["client"].to_list()[: len(truth)] == [c["client"] for c in truth]
    assert frame["requests"].sum() == _ground_truth()["totals"]["requests"]


def test_throttling_counts_every_429(sample: Dataset) -> None:
    frame = sample.throttling()
    assert frame["throttled"].sum() == _ground_truth()["totals"]["throttled_429"]
    assert frame["throttled_share"].sum() == pytest.approx(1, abs=1e-3)


def test_throttled_minutes_counts_only_the_minutes_with_429s(sample: Dataset) -> None:
    frame = sample.throttled_minutes()
    assert frame["throttled"].sum() == _ground_truth()["totals"]["throttled_429"]
    assert frame["request_share"].sum() == pytest.approx(1, abs=1e-3)
    assert frame["time_share"].sum() == pytest.approx(1, abs=1e-3)
    # sample_logs has 429s in two of its five minutes only
    assert 0 < frame["requests"].sum() < _ground_truth()["totals"]["requests"]


def test_throttled_minutes_rows_in_rows_out(tmp_path: Path) -> None:
    kubelet: dict[str, Any] = {
        "userAgent": "kubelet/v1.13.2 (linux/amd64) kubernetes/cff46ab",
        "user": {"username": "system:node:n1", "groups": ["system:nodes"]},
    }

    def request(audit_id: str, minute: int, latency_ms: int, code: int = 200, **extra: Any) -> dict:
        start = datetime(2019, 2, 4, 12, minute, 10, tzinfo=UTC)
        end = start + timedelta(milliseconds=latency_ms)
        return event(
            audit_id,
            requestReceivedTimestamp=start.isoformat().replace("+00:00", "Z"),
            stageTimestamp=end.isoformat().replace("+00:00", "Z"),
            responseStatus={"metadata": {}, "code": code},
            **extra,
        )

    events = [
        # 12:00, a minute with a 429: kubelet 3 requests (one a watch), fluentd 1
        request("k1", 0, 100, **kubelet),
        request("k2", 0, 0, 429, **kubelet),
        request("k3", 0, 60_000, verb="watch", **kubelet),
        request("f1", 0, 300),
        # 12:01, no 429: left out whoever sent what
        request("f2", 1, 900),
        request("f3", 1, 900),
        # 12:02, fluentd throttled
        request("f4", 2, 100, 429),
        request("k4", 2, 700, **kubelet),
    ]
    root = tmp_path / "ds"
    k8saudit.ingest([jsonl(tmp_path / "audit.log", events)], dataset=root)
    frame = k8saudit.open(root).throttled_minutes()
    assert frame.rows() == [
        # requests, share of the 6 requests, 429s, busy s (watch excluded), share of 1.2 s, mins
        ("kubelet", 4, 0.66667, 1, 0.8, 0.66667, 2),
        ("rest-client (logging:fluentd)", 2, 0.33333, 1, 0.4, 0.33333, 2),
    ]


def _watch_events() -> list[dict]:
    """Two clients' watches over 12:00-12:30 (a LIST at 12:30 ends the data).

    fluentd: w1 12:00-12:12 and w2 12:05-12:20 overlap (2 open); w3 opens as w2 closes (12:20,
    still 2 at most) and never completes. kubelet: k1 12:10 and k2 12:15, neither completes.
    """
    kubelet: dict[str, Any] = {
        "userAgent": "kubelet/v1.13.2 (linux/amd64) kubernetes/cff46ab",
        "user": {"username": "system:node:n1", "groups": ["system:nodes"]},
        "sourceIPs": ["10.0.0.9"],
    }
    cluster_pods = {"objectRef": {"resource": "pods", "apiVersion": "v1"}}

    def at(minute: int) -> str:
        return f"2019-02-04T12:{minute:02d}:00.000000Z"

    def watch(audit_id: str, start: int, end: int | None, query: str = "", **extra: Any) -> dict:
        namespaced = "objectRef" not in extra
        path = "/api/v1/namespaces/default/pods" if namespaced else "/api/v1/pods"
        return event(
            audit_id,
            "ResponseComplete" if end is not None else "ResponseStarted",
            verb="watch",
            requestURI=f"{path}?watch=true{query}",
            requestReceivedTimestamp=at(start),
            stageTimestamp=at(end if end is not None else start),
            **extra,
        )

    return [
        watch("w1", 0, 12),
        watch("w2", 5, 20, "&labelSelector=app%3Dweb", **cluster_pods),
        watch("w3", 20, None, "&fieldSelector=status.phase%3DRunning", **cluster_pods),
        event("l1", requestReceivedTimestamp=at(30), stageTimestamp=at(30)),
        watch("k1", 10, None, "&fieldSelector=spec.nodeName%3Dn1", **cluster_pods, **kubelet),
        watch("k2", 15, None, **kubelet),
    ]


def test_watches_rows_in_rows_out(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    k8saudit.ingest([jsonl(tmp_path / "audit.log", _watch_events())], dataset=root)
    frame = k8saudit.open(root).watches()
    assert frame.columns == [
        "client", "watches", "peak_open", "watches_per_min", "sources", "cluster_wide", "lists",
        "lists_per_watch", "restarts_per_hour", "selector_scoped", "median_duration_s",
        "window_start", "window_end",
    ]  # fmt: skip
    # the log's first line is k1's ResponseStarted at 12:10 (w1 was received at 12:00, but only
    # its ResponseComplete at 12:12 is in the log): the window is 12:10-12:30, 20 minutes
    window = frame.select("window_start", "window_end").unique().rows()
    assert window == [
        (datetime(2019, 2, 4, 12, 10, tzinfo=UTC), datetime(2019, 2, 4, 12, 30, tzinfo=UTC))
    ]
    assert frame.drop("window_start", "window_end").rows() == [
        # 3 watches in the 20-minute window: 0.15/min, 9/hour; w2 and w3 scoped by selectors;
        # completed w1 (720 s) and w2 (900 s): median 810 s
        ("rest-client (logging:fluentd)", 3, 2, 0.15, 1, 2, 1, 0.333, 9.0, 2, 810.0),
        # never completed: both still open at the end of the data
        ("kubelet", 2, 2, 0.1, 1, 1, 0, 0.0, 6.0, 1, None),
    ]


def test_open_watches_rows_in_rows_out(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    k8saudit.ingest([jsonl(tmp_path / "audit.log", _watch_events())], dataset=root)
    ds = k8saudit.open(root)
    frame = ds.open_watches(every="10m")
    fluentd = "rest-client (logging:fluentd)"

    def at(minute: int) -> datetime:
        return datetime(2019, 2, 4, 12, minute, tzinfo=UTC)

    # open at each interval's start, then watches started in the interval; both groups peak at
    # 2 open, so the tie breaks by name
    assert frame.rows() == [
        (at(0), "kubelet", 0, 0),
        (at(0), fluentd, 1, 2),  # w1 opened at 12:00:00 exactly
        (at(10), "kubelet", 1, 2),  # k1 opened at 12:10:00 exactly
        (at(10), fluentd, 2, 0),  # w1 and w2
        (at(20), "kubelet", 2, 0),
        (at(20), fluentd, 1, 1),  # w2 closed as w3 opened
        (at(30), "kubelet", 2, 0),
        (at(30), fluentd, 1, 0),  # w3 never completed: open to the end
    ]
    assert frame.columns == ["interval_start", "client", "open_watches", "started"]
    assert ds.open_watches(every="10m", limit=1)["client"].unique().to_list() == ["kubelet"]
    assert ds.open_watches(every="30m", client=fluentd).rows() == [
        (at(0), fluentd, 1, 3),
        (at(30), fluentd, 1, 0),
    ]


def test_filters_and_relative_time(sample: Dataset) -> None:
    everything = sample.top_talkers(by="verb")
    last_minute = sample.top_talkers(by="verb", since="1m")
    assert last_minute["requests"].sum() < everything["requests"].sum()
    lists = sample.top_talkers(by="resource", verb="list")
    assert lists["requests"].sum() == everything.filter(verb="list")["requests"].item()
    assert sample.top_talkers(code=429)["requests"].sum() == 528
    by_two = sample.top_talkers(by="client,verb", limit=3)
    assert by_two.columns[0] == "client,verb" and by_two.height == 3
    assert " | " in by_two[0, 0]


def test_source_filter_splits_by_log(sample: Dataset) -> None:
    total = sample.top_talkers()["requests"].sum()
    audit = sample.top_talkers(source="audit")["requests"].sum()
    access = sample.top_talkers(source="access")["requests"].sum()
    assert 0 < audit <= total and 0 < access <= total
    with pytest.raises(UsageError, match="audit, access, all"):
        sample.top_talkers(source="syslog")


def test_injection_is_just_a_value(sample: Dataset) -> None:
    assert sample.top_talkers(user="x' OR 1=1 --").height == 0
    with pytest.raises(UsageError, match="choose from client, user"):
        sample.top_talkers(by="client; DROP TABLE requests")
    with pytest.raises(UsageError, match="not allowed"):
        sample.top_talkers(sort="requests DESC; --")


def test_open_watches_on_the_sample(sample: Dataset) -> None:
    """sample_logs' watches never complete: each group's open count only grows, and the watches
    started before an interval are the ones open at its start."""
    frame = sample.open_watches(every="1m", limit=3)
    assert frame["client"].unique(maintain_order=True).to_list() == [
        "kubelet", "kube-proxy", "kube2iam"
    ]  # fmt: skip
    kubelet = frame.filter(client="kubelet")
    started_before = kubelet["started"].cum_sum().shift(1, fill_value=0)
    assert kubelet["open_watches"].to_list() == started_before.to_list()
    peaks = sample.watches().filter(client="kubelet")
    assert peaks["peak_open"].item() == peaks["watches"].item() == kubelet["started"].sum()


def test_open_watches_is_an_as_of_join_never_a_nested_loop(sample: Dataset) -> None:
    """DuckDB plans an ASOF join as a nested loop where it estimates the probing side under
    `asof_loop_join_threshold` rows; the grid of intervals is estimated at a few rows where a
    long window has thousands (on 10.1 M requests: 779 M rows joined, 37 s instead of 1.7 s)."""
    statement = get_query("open_watches").sql
    bound = bind_query(sample, "open_watches", {"every": "10s"}, {})
    used = {k: v for k, v in bound.items() if k in parameters_in(statement)}
    plan = sample.duckdb.execute("EXPLAIN (FORMAT json) " + statement, used).fetchall()[0][1]
    operators = set(re.findall(r'"name": "([A-Z_]+)"', plan))
    assert "ASOF_JOIN" in operators and "NESTED_LOOP_JOIN" not in operators


def test_a_report_counts_the_open_watches_once(sample: Dataset) -> None:
    """Inside `keeping()` (the report) the watches table and the open-watches chart read one
    table of open counts per filters and grouping, with the rows they get without it."""
    alone = (sample.watches(limit=10), sample.open_watches(every="1m"))

    def kept() -> int:
        query = "SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'k8saudit_kept_%'"
        return int(sample.duckdb.execute(query).fetchall()[0][0])

    with sample.keeping():
        assert sample.watches(limit=10).equals(alone[0]) and kept() == 1
        assert sample.open_watches(every="1m").equals(alone[1]) and kept() == 1
        by_user = sample.open_watches(every="1m", by="user")
        assert kept() == 2  # another grouping: open counts of its own
    assert kept() == 0
    assert by_user.equals(sample.open_watches(every="1m", by="user"))


def test_timeline_follows_top_groups(sample: Dataset) -> None:
    frame = sample.timeline(every="1m", limit=2)
    assert set(frame["client"]) == {"kubelet", "datadog-agent"}
    assert frame["requests"].sum() == 16834 + 7994


def test_query_by_name_converts_strings(sample: Dataset) -> None:
    frame = sample.query("top-talkers", limit="2", sort="throttled")
    assert frame["client"].to_list() == ["datadog-agent", "kubelet"]
    with pytest.raises(UsageError, match="unknown parameter 'bogus'"):
        sample.query("top_talkers", bogus="1")
    with pytest.raises(QueryError, match="no query named"):
        get_query("nope")


def test_parse_time_and_intervals() -> None:
    end = datetime(2019, 2, 4, 12, 30, tzinfo=UTC)
    assert parse_time("2h", end) == datetime(2019, 2, 4, 10, 30, tzinfo=UTC)
    assert parse_time("1h30m", end) == datetime(2019, 2, 4, 11, tzinfo=UTC)
    assert parse_time("1.5d", end) == datetime(2019, 2, 3, 0, 30, tzinfo=UTC)
    assert parse_time("2019-02-04T12:00:00Z", end) == datetime(2019, 2, 4, 12, tzinfo=UTC)
    assert parse_time("30m", None) is None
    with pytest.raises(UsageError, match="bad time 'yesterday' for --since"):
        parse_time("yesterday", end, "--since")
    timeline = get_query("timeline")
    assert timeline.bind({"every": "1m30s"})["every"] == timedelta(seconds=90)
    with pytest.raises(UsageError, match=r"bad duration '0s' for --every \(use e\.g\. 30m"):
        timeline.bind({"every": "0s"})
    assert timeline.bind({"by": "user"})["by"] == ["user"]
    with pytest.raises(UsageError, match="at most 3"):
        timeline.bind({"by": "client,user,verb,resource"})
    with pytest.raises(UsageError, match="must be 0"):
        timeline.bind({"limit": -1})
    assert timeline.bind({"limit": "0"})["limit"] is None
    assert timeline.bind({"limit": None})["limit"] is None
    assert timeline.bind({"by": None, "every": None})["by"] == ["client"]
    assert timeline.bind({})["limit"] == 5


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.sql"
    path.write_text(text)
    return path


def test_loader_rejects_undeclared_parameter(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "bad",
        "-- name: bad\n-- A bad query.\n-- param: limit INTEGER = 5  -- rows\n"
        "SELECT *\nFROM requests\nWHERE verb = $verb\nLIMIT $limit\n",
    )
    with pytest.raises(QueryError, match=rf"{path}:6: parameter \$verb is used but not declared"):
        load_query_file(path)


def test_loader_rejects_unused_parameter(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "unused",
        "-- name: unused\n-- Unused.\n-- param: limit INTEGER = 5  -- rows\nSELECT 1 -- $limit\n",
    )
    with pytest.raises(
        QueryError, match=rf"{path}:3: parameter 'limit' is declared but never used"
    ):
        load_query_file(path)


def test_loader_checks_the_header(tmp_path: Path) -> None:
    library = load_all()
    cases = {
        "-- name: other\n-- Text.\nSELECT 1": "differs from the file name",
        "-- name: h\nSELECT 1": "no description",
        "-- name: h\n-- Text.\n-- param: x BLOB = 1  -- x\nSELECT $x": "unknown type",
        "-- name: h\n-- Text.\n-- filters: common\nSELECT 1": "never reads `filtered`",
        "-- name: h\n-- Text.\n-- shape: pie\nSELECT 1": "unknown shape 'pie'",
        "-- name: h\n-- Text.\n-- chart: pie\nSELECT 1": r"h.sql:3: unknown chart 'pie' \(one",
        "-- name: h\n-- Text.\n-- cli: nope = 1\nSELECT 1": "`-- cli: nope` names no parameter",
        "-- name: h\n-- Text.\n-- param: x INTEGER FROM _nope  -- x\nSELECT $x": "no file '_nope'",
        "-- name: h\n-- Text.\n-- arg: nope\nSELECT 1": r"h.sql:3: `-- arg: nope` names no",
        "-- name: h\n-- Text.\n-- arg: x y z\n-- param: x INTEGER  -- x\nSELECT $x": "bad arg line",
        "-- name: h\n-- Text.\n-- arg: x\n-- arg: x\n-- param: x INTEGER  -- x\nSELECT $x": (
            "h.sql:4: argument 'x' declared twice"
        ),
        "-- name: h\n-- Text.\n-- arg: x [X]\n-- arg: y\n-- param: x INTEGER  -- x\n"
        "-- param: y INTEGER  -- y\nSELECT $x + $y": "required argument after an optional",
    }
    for text, message in cases.items():
        with pytest.raises(QueryError, match=message):
            load_query_file(_write(tmp_path, "h", text), library)
    good = "-- name: h\n-- Text.\n-- filters: common\nSELECT count(*) AS n FROM filtered"
    query = load_query_file(_write(tmp_path, "h", good), library)
    assert "since" in query.params and query.sql.startswith("WITH filtered AS")


def test_loader_includes_shared_parts() -> None:
    library = {k: v for k, v in load_all().items() if k in ("_filters", "_open_counts")}
    head = "-- name: w\n-- Text.\n-- filters: common\n"
    with pytest.raises(QueryError, match=r"w.sql:4: no part '_nope' \(parts: _open_counts\)"):
        parse_query(head + "-- with: _nope\nSELECT 1 FROM filtered", "w.sql", library)
    with pytest.raises(QueryError, match="never reads `open_counts`"):
        parse_query(head + "-- with: _open_counts\nSELECT 1 FROM filtered", "w.sql", library)
    body = "WITH x AS (SELECT 1) SELECT max(open_watches) FROM open_counts"
    query = parse_query(head + "-- with: _open_counts\n" + body, "w.sql", library)
    assert query.parts == ("_open_counts",)
    # the filters are read again where read, a part is held unless it declares `inline: yes`
    pattern = r"^WITH filtered AS NOT MATERIALIZED \(.*\),\nopen_counts AS \(.*\),\nx AS"
    assert re.search(pattern, query.sql, re.S)
    part = "-- name: _cheap\n-- A part.\n-- filters: common\n-- inline: yes\nSELECT * FROM filtered"
    library["_cheap"] = parse_query(part, "_cheap.sql", library)
    query = parse_query(head + "-- with: _cheap\nSELECT count(*) FROM cheap", "w.sql", library)
    assert "\ncheap AS NOT MATERIALIZED (\n" in query.sql
    with pytest.raises(QueryError, match=r"w\.sql: `-- inline:` is for parts"):
        parse_query(head + "-- inline: yes\nSELECT 1 FROM filtered", "w.sql", library)
    with pytest.raises(QueryError, match=r"_cheap\.sql:4: unknown inline value 'maybe'"):
        parse_query(part.replace(": yes", ": maybe"), "_cheap.sql", library)


def test_a_part_may_be_kept_read_by_a_later_part_and_declared_again() -> None:
    library = {k: v for k, v in load_all().items() if k == "_filters"}
    head = "-- name: w\n-- Text.\n-- filters: common\n"
    base = "-- name: _base\n-- A part.\n-- filters: common\nSELECT * FROM filtered"
    library["_base"] = parse_query(base, "_base.sql", library)
    top = (
        "-- name: _top\n-- A part of a part.\n-- filters: common\n-- keep: yes\n"
        "-- param: n INTEGER = 3  -- how many\nSELECT * FROM base LIMIT $n"
    )
    library["_top"] = parse_query(top, "_top.sql", library)
    assert library["_top"].keep and not library["_base"].keep
    # `base` is read by `top`, not by the query: declaring it is right
    text = head + "-- with: _base\n-- with: _top\nSELECT count(*) FROM top"
    query = parse_query(text, "w.sql", library)
    assert query.own == ("n",) and query.params["n"].default == 3
    # the part's parameter declared again by the query: its own place and help, not unused
    again = head + "-- with: _base\n-- with: _top\n-- param: n INTEGER = 5  -- rows\n"
    query = parse_query(again + "SELECT count(*) FROM top", "w.sql", library)
    assert query.params["n"].default == 5
    with pytest.raises(QueryError, match=r"w\.sql:6: 'n' is INTEGER in the part that uses it"):
        parse_query(again.replace("n INTEGER = 5", "n VARCHAR = 'x'") + "SELECT 1 FROM top",
                    "w.sql", library)  # fmt: skip
    with pytest.raises(QueryError, match=r"w\.sql: `-- keep:` is for parts"):
        parse_query(head + "-- keep: yes\nSELECT 1 FROM filtered", "w.sql", library)
    both = top.replace("-- keep: yes", "-- keep: yes\n-- inline: yes")
    with pytest.raises(QueryError, match=r"_top\.sql: a part computed again wherever read"):
        parse_query(both, "_top.sql", library)


def test_a_parts_parameters_are_its_readers_own() -> None:
    """_inflight_levels declares `totals`: inflight and inflight-peaks take it after theirs."""
    for name in ("inflight", "inflight_peaks"):
        query = get_query(name)
        assert query.own[-1] == "totals", name
        assert query.params["totals"].default is True
        assert query.bind({"totals": "false"})["totals"] is False
    assert "totals" not in get_query("timeline").params


def test_every_analysis_declares_its_shape_and_chart() -> None:
    for query in list_queries():
        assert query.shape in ("grouped", "over-time", "listing"), query.name
        # a listing of requests (who, history) has nothing to draw
        assert query.chart in ("bar", "line") or query.shape == "listing", query.name
    assert get_query("timeline").params["every"].type == "DURATION"
    assert "audit_from" not in {p.name for p in get_query("errors").options}


def test_the_library_needs_a_shape(tmp_path: Path) -> None:
    _write(tmp_path, "flat", "-- name: flat\n-- No shape.\nSELECT 1")
    with pytest.raises(QueryError, match=r"flat\.sql: no `-- shape:` line"):
        load_all(tmp_path)


def test_source_auto_counts_old_access_logs_once(tmp_path: Path) -> None:
    """An audit log and an old-format access log (no audit-IDs) of the same period."""
    audit = jsonl(
        tmp_path / "audit.log",
        [
            event(f"id{i}", requestReceivedTimestamp=f"2019-02-04T12:00:0{3 * i}Z",
                  stageTimestamp=f"2019-02-04T12:00:0{3 * i}.5Z")
            for i in range(3)
        ],
    )  # fmt: skip
    access = tmp_path / "kube-apiserver.log"
    lines = [
        f"I0204 12:00:0{i + 1}.000000 1 wrap.go:47] GET /api/v1/namespaces/default/pods: (1ms) 200 "
        f"[[rest-client/2.0.2] 10.0.0.7:80]"
        for i in range(3)
    ]
    lines.append(  # an hour later: the audit log does not cover it
        "I0204 13:00:00.000000 1 wrap.go:47] GET /api/v1/nodes: (1ms) 200 [[kubelet/v1] 10.0.0.9:1]"
    )
    access.write_text("\n".join(lines) + "\n")
    k8saudit.ingest([audit, access], dataset=tmp_path / "ds", year=2019)
    ds = k8saudit.open(tmp_path / "ds")

    def total(source: str) -> int:
        return int(ds.top_talkers(source=source)["requests"].sum())

    assert (total("auto"), total("audit"), total("access"), total("all")) == (4, 3, 4, 7)


def test_module_level_shortcuts(sample: Dataset) -> None:
    frame = k8saudit.top_talkers(sample.root, limit=3)
    assert frame.equals(sample.top_talkers(limit=3))
    assert k8saudit.query(sample.root, "throttling", limit="2").height == 2


def test_every_analysis_is_a_method_and_a_shortcut(sample: Dataset) -> None:
    assert set(QUERY_NAMES) <= set(dir(sample)) and set(QUERY_NAMES) <= set(k8saudit.__all__)
    assert k8saudit.errors(sample.root, by="verb").equals(sample.errors(by="verb"))
    signature = inspect.signature(sample.top_talkers)
    assert [(p.name, p.default) for p in list(signature.parameters.values())[:3]] == [
        ("by", "client"), ("sort", "requests"), ("limit", None)
    ]  # fmt: skip
    assert signature.parameters["since"].kind is inspect.Parameter.KEYWORD_ONLY
    assert "    sort: rank by this column (requests, req_per_s" in str(sample.top_talkers.__doc__)
    assert sample.top_talkers("verb", "throttled", 1)["verb"].to_list() == ["get"]
    with pytest.raises(TypeError, match="unexpected keyword argument 'every'"):
        sample.top_talkers(every="1m")
    with pytest.raises(AttributeError, match="no attribute 'bogus'"):
        sample.bogus  # noqa: B018


def test_query_by_name_takes_limit_zero_and_by(sample: Dataset) -> None:
    everything = sample.query("throttling", limit="0")
    assert everything.height == sample.query("throttling").height > 2
    frame = sample.query("top_talkers", by="resource", limit="3")
    assert frame.columns[0] == "resource" and frame.height == 3
