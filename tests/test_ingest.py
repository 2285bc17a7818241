"""Ingest behaviour on hand-made inputs: bad lines, re-runs, split stages, joins, crash safety."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import zstandard

import k8saudit
from k8saudit import store
from k8saudit.exceptions import DatasetError, DatasetLockedError, InputError, UsageError
from k8saudit.ingestion import requests as requests_module
from k8saudit.ingestion.requests import Strategy
from k8saudit.ingestion.staging import Stager
from tests.conftest import SAMPLE_LOGS
from tests.helpers import event, jsonl, rows, write_lines


def test_garbage_lines_are_rejected_with_their_line_numbers(tmp_path: Path) -> None:
    lines = [json.dumps(event(f"id-{i}")) for i in range(5)]
    lines.insert(1, '{"kind":"Event","auditID":"trunc')  # truncated JSON
    lines.insert(3, "\x00\x01\x02 binary \xff junk")
    lines.insert(5, '{"hello": "world"}')  # JSON, but not an audit event
    log = write_lines(tmp_path / "audit.log", lines)
    report = k8saudit.ingest([log], dataset=tmp_path / "ds")
    assert (report.requests_after, report.rejected, report.skipped) == (5, 3, 0)
    rejects = list(k8saudit.open(tmp_path / "ds").rejects())
    assert [(r["line"], r["reason"].split(" (")[0]) for r in rejects] == [
        (2, "invalid JSON"),
        (4, "invalid JSON"),
        (6, "not a Kubernetes audit event"),
    ]
    assert rejects[2]["text"] == '{"hello": "world"}'
    lines_of = [r["source_line"] for r in rows(tmp_path / "ds")]
    assert lines_of == [1, 3, 5, 7, 8]


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_a_lone_carriage_return_keeps_the_line_numbers(tmp_path: Path, suffix: str) -> None:
    """DuckDB ends a line at a lone CR, Python's readers keep it inside: the file is read in
    Python then, each bad line one reject with its number and whole text."""
    lines = [json.dumps(event(f"id-{i}")) for i in range(4)]
    lines.insert(1, "garbage with a lone \r carriage return")
    lines.insert(3, "more garbage")
    data = ("\n".join(lines) + "\n").encode()
    log = tmp_path / f"audit.log{suffix}"
    log.write_bytes(gzip.compress(data) if suffix else data)
    report = k8saudit.ingest([log], dataset=tmp_path / "ds")
    assert (report.requests_after, report.rejected) == (4, 2)
    rejects = list(k8saudit.open(tmp_path / "ds").rejects())
    assert [(r["line"], r["text"]) for r in rejects] == [
        (2, "garbage with a lone \r carriage return"),
        (4, "more garbage"),
    ]
    assert [r["source_line"] for r in rows(tmp_path / "ds")] == [1, 3, 5, 6]


def test_reingest_is_a_noop(tmp_path: Path) -> None:
    log = jsonl(tmp_path / "audit.log", [event("a"), event("b")])
    first = k8saudit.ingest([log], dataset=tmp_path / "ds")
    manifest = (tmp_path / "ds" / "manifest.json").read_text()
    again = k8saudit.ingest([log, tmp_path], dataset=tmp_path / "ds")
    assert (first.requests_added, again.requests_added, again.requests_after) == (2, 0, 2)
    assert {f.status for f in again.files} == {"duplicate"}
    assert (tmp_path / "ds" / "manifest.json").read_text() == manifest


def test_stages_split_across_runs_merge_into_one_request(tmp_path: Path) -> None:
    received = jsonl(tmp_path / "a.log", [event(i, "RequestReceived") for i in ("x", "y", "z")])
    completed = jsonl(tmp_path / "b.log", [event(i) for i in ("x", "y")])
    ds = tmp_path / "ds"
    k8saudit.ingest([received], dataset=ds)
    assert [(r["audit_id"], r["is_complete"]) for r in rows(ds)] == [
        ("x", False),
        ("y", False),
        ("z", False),
    ]
    report = k8saudit.ingest([completed], dataset=ds)
    assert (report.requests_added, report.requests_after) == (0, 3)
    got = [(r["audit_id"], r["stage"], r["code"], r["latency_ms"]) for r in rows(ds)]
    assert got == [
        ("x", "ResponseComplete", 200, 250.0),
        ("y", "ResponseComplete", 200, 250.0),
        ("z", "RequestReceived", None, None),
    ]
    assert len(k8saudit.open(ds).manifest.parts) == 1  # the day was re-compacted


def test_stages_in_two_files_of_one_run(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    jsonl(tmp_path / "logs" / "1.log", [event("w", "RequestReceived", verb="watch")])
    finished = event("w", "ResponseComplete", verb="watch", stageTimestamp="2019-02-04T12:05:00Z")
    jsonl(tmp_path / "logs" / "2.log", [event("w", "ResponseStarted", verb="watch"), finished])
    k8saudit.ingest([tmp_path / "logs"], dataset=tmp_path / "ds")
    (row,) = rows(tmp_path / "ds")
    assert (row["stage"], row["is_watch"], row["is_long_running"]) == (
        "ResponseComplete",
        True,
        True,
    )
    assert row["latency_ms"] == 300_000.0


def test_audit_and_access_log_of_the_same_request_are_one_request(tmp_path: Path) -> None:
    audit = jsonl(tmp_path / "audit.log", [event("0f6b2f0e-1111-2222-3333-444455556666")])
    access = write_lines(
        tmp_path / "kube-apiserver.log",
        [
            'I0204 12:00:00.250000      11 httplog.go:132] "HTTP" verb="LIST" '
            'URI="/api/v1/namespaces/default/pods?limit=500" latency="250ms" '
            'userAgent="rest-client/2.0.2 (linux-gnu x86_64) ruby/2.5.1p57" '
            'audit-ID="0f6b2f0e-1111-2222-3333-444455556666" srcIP="10.0.0.7:4321" '
            'apf_pl="workload-low" apf_fs="service-accounts" apf_iseats=1 apf_fseats=0 '
            'apf_additionalLatency="0s" apf_execution_time="249ms" resp=200',
            'I0204 12:00:01.000000      11 httplog.go:132] "HTTP" verb="GET" URI="/healthz" '
            'latency="1ms" userAgent="kube-probe/1.28" audit-ID="" srcIP="10.0.0.1:1" resp=200',
        ],
    )
    report = k8saudit.ingest([audit, access], dataset=tmp_path / "ds")
    assert report.requests_after == 2
    merged, probe = rows(tmp_path / "ds", "SELECT * FROM requests ORDER BY path")
    assert (merged["has_audit"], merged["has_access"], merged["log_format"]) == (
        True,
        True,
        "audit-v1",
    )
    assert (merged["apf_priority_level"], merged["apf_flow_schema"]) == (
        "workload-low",
        "service-accounts",
    )
    assert merged["apf_execution_ms"] == 249.0 and merged["username"].endswith(":fluentd")
    assert merged["client"] == "rest-client (logging:fluentd)"
    assert (probe["has_audit"], probe["verb"], probe["audit_id"]) == (False, "get", None)


def test_access_log_arriving_in_a_later_run_fills_apf(tmp_path: Path) -> None:
    audit = jsonl(tmp_path / "audit.log", [event("abc")])
    access = write_lines(
        tmp_path / "access.log",
        [
            "2019-02-04T12:00:00.250000Z stderr F "
            'I0204 12:00:00.250000 11 httplog.go:132] "HTTP" verb="LIST" URI="/api/v1/pods" '
            'latency="250ms" userAgent="x" audit-ID="abc" srcIP="10.0.0.7:1" apf_pl="exempt" '
            "resp=200"
        ],
    )
    k8saudit.ingest([audit], dataset=tmp_path / "ds")
    k8saudit.ingest([access], dataset=tmp_path / "ds")
    (row,) = rows(tmp_path / "ds")
    assert (row["apf_priority_level"], row["has_access"], row["user_agent"][:11]) == (
        "exempt",
        True,
        "rest-client",
    )


def _structured(at: str, audit_id: str, uri: str = "/api/v1/pods") -> str:
    return (
        f'I0204 12:00:{at} 11 httplog.go:132] "HTTP" verb="LIST" URI="{uri}" latency="5ms" '
        f'userAgent="kubelet/v1.28.0" audit-ID="{audit_id}" srcIP="10.0.0.7:1" resp=200'
    )


@pytest.mark.parametrize(
    ("lines", "access_only", "requests"),
    [
        # every line keyed by its audit-ID, or by content and rank (glog lines have no ID:
        # the two identical ones are two requests)
        (
            [
                _structured("00.100000", "a"),
                _structured("00.200000", "b", "/api/v1/namespaces/x/pods/p"),
                _structured("01.000000", ""),
                "I0204 12:00:02.000000 1 wrap.go:47] GET /api/v1/nodes: (1ms) 200 [k 10.0.0.1:2]",
                "I0204 12:00:02.000000 1 wrap.go:47] GET /api/v1/nodes: (1ms) 200 [k 10.0.0.1:2]",
                "E0205 00:00:01.000000 1 wrap.go:47] GET /healthz: (2ms) 500 [probe 10.0.0.1:3]",
            ],
            True,
            6,
        ),
        # one audit-ID logged twice: the merge keeps one row for it
        ([_structured("00.100000", "a"), _structured("00.300000", "a")], False, 1),
    ],
)
def test_access_logs_alone_skip_the_merge_with_the_same_requests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lines: list[str], access_only: bool,
    requests: int,
) -> None:  # fmt: skip
    """A run of access-log lines only, each its own key, is written without merge_requests
    (Strategy.ACCESS_ONLY); the requests are those of the merges it skips."""
    log = write_lines(tmp_path / "kube-apiserver.log", lines)
    chosen: list[Strategy] = []
    choose = requests_module.choose_strategy

    def spy(stager: Stager) -> Strategy:
        chosen.append(choose(stager))
        return chosen[-1]

    monkeypatch.setattr(k8saudit.ingestion, "choose_strategy", spy)
    report = k8saudit.ingest([log], dataset=tmp_path / "default", year=2019)
    assert chosen == [Strategy.ACCESS_ONLY if access_only else Strategy.SIMPLE_WITH_ACCESS]
    assert report.requests_after == requests
    general = k8saudit.ingest([log], dataset=tmp_path / "general", year=2019,
                              _strategy=Strategy.GENERAL)  # fmt: skip
    assert general.requests_after == requests
    query = "SELECT * FROM requests ORDER BY ALL"
    assert rows(tmp_path / "general", query) == rows(tmp_path / "default", query)


@pytest.mark.parametrize("compress", ["gzip", "zstd"])
def test_compressed_inputs_are_detected_by_content(tmp_path: Path, compress: str) -> None:
    data = "".join(json.dumps(event(f"id{i}")) + "\n" for i in range(3)).encode()
    blob = gzip.compress(data) if compress == "gzip" else zstandard.ZstdCompressor().compress(data)
    (tmp_path / "audit.log").write_bytes(blob)  # no telling suffix
    report = k8saudit.ingest([tmp_path / "audit.log"], dataset=tmp_path / "ds")
    assert (report.requests_after, report.files[0].format) == (3, "audit-jsonl")


def test_blank_lines_keep_line_numbers_exact(tmp_path: Path) -> None:
    log = write_lines(tmp_path / "a.log", [json.dumps(event("a")), "", json.dumps(event("b"))])
    report = k8saudit.ingest([log], dataset=tmp_path / "ds")
    assert (report.requests_after, report.skipped) == (2, 1)
    assert [r["source_line"] for r in rows(tmp_path / "ds")] == [1, 3]


def test_wrapped_formats(tmp_path: Path) -> None:
    inner = [event(f"w{i}") for i in range(4)]
    (tmp_path / "eventlist.json").write_text(
        json.dumps(
            {"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "items": inner[:2]}, indent=2
        )
    )
    write_lines(
        tmp_path / "cloudwatch.jsonl",
        [json.dumps({"timestamp": 1, "message": json.dumps(inner[2])})],
    )
    batch = {
        "messageType": "DATA_MESSAGE",
        "logStream": "kube-apiserver-audit-1",
        "logEvents": [{"id": "1", "timestamp": 1, "message": json.dumps(inner[3])}],
    }
    write_lines(tmp_path / "subscription.jsonl", [json.dumps(batch)])
    k8saudit.ingest([tmp_path], dataset=tmp_path / "ds")
    got = rows(tmp_path / "ds", "SELECT audit_id, log_format, apiserver FROM requests ORDER BY 1")
    assert [tuple(r.values()) for r in got] == [
        ("w0", "eventlist-audit-v1", None),
        ("w1", "eventlist-audit-v1", None),
        ("w2", "eks-audit-v1", None),
        ("w3", "eks-audit-v1", "kube-apiserver-audit-1"),
    ]


def test_uri_derivation_for_access_rows(tmp_path: Path) -> None:
    methods = [
        ("GET", "/api/v1/namespaces/ns1/pods", "list", "namespace", "pods", None),
        ("GET", "/api/v1/pods?watch=true&resourceVersion=5", "watch", "cluster", "pods", None),
        ("GET", "/api/v1/watch/namespaces/ns1/pods", "watch", "namespace", "pods", None),
        ("GET", "/api/v1/namespaces/ns1", "get", "object", "namespaces", "ns1"),
        ("PUT", "/api/v1/namespaces/ns1/finalize", "update", "object", "namespaces", "ns1"),
        (
            "DELETE",
            "/apis/apps/v1/namespaces/ns1/deployments",
            "deletecollection",
            "namespace",
            "deployments",
            None,
        ),
        (
            "POST",
            "/api/v1/namespaces/ns1/pods/p1/exec?command=sh",
            "create",
            "object",
            "pods",
            "p1",
        ),
        ("GET", "/healthz", "get", None, None, None),
    ]
    lines = [
        f"I0204 12:00:0{i}.000000 1 wrap.go:47] {m} {uri}: (1.5ms) 200 "
        f"[[kubectl/v1.14.0] 10.0.0.{i}:80]"
        for i, (m, uri, *_rest) in enumerate(methods)
    ]
    write_lines(tmp_path / "kube-apiserver.log", lines)
    k8saudit.ingest([tmp_path / "kube-apiserver.log"], dataset=tmp_path / "ds")
    got = rows(
        tmp_path / "ds",
        "SELECT http_method, path, verb, scope, resource, name, is_long_running "
        "FROM requests ORDER BY source_line",
    )
    assert [(r["verb"], r["scope"], r["resource"], r["name"]) for r in got] == [
        (verb, scope, resource, name) for _m, _u, verb, scope, resource, name in methods
    ]
    assert [r["is_long_running"] for r in got] == [
        False,
        True,
        True,
        False,
        False,
        False,
        True,
        False,
    ]


@pytest.mark.parametrize(
    ("agent", "username", "client", "version"),
    [
        (
            "datadog-agent/7.50.0 (linux/amd64)",
            "system:serviceaccount:datadog:datadog-agent",
            "datadog-agent",
            "7.50.0",
        ),
        (
            "kube-controller-manager/v1.28.0 (linux/amd64) kubernetes/abc123/system:serviceaccount:"
            "kube-system:replicaset-controller",
            "system:serviceaccount:kube-system:replicaset-controller",
            "kube-controller-manager/replicaset-controller",
            "v1.28.0",
        ),
        (
            "kubelet/v1.11.7 (linux/amd64) kubernetes/65ecaf0",
            "system:node:ip-10-0-1-2",
            "kubelet",
            "v1.11.7",
        ),
        (
            "rest-client/2.0.2 (linux-gnu x86_64) ruby/2.5.1p57",
            "system:serviceaccount:logging:fluentd",
            "rest-client (logging:fluentd)",
            "2.0.2",
        ),
        ("Go-http-client/1.1", "system:node:ip-10-0-1-2", "Go-http-client (system:node:*)", "1.1"),
        ("curl/8.1", "alice", "curl (alice)", "8.1"),
        ("", "alice", None, None),
    ],
)
def test_client_normalization(
    tmp_path: Path, agent: str, username: str, client: str | None, version: str | None
) -> None:
    jsonl(tmp_path / "a.log", [event("c", userAgent=agent, user={"username": username})])
    k8saudit.ingest([tmp_path / "a.log"], dataset=tmp_path / "ds")
    (row,) = rows(tmp_path / "ds")
    assert (row["client"], row["client_version"], row["user_agent"]) == (client, version, agent)


def test_second_ingest_waits_for_no_one(tmp_path: Path) -> None:
    log = jsonl(tmp_path / "a.log", [event("a")])
    with store.locked(tmp_path / "ds"), pytest.raises(DatasetLockedError):
        k8saudit.ingest([log], dataset=tmp_path / "ds")


def test_crash_before_commit_leaves_the_dataset_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ds = tmp_path / "ds"
    k8saudit.ingest([jsonl(tmp_path / "a.log", [event("a")])], dataset=ds)
    before = (ds / "manifest.json").read_text()

    def crash(root: Path, manifest: store.Manifest) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("k8saudit.ingestion.commit.write_manifest", crash)
    with pytest.raises(KeyboardInterrupt):
        k8saudit.ingest([jsonl(tmp_path / "b.log", [event("a"), event("b")])], dataset=ds)
    monkeypatch.undo()
    assert (ds / "manifest.json").read_text() == before
    assert [r["audit_id"] for r in rows(ds)] == ["a"]
    # the next run clears the debris and ingests b.log as new
    report = k8saudit.ingest([tmp_path / "b.log"], dataset=ds)
    assert report.requests_after == 2
    parts = sorted(p.relative_to(ds).as_posix() for p in (ds / "requests").rglob("*.parquet"))
    assert parts == sorted(p.path for p in k8saudit.open(ds).manifest.parts)


def test_missing_input_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        k8saudit.ingest([tmp_path / "nope.log"], dataset=tmp_path / "ds")


def test_unknown_files_are_reported_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello\nworld\n")
    (tmp_path / "blob.bin").write_bytes(bytes(range(256)) * 4)
    jsonl(tmp_path / "a.log", [event("a")])
    report = k8saudit.ingest([tmp_path], dataset=tmp_path / "ds")
    assert sorted((Path(f.path).name, f.status) for f in report.files) == [
        ("a.log", "ingested"),
        ("blob.bin", "unreadable"),
        ("notes.txt", "unreadable"),
    ]


def test_empty_dataset_has_the_full_schema(tmp_path: Path) -> None:
    from k8saudit.schema import REQUEST_COLUMNS

    ds = k8saudit.open(tmp_path, must_exist=False)
    frame = ds.sql("SELECT * FROM requests")
    assert (frame.height, tuple(frame.columns)) == (0, REQUEST_COLUMNS)
    assert ds.requests().collect().columns == list(REQUEST_COLUMNS)


def test_apiserver_log_without_access_lines_says_why(tmp_path: Path) -> None:
    log = write_lines(
        tmp_path / "kube-apiserver.log",
        [
            "I0204 12:00:00.000000       1 controller.go:47] Starting controller",
            "W0204 12:00:02.000000       1 reflector.go:3] watch closed",
        ],
    )
    report = k8saudit.ingest([log], dataset=tmp_path / "ds")
    (file_report,) = report.files
    assert (file_report.format, report.requests_after, report.skipped) == ("access-log", 0, 2)
    assert "-v=3" in file_report.message


def test_access_text_inside_json_records(tmp_path: Path) -> None:
    line = (
        'I0823 08:55:54.331196 1 httplog.go:132] "HTTP" verb="GET" URI="/api/v1/nodes/n1" '
        'latency="1ms" userAgent="kubelet/v1.28.0" audit-ID="b1" srcIP="10.0.0.1:443" resp=200'
    )
    aks = {
        "records": [
            {
                "category": "kube-apiserver",
                "time": "2023-08-23T08:55:54.0000000Z",
                "properties": {"log": line + "\nI0823 08:55:54.400000 1 x.go:1] hi\n", "pod": "p1"},
            }
        ]
    }
    docker = {"log": line.replace("b1", "b2") + "\n", "stream": "stderr",
              "time": "2023-08-23T08:55:55.5Z"}  # fmt: skip
    write_lines(tmp_path / "export.json", [json.dumps(aks), json.dumps(docker)])
    report = k8saudit.ingest([tmp_path / "export.json"], dataset=tmp_path / "ds")
    assert (report.requests_after, report.skipped, report.rejected) == (2, 1, 0)
    query = "SELECT audit_id, apiserver, source_line, received_at FROM requests ORDER BY 1"
    got = rows(tmp_path / "ds", query)
    assert [(r["audit_id"], r["apiserver"], r["source_line"]) for r in got] == [
        ("b1", "p1", 1),
        ("b2", None, 2),
    ]
    assert got[0]["received_at"].isoformat() == "2023-08-23T08:55:54.330196+00:00"
    assert got[1]["received_at"].isoformat() == "2023-08-23T08:55:55.499000+00:00"


def test_year_and_zone_of_klog_lines(tmp_path: Path) -> None:
    log = write_lines(
        tmp_path / "kube-apiserver.log",
        ['I1126 22:24:17.000000 1 wrap.go:42] GET /api/v1/endpoints: (2ms) 429 [[kube-proxy] '
         "10.0.0.1:1]"],
    )  # fmt: skip
    k8saudit.ingest([log], dataset=tmp_path / "ds", year=2018, tz="America/New_York")
    (row,) = rows(tmp_path / "ds")
    assert row["completed_at"].isoformat() == "2018-11-27T03:24:17+00:00"
    files = k8saudit.open(tmp_path / "ds").manifest.files
    assert files[0].time_source == "year 2018 from --year, zone America/New_York"
    with pytest.raises(UsageError, match="not a time zone"):
        k8saudit.ingest([log], dataset=tmp_path / "ds2", tz="Mars/Base")


def test_progress_reports_reading_then_merging(tmp_path: Path) -> None:
    from k8saudit.progress import IngestProgress

    seen: list[IngestProgress] = []
    logs = [jsonl(tmp_path / f"{n}.log", [event(n)]) for n in ("a", "b")]
    k8saudit.ingest(logs, dataset=tmp_path / "ds", progress=seen.append)
    total = sum(p.stat().st_size for p in logs)
    assert [(p.phase, p.files_done, p.bytes_total) for p in seen[:1] + seen[-1:]] == [
        ("reading", 0, total),
        ("merging", 2, total),
    ]
    assert seen[-1].bytes_done == total


def test_merge_progress_moves_through_its_steps() -> None:
    import duckdb

    from k8saudit.progress import IngestProgress, MergeSteps, bytes_read

    seen: list[float] = []
    at = IngestProgress("merging", 1, 1, 10, 10)
    merging = MergeSteps(duckdb.connect(), lambda p: seen.append(p.merged_percent), at)
    merging.add(2)
    first, second = merging.step(), merging.step()
    assert (first.at(50.0).merged_percent, second.at(50.0).merged_percent) == (25.0, 75.0)
    merging.add(2)  # more work turned up (a re-merge): the same step is a smaller share
    assert second.at(100.0).merged_percent == 50.0
    with merging.step():
        pass
    assert seen == [50.0]  # reported as the step starts
    # a step given the bytes its query reads measures them as the process reads them
    before = bytes_read()
    size = len(Path(__file__).read_bytes())
    after = bytes_read()
    if before is not None and after is not None:  # Linux
        assert after - before >= size


def test_compressed_log_with_blank_and_bad_lines_keeps_exact_lines(tmp_path: Path) -> None:
    lines = [json.dumps(event("a")), json.dumps(event("b")), "", json.dumps(event("c")),
             '{"truncated', json.dumps(event("d")), '{"not": "an event"}']  # fmt: skip
    (tmp_path / "audit.log.gz").write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    report = k8saudit.ingest([tmp_path / "audit.log.gz"], dataset=tmp_path / "ds")
    assert (report.requests_after, report.skipped, report.rejected) == (4, 1, 2)
    assert [r["source_line"] for r in rows(tmp_path / "ds")] == [1, 2, 4, 6]
    rejects = [
        (r["line"], r["reason"], r["text"]) for r in k8saudit.open(tmp_path / "ds").rejects()
    ]
    assert rejects == [
        (5, "invalid JSON", '{"truncated'),
        (7, "not a Kubernetes audit event", '{"not": "an event"}'),
    ]


def test_requests_without_audit_id_on_one_line_stay_distinct(tmp_path: Path) -> None:
    """Several GKE entries without an operation id in one JSON array: one request each."""
    entries = [
        {"protoPayload": {"serviceName": "k8s.io", "methodName": "io.k8s.core.v1.pods.list",
                          "resourceName": "core/v1/namespaces/ns/pods"},
         "timestamp": "2024-01-19T13:47:18Z"}
        for _ in range(3)
    ]  # fmt: skip
    (tmp_path / "gke.json").write_text(json.dumps(entries))
    report = k8saudit.ingest([tmp_path / "gke.json"], dataset=tmp_path / "ds")
    assert (report.events, report.requests_after) == (3, 3)


def test_grown_access_log_is_not_counted_twice(tmp_path: Path) -> None:
    """Old-format access lines have no audit ID: a re-read line must find its earlier self."""
    lines = [
        f"I0204 12:00:0{i}.000000 1 wrap.go:47] GET /api/v1/nodes/n{i}: (1ms) 200 "
        f"[[kubelet/v1.14] 10.0.0.{i}:1]"
        for i in range(3)
    ]
    log = write_lines(tmp_path / "kube-apiserver.log", lines[:2])
    k8saudit.ingest([log], dataset=tmp_path / "ds", year=2019)
    write_lines(log, lines)  # the file grew: new content hash, two old lines and a new one
    report = k8saudit.ingest([log], dataset=tmp_path / "ds", year=2019)
    assert (report.requests_before, report.requests_after) == (2, 3)


def test_truncated_gzip_is_reported_and_keeps_its_readable_part(tmp_path: Path) -> None:
    data = "".join(json.dumps(event(f"id{i}")) + "\n" for i in range(5000)).encode()
    blob = gzip.compress(data)
    (tmp_path / "audit.log.gz").write_bytes(blob[: len(blob) // 2])
    jsonl(tmp_path / "ok.log", [event("fine")])
    report = k8saudit.ingest([tmp_path], dataset=tmp_path / "ds")
    status = {Path(f.path).name: (f.status, f.message.split(" (")[0]) for f in report.files}
    assert status == {"audit.log.gz": ("ingested", ""), "ok.log": ("ingested", "")}
    (damaged,) = (f for f in report.files if f.path.endswith(".gz"))
    assert damaged.warning.startswith("truncated or damaged gzip file: read up to line ")
    assert report.rejected == 1  # the rest of the file, with the reason
    assert report.requests_after == damaged.events + 1 > 1


def test_a_file_rotated_away_during_the_run_is_reported_not_fatal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from k8saudit import ingestion

    gone = jsonl(tmp_path / "audit-1.log", [event("old")])
    jsonl(tmp_path / "audit.log", [event("new")])
    sniff = ingestion.sniff

    def rotate_then_sniff(source: Any) -> Any:
        if source.path == gone:
            gone.unlink()  # deleted by log rotation after discovery
        return sniff(source)

    monkeypatch.setattr(ingestion, "sniff", rotate_then_sniff)
    report = k8saudit.ingest([tmp_path], dataset=tmp_path / "ds")
    status = {Path(f.path).name: f.status for f in report.files}
    assert status == {"audit-1.log": "unreadable", "audit.log": "ingested"}
    assert report.requests_after == 1


def test_the_dataset_is_never_read_as_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    jsonl(tmp_path / "audit.log", [event("a"), {"bad": 1}])
    k8saudit.ingest(["audit.log"])  # the default ./k8saudit-data, with a rejects file
    report = k8saudit.ingest([str(p) for p in sorted(tmp_path.iterdir())])  # `ingest *`
    assert [(Path(f.path).name, f.status) for f in report.files] == [("audit.log", "duplicate")]


def test_a_directory_with_data_but_no_manifest_is_left_alone(tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    k8saudit.ingest([jsonl(tmp_path / "a.log", [event("a")])], dataset=ds)
    (ds / "manifest.json").unlink()
    parts = sorted((ds / "requests").rglob("*.parquet"))
    with pytest.raises(DatasetError, match=r"no manifest\.json"):
        k8saudit.ingest([jsonl(tmp_path / "b.log", [event("b")])], dataset=ds)
    assert sorted((ds / "requests").rglob("*.parquet")) == parts


def test_parts_written_before_a_column_existed_still_read(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    k8saudit.ingest([jsonl(tmp_path / "a.log", [event("a")])], dataset=tmp_path / "ds")
    (part,) = (tmp_path / "ds" / "requests").rglob("*.parquet")
    pq.write_table(pq.read_table(part).drop_columns(["apf_execution_ms"]), part)
    ds = k8saudit.open(tmp_path / "ds")
    assert ds.sql("SELECT audit_id, apf_execution_ms FROM requests").rows() == [("a", None)]
    assert ds.requests().select("audit_id", "apf_execution_ms").collect().rows() == [("a", None)]


def test_klog_year_from_mtime_is_the_year_of_the_last_line(tmp_path: Path) -> None:
    import os

    log = write_lines(
        tmp_path / "kube-apiserver.log",
        [
            "I1231 23:59:59.000000 1 wrap.go:47] GET /api/v1/nodes: (1ms) 200 [[k/1] 10.0.0.1:1]",
            "I0101 00:00:01.000000 1 wrap.go:47] GET /api/v1/pods: (1ms) 200 [[k/1] 10.0.0.1:1]",
        ],
    )
    stamp = datetime(2020, 1, 1, 0, 5, tzinfo=UTC).timestamp()
    os.utime(log, (stamp, stamp))
    k8saudit.ingest([log], dataset=tmp_path / "ds")
    got = rows(tmp_path / "ds", "SELECT completed_at FROM requests ORDER BY 1")
    assert [r["completed_at"].isoformat() for r in got] == [
        "2019-12-31T23:59:59+00:00",
        "2020-01-01T00:00:01+00:00",
    ]


def test_klog_year_from_the_audit_events_ingested_with_it(tmp_path: Path) -> None:
    audit = jsonl(tmp_path / "audit.log", [event("abc")])  # 2019-02-04
    access = write_lines(
        tmp_path / "kube-apiserver.log",  # no wrapper, no year; mtime is today
        ['I0204 12:00:00.250000 11 httplog.go:132] "HTTP" verb="LIST" URI="/api/v1/pods" '
         'latency="250ms" userAgent="x" audit-ID="abc" srcIP="10.0.0.7:1" apf_pl="exempt" '
         "resp=200"],
    )  # fmt: skip
    k8saudit.ingest([audit], dataset=tmp_path / "ds")
    k8saudit.ingest([access], dataset=tmp_path / "ds")  # a later run
    (row,) = rows(tmp_path / "ds")
    assert (row["audit_id"], row["apf_priority_level"], row["has_access"]) == (
        "abc",
        "exempt",
        True,
    )
    (_, access_file) = k8saudit.open(tmp_path / "ds").manifest.files
    assert (access_file.time_source or "").startswith(
        "year 2019 from the audit events ingested with"
    )


@pytest.mark.parametrize("in_place", [True, False])
def test_each_file_records_the_instants_its_lines_observed(tmp_path: Path, in_place: bool) -> None:
    old_watch = event(
        "w",
        verb="watch",
        requestReceivedTimestamp="2019-02-04T11:00:00.000000Z",  # an hour before the log
        stageTimestamp="2019-02-04T12:00:05.000000Z",
    )
    opened = event("b", "RequestReceived", stageTimestamp="2019-02-04T12:00:00.000000Z")
    log = jsonl(tmp_path / "audit.log", [event("a"), old_watch, opened])
    k8saudit.ingest([log], dataset=tmp_path / "ds", _in_place=in_place)
    (entry,) = store.read_manifest(tmp_path / "ds").files
    assert entry.observed == (
        store.ObservedSpan(None, "2019-02-04T12:00:00+00:00", "2019-02-04T12:00:05+00:00"),
    )


def _v2_apiserver_log() -> list[str]:
    """A kube-apiserver log at -v=2, as 1.18+ writes it: flag dumps, warnings and the multi-line
    traces of slow requests (utiltrace: one klog line, then `Trace[id]: ...` lines), but no
    access line (httplog logs each request only at -v=3)."""
    lines = [
        "Flag --insecure-port has been deprecated, This flag will be removed in a future version.",
        'I1203 10:00:00.101010       1 flags.go:59] FLAG: --advertise-address="10.0.0.10"',
        'I1203 10:00:00.101020       1 flags.go:59] FLAG: --max-requests-inflight="400"',
        "I1203 10:00:00.400000       1 server.go:163] Version: v1.18.8",
        "I1203 10:00:03.000000       1 secure_serving.go:178] Serving securely on [::]:6443",
    ]
    for n in range(30):
        trace = 1797165353 + n
        lines += [
            f"I1203 10:{10 + n:02d}:01.000000       1 trace.go:116] Trace[{trace}]: "
            '"List" url:/api/v1/pods,user-agent:kubectl/v1.18.8 (started: 2020-12-03 '
            f"10:{10 + n:02d}:00.123) (total time: 877ms):",
            f"Trace[{trace}]: [876.1ms] [876.1ms] Listing from storage done",
            f"Trace[{trace}]: [877.0ms] [0.9ms] Writing http response done count:5000",
            f"Trace[{trace}]: [877.2ms] [0.2ms] END",
        ]
    return lines


def test_an_apiserver_log_without_access_lines_says_so(tmp_path: Path) -> None:
    log = write_lines(tmp_path / "kube-apiserver.log", _v2_apiserver_log())
    report = k8saudit.ingest([log], dataset=tmp_path / "ds")
    (file,) = report.files
    assert (file.status, file.format, file.events, file.records) == (
        "ingested",
        "access-log",
        0,
        125,
    )
    assert (
        file.message == "kube-apiserver log without access lines (needs -v=3, or -v=2 before 1.18)"
    )


def test_an_ingest_that_finds_no_request_leaves_an_empty_dataset(tmp_path: Path) -> None:
    (tmp_path / "ground_truth.json").write_text('{\n "scenario": "x",\n "clients": []\n}\n')
    report = k8saudit.ingest([tmp_path / "ground_truth.json"], dataset=tmp_path / "ds")
    assert (report.requests_after, [f.status for f in report.files]) == (0, ["not a log"])
    manifest = store.read_manifest(tmp_path / "ds")
    assert (manifest.files, manifest.parts, len(manifest.runs)) == ([], [], 1)
    assert k8saudit.open(tmp_path / "ds").sql("SELECT count(*) AS n FROM requests").item() == 0


@pytest.mark.parametrize("in_place", [True, False])
def test_requests_take_the_apiserver_their_file_path_names(tmp_path: Path, in_place: bool) -> None:
    (tmp_path / "kube-apiserver-ip-10-0-33-10").mkdir()
    named = jsonl(tmp_path / "kube-apiserver-ip-10-0-33-10" / "audit.log", [event("a")])
    plain = jsonl(tmp_path / "audit.log", [event("b")])
    k8saudit.ingest([named, plain], dataset=tmp_path / "ds", _in_place=in_place)
    got = rows(tmp_path / "ds", "SELECT audit_id, apiserver FROM requests ORDER BY 1")
    assert got == [
        {"audit_id": "a", "apiserver": "kube-apiserver-ip-10-0-33-10"},
        {"audit_id": "b", "apiserver": None},
    ]
    files = {
        f.path: (f.apiserver, f.apiserver_from) for f in store.read_manifest(tmp_path / "ds").files
    }
    assert files == {
        str(named): ("kube-apiserver-ip-10-0-33-10", "its directory name"),
        str(plain): (None, None),
    }
    spans = [s.apiserver for f in store.read_manifest(tmp_path / "ds").files for s in f.observed]
    assert sorted(spans, key=str) == [None, "kube-apiserver-ip-10-0-33-10"]


def test_ingest_apiserver_names_the_apiserver_of_every_file(tmp_path: Path) -> None:
    (tmp_path / "apiserver-2").mkdir()
    log = jsonl(tmp_path / "apiserver-2" / "audit.log", [event("a")])
    k8saudit.ingest([log], dataset=tmp_path / "ds", apiserver="api-a")
    assert rows(tmp_path / "ds", "SELECT apiserver FROM requests") == [{"apiserver": "api-a"}]
    (entry,) = store.read_manifest(tmp_path / "ds").files
    assert (entry.apiserver, entry.apiserver_from) == ("api-a", "--apiserver")


def _access_line(month_day: str) -> str:
    return (
        f'I{month_day} 12:00:00.000000       1 httplog.go:132] "HTTP" verb="GET" '
        'URI="/api/v1/nodes" latency="1ms" userAgent="kubelet/v1.27.1" audit-ID="" '
        'srcIP="10.0.0.1:1234" resp=200'
    )


def test_a_guessed_klog_year_is_said_and_a_wrong_one_warned(tmp_path: Path) -> None:
    import os

    log = write_lines(tmp_path / "kube-apiserver.log", [_access_line("0204")])
    written = datetime(2019, 2, 4, 13, tzinfo=UTC).timestamp()
    os.utime(log, (written, written))
    (file,) = k8saudit.ingest([log], dataset=tmp_path / "a").files
    assert file.message == (
        "klog lines carry no year: 2019 assumed from the file's modification time "
        "(set it with --year)"
    )
    assert file.warning == ""
    # lines of December in a file written in January of a year to come: the year before it
    (tmp_path / "future").mkdir()
    future = write_lines(tmp_path / "future" / "kube-apiserver.log", [_access_line("1204")])
    written = datetime(datetime.now(UTC).year + 2, 1, 10, tzinfo=UTC).timestamp()
    os.utime(future, (written, written))
    (file,) = k8saudit.ingest([future], dataset=tmp_path / "c").files
    year = datetime.now(UTC).year + 1
    assert file.warning == f"the assumed year {year} puts requests in the future; pass --year"
    (given,) = k8saudit.ingest([future], dataset=tmp_path / "d", year=2019).files
    assert (given.message, given.warning) == ("", "")


def test_the_ingest_command_takes_an_apiserver(tmp_path: Path) -> None:
    from k8saudit.cli import app
    from typer.testing import CliRunner

    log = jsonl(tmp_path / "audit.log", [event("a")])
    args = ["ingest", str(log), "-d", str(tmp_path / "ds"), "--apiserver", "m1", "-q"]
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0, done.output
    assert rows(tmp_path / "ds", "SELECT apiserver FROM requests") == [{"apiserver": "m1"}]


@pytest.mark.parametrize("in_place", [True, False])
def test_an_infinite_time_is_no_time(tmp_path: Path, in_place: bool) -> None:
    # DuckDB reads "infinity" as a TIMESTAMPTZ, which no day holds: such requests were written
    # to no part, and the ingest failed saying the file had changed while it was read
    log = jsonl(
        tmp_path / "audit.log",
        [
            event("a"),
            event("b", requestReceivedTimestamp="infinity", stageTimestamp="infinity"),
            event("c", requestReceivedTimestamp="-infinity"),
            event("d", stageTimestamp="-infinity"),
        ],
    )
    report = k8saudit.ingest([log], dataset=tmp_path / "ds", _in_place=in_place)
    assert (report.requests_added, report.rejected) == (4, 0)
    times = rows(
        tmp_path / "ds",
        "SELECT audit_id, received_at IS NULL AS no_receipt, completed_at IS NULL AS no_end "
        "FROM requests ORDER BY audit_id",
    )
    assert [tuple(r.values()) for r in times] == [
        ("a", False, False), ("b", True, True), ("c", True, False), ("d", False, True),
    ]  # fmt: skip


def test_a_stage_on_disk_holds_the_same_requests(
    tmp_path: Path, sample_dataset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past STAGE_ON_DISK_ABOVE_BYTES of access log the staged rows live in a database file in
    the work area: every request comes out as it does from the in-memory stage."""
    from k8saudit import ingestion

    on_disk_seen: list[bool] = []
    connect = ingestion.connect

    def spy(work: Path, *, on_disk: bool = False) -> Any:
        on_disk_seen.append(on_disk)
        return connect(work, on_disk=on_disk)

    monkeypatch.setattr(ingestion, "STAGE_ON_DISK_ABOVE_BYTES", 0)
    monkeypatch.setattr(ingestion, "connect", spy)
    report = k8saudit.ingest([SAMPLE_LOGS], dataset=tmp_path / "ds")
    assert on_disk_seen == [True]
    query = "SELECT * FROM requests ORDER BY request_key"
    assert rows(tmp_path / "ds", query) == rows(sample_dataset, query)
    reference = k8saudit.open(sample_dataset).manifest.files
    assert (report.requests_after, report.rejected) == (
        k8saudit.open(sample_dataset).info().requests,
        sum(f.rejected for f in reference),
    )
