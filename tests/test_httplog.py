"""Access logs: every era and wrapper by hand, real samples with exact counts, and properties."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import k8saudit
from k8saudit.formats.access_log import looks_like_access_log, parse_access_log
from k8saudit.formats.batches import ParsedBatch
from k8saudit.formats.goquote import unquote_go
from k8saudit.formats.httplog import HttpLogRecord, parse_httplog_line, parse_httplog_message
from k8saudit.formats.legacy_audit import looks_like_legacy_audit
from k8saudit.schema import RAW_EVENT_SCHEMA

REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"
HDR = "I0204 12:34:56.789012       1 httplog.go:132] "


def realdata(rel: str) -> Path:
    path = REALDATA / rel
    if not REALDATA.is_dir():
        pytest.skip("../shared/realdata not present")
    return path


def parse(lines: list[str], year: int = 2023, batch_rows: int = 65536) -> list[ParsedBatch]:
    return list(
        parse_access_log(lines, source_file="t.log", default_year=year, batch_rows=batch_rows)
    )


def rows_of(lines: list[str], year: int = 2023) -> tuple[list[dict[str, Any]], ParsedBatch]:
    (batch,) = parse(lines, year)
    assert batch.table.schema == RAW_EVENT_SCHEMA
    assert_accounted(batch)
    return batch.table.to_pylist(), batch


def assert_accounted(batch: ParsedBatch) -> None:
    n = batch.table.num_rows
    assert batch.lines == n + batch.continuation + batch.skipped + len(batch.rejects)


def record(message: str) -> HttpLogRecord:
    r = parse_httplog_message(message)
    assert isinstance(r, HttpLogRecord), r
    return r


# ---------------------------------------------------------------- real samples


def test_scale_test_log() -> None:
    path = realdata("mateuszmatejczyk-kubernetes-scale-apiserver-log/kube-apiserver.log")
    text = path.read_text(encoding="utf-8")
    assert looks_like_access_log(text) and not looks_like_legacy_audit(text)
    rows, batch = rows_of(text.splitlines(), year=2019)
    assert len(rows) == 200 and batch.lines == 200
    assert (batch.skipped, batch.rejects, batch.partial) == (0, [], 0)
    assert batch.default_year_lines == 200 and batch.wrapper_time_lines == 0
    assert sum(r["code"] == 429 for r in rows) == 20
    assert sum("watch=true" in r["request_uri"] for r in rows) == 150
    assert all(r["log_format"] == "httplog-glog" and r["verb"] is None for r in rows)
    assert {r["http_method"] for r in rows} <= {"GET", "PUT", "PATCH", "POST", "DELETE"}
    first = rows[0]
    assert first["latency_ms"] == 459000.719686
    assert first["stage_at"] == datetime(2019, 1, 11, 19, 4, 54, 684870, tzinfo=UTC)
    assert first["received_at"] == datetime(2019, 1, 11, 18, 57, 15, 684150, tzinfo=UTC)
    assert first["source_ip"] == "35.196.73.207" and first["source_line"] == 1
    assert rows[1]["latency_ms"] == 0.174269 and rows[1]["code"] == 429
    e2e = [r["user_agent"] for r in rows if r["user_agent"].startswith("e2e.test/")]
    assert e2e and e2e[0] == (
        "e2e.test/v1.14.0 (linux/amd64) kubernetes/40de2ee -- [sig-scalability] Density "
        "[Feature:Performance] should allow starting 30 pods per node using "
        "ReplicationController with 0 secrets, 0 configmaps, 0 token projections, and 0 daemons"
    )
    assert all(r["source_ip"] == "104.197.40.42" for r in rows if r["user_agent"] in e2e)
    agents = {r["user_agent"].split("/")[0] for r in rows}
    assert agents == {"kubelet", "kube-proxy", "e2e.test", "coredns", "node-problem-detector"}
    assert sum(r["user_agent"].startswith("kubelet/") for r in rows) == 188


def test_issue_71454_paste_429s_and_cut_trailer() -> None:
    path = realdata("k8s-issue-pastes/kubernetes-kubernetes-71454_wrap42_429.log")
    rows, batch = rows_of(path.read_text(encoding="utf-8").splitlines(), year=2018)
    assert [r["code"] for r in rows] == [429, 429, 200]
    assert rows[0]["user_agent"] == "kube-proxy/v2.11.19 (linux/amd64) kubernetes/1e57adb"
    assert rows[0]["source_ip"] == "192.255.189.109" and rows[0]["latency_ms"] == 0.504009
    # 3rd line: "... (4.433369ms) 200 " with the [UA ip] trailer cut off in the paste: the core
    # fields are intact, so the request is kept, with UA and IP left null (documented policy)
    third = rows[2]
    assert third["request_uri"] == "/api/v1/namespaces/fst-manage/pods/ingressproxy-ber-29rjd"
    assert (third["latency_ms"], third["user_agent"], third["source_ip"]) == (4.433369, None, None)
    assert batch.partial == 1 and batch.rejects == []


def test_kubermatic_docker_prefixed_paste() -> None:
    path = realdata("k8s-issue-pastes/kubermatic-dashboard-200_wrap75_docker-prefixed.log")
    rows, batch = rows_of(path.read_text(encoding="utf-8").splitlines(), year=1999)
    assert (len(rows), batch.skipped, batch.lines, batch.rejects) == (7, 2, 9, [])
    assert batch.wrapper_time_lines == 7 and batch.default_year_lines == 0
    assert rows[0]["stage_at"] == datetime(2017, 9, 22, 12, 30, 56, 641355, tzinfo=UTC)
    assert rows[1]["source_ip"] == "::1"
    assert rows[1]["user_agent"] == "hyperkube/v1.6.9 (linux/amd64) kubernetes/79097ec"
    assert rows[0]["user_agent"] == "Prometheus/1.7.1"
    assert rows[2]["latency_ms"] == 0.073813


def test_openshift_panic_go_structured_line() -> None:
    path = realdata(
        "k8s-issue-pastes/openshift-multus-admission-controller-40_panic965_httplog-new.log"
    )
    rows, _ = rows_of(path.read_text(encoding="utf-8").splitlines(), year=2022)
    (row,) = rows
    assert (row["verb"], row["http_method"], row["code"]) == ("list", None, 200)
    assert row["latency_ms"] == pytest.approx(60023.443627)
    assert row["audit_id"] == "3cf7e40e-7a66-4b56-81d7-51075bc67e9f"
    assert row["user_agent"] == "webhook/v0.0.0 (linux/amd64) kubernetes/$Format"


def test_blog_cri_prefixed_apf_lines() -> None:
    path = realdata("k8s-issue-pastes/blog-configmap-qps_httplog132_cri-prefixed.log")
    rows, batch = rows_of(path.read_text(encoding="utf-8").splitlines(), year=1999)
    assert len(rows) == 3 and batch.wrapper_time_lines == 3
    assert {r["stage_at"].year for r in rows} == {2023}
    assert [r["apf_priority_level"] for r in rows] == ["system"] * 3
    assert [r["apf_flow_schema"] for r in rows] == ["system-nodes"] * 3
    assert [(r["apf_initial_seats"], r["apf_final_seats"]) for r in rows] == [(1, 0)] * 3
    assert [r["apf_additional_latency_ms"] for r in rows] == [0.0] * 3
    assert [r["apf_execution_ms"] for r in rows] == [1.269527, 1.177012, 0.929214]
    assert rows[0]["verb"] == "get" and rows[0]["source_ip"] == "192.168.228.2"
    assert rows[0]["audit_id"] == "36cfcbe3-d76a-4a4d-b251-47cc2df060cb"


# ---------------------------------------------------------------- eras by hand


def test_glog_double_and_single_bracket_and_empty_ua() -> None:
    r = record("GET /api/v1/services?limit=500: (1.2ms) 429 [[kubectl/v1.9 (linux)] 10.0.0.1:1234]")
    assert (r.http_method, r.request_uri, r.latency_ms, r.code) == (
        "GET",
        "/api/v1/services?limit=500",
        1.2,
        429,
    )
    assert (r.user_agent, r.source_ip) == ("kubectl/v1.9 (linux)", "10.0.0.1")
    r = record("PUT /x: (3s) 200 [kubelet [weird] ua 10.0.0.2:1]")
    assert (r.user_agent, r.source_ip) == ("kubelet [weird] ua", "10.0.0.2")
    assert record("GET /x: (3s) 200 [[] 10.0.0.2:1]").user_agent is None
    assert record("GET /x: (3s) 200 [ 10.0.0.2:1]").user_agent is None


def test_glog_hijacked() -> None:
    r = record(
        "POST /api/v1/namespaces/a/pods/b/exec?command=sh: (5m1s) hijacked [[kubectl] 1.2.3.4:5]"
    )
    assert (r.code, r.latency_ms, r.user_agent, r.partial) == (101, 301000.0, "kubectl", False)
    # "hijacked" glued to its trailer is still read (as before 101 was given to it)
    glued = record("GET /api/v1/namespaces/a/pods/b/attach: (1s) hijacked[[kubectl] 1.2.3.4:5]")
    assert (glued.code, glued.user_agent) == (101, "kubectl")


#: one hand-made hijacked line per era (exec/attach/port-forward took the connection over), as
#: httplog writes them: glog ``(latency) hijacked [ua ip]`` (double brackets ≤ 1.9, the header
#: string later), 1.18-1.19 ``...srcIP="...": hijacked``, structured and JSON ``hijacked=true``
#: in place of ``resp``; with the row each must give (code 101, as the audit log records it).
HIJACKED_LINES: dict[str, tuple[str, dict[str, Any]]] = {
    "glog-double-bracket": (
        "I0204 12:34:56.789012       1 wrap.go:42] POST /api/v1/namespaces/default/pods/web-0/"
        "exec?command=sh&stdin=true&stdout=true&tty=true: (5m1.25s) hijacked "
        "[[kubectl/v1.9.2 (linux/amd64) kubernetes/5fa2db2] 10.0.0.7:51234]",
        {
            "log_format": "httplog-glog",
            "http_method": "POST",
            "verb": None,
            "request_uri": "/api/v1/namespaces/default/pods/web-0/exec?command=sh&stdin=true"
            "&stdout=true&tty=true",
            "latency_ms": 301250.0,
            "code": 101,
            "user_agent": "kubectl/v1.9.2 (linux/amd64) kubernetes/5fa2db2",
            "source_ip": "10.0.0.7",
            "audit_id": None,
        },
    ),
    "glog-single-bracket": (
        "I0204 12:35:00.000000       1 wrap.go:47] GET /api/v1/namespaces/default/pods/web-0/"
        "attach?stdin=true&stdout=true&tty=true: (12.5s) hijacked "
        "[kubectl/v1.16.3 (linux/amd64) kubernetes/b3cbbae 10.0.0.8:40000]",
        {
            "log_format": "httplog-glog",
            "http_method": "GET",
            "verb": None,
            "request_uri": "/api/v1/namespaces/default/pods/web-0/attach?stdin=true&stdout=true"
            "&tty=true",
            "latency_ms": 12500.0,
            "code": 101,
            "user_agent": "kubectl/v1.16.3 (linux/amd64) kubernetes/b3cbbae",
            "source_ip": "10.0.0.8",
            "audit_id": None,
        },
    ),
    "1.18": (
        'I0204 12:36:00.000000       1 httplog.go:90] verb="POST" '
        'URI="/api/v1/namespaces/default/pods/web-0/portforward" latency=1m0.25s '
        'UserAgent="kubectl/v1.18.0 (linux/amd64) kubernetes/9e99141" srcIP="10.0.0.9:5555": '
        "hijacked",
        {
            "log_format": "httplog-1.18",
            "http_method": "POST",
            "verb": None,
            "request_uri": "/api/v1/namespaces/default/pods/web-0/portforward",
            "latency_ms": 60250.0,
            "code": 101,
            "user_agent": "kubectl/v1.18.0 (linux/amd64) kubernetes/9e99141",
            "source_ip": "10.0.0.9",
            "audit_id": None,
        },
    ),
    "structured": (
        'I0204 12:37:00.000000       1 httplog.go:132] "HTTP" verb="POST" '
        'URI="/api/v1/namespaces/default/pods/web-0/exec?command=sh&stdin=true" '
        'latency="2m3.5s" userAgent="kubectl/v1.27.3 (linux/amd64) kubernetes/25b4e43" '
        'audit-ID="7d3c1f2a-5b6e-4a8d-9c0b-1e2f3a4b5c6d" srcIP="10.0.0.10:6000" hijacked=true',
        {
            "log_format": "httplog-structured",
            "http_method": "POST",
            "verb": None,
            "request_uri": "/api/v1/namespaces/default/pods/web-0/exec?command=sh&stdin=true",
            "latency_ms": 123500.0,
            "code": 101,
            "user_agent": "kubectl/v1.27.3 (linux/amd64) kubernetes/25b4e43",
            "source_ip": "10.0.0.10",
            "audit_id": "7d3c1f2a-5b6e-4a8d-9c0b-1e2f3a4b5c6d",
        },
    ),
    "json": (
        '{"ts":1707050280000.5,"caller":"httplog/httplog.go:132","msg":"HTTP","v":3,'
        '"verb":"GET","URI":"/api/v1/namespaces/default/pods/web-0/attach?stdin=true",'
        '"latency":"45.5s","userAgent":"kubectl/v1.29.0 (linux/amd64) kubernetes/3f7a50f",'
        '"audit-ID":"0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0","srcIP":"10.0.0.11:7000",'
        '"hijacked":true}',
        {
            "log_format": "httplog-json",
            "http_method": None,
            "verb": "get",
            "request_uri": "/api/v1/namespaces/default/pods/web-0/attach?stdin=true",
            "latency_ms": 45500.0,
            "code": 101,
            "user_agent": "kubectl/v1.29.0 (linux/amd64) kubernetes/3f7a50f",
            "source_ip": "10.0.0.11",
            "audit_id": "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
        },
    ),
}


@pytest.mark.parametrize("era", sorted(HIJACKED_LINES))
def test_hijacked_line_is_code_101(era: str) -> None:
    line, expected = HIJACKED_LINES[era]
    rows, batch = rows_of([line], year=2024)
    (row,) = rows
    assert {key: row[key] for key in expected} == expected
    assert (batch.partial, batch.skipped, batch.rejects) == (0, 0, [])
    assert row["stage"] == "ResponseComplete" and row["source_line"] == 1


def test_hijacked_json_record_with_hijacked_false_still_needs_resp() -> None:
    line, _ = HIJACKED_LINES["json"]
    not_hijacked = line.replace('"hijacked":true', '"hijacked":false')
    rows, batch = rows_of([not_hijacked, not_hijacked.replace("}", ',"resp":200}')])
    assert [r["code"] for r in rows] == [200]
    assert [r.reason for r in batch.rejects] == ["access line without resp"]


def test_hijacked_lines_ingest_as_code_101(tmp_path: Path) -> None:
    log = tmp_path / "kube-apiserver.log"
    log.write_text("".join(line + "\n" for line, _ in HIJACKED_LINES.values()))
    k8saudit.ingest([log], dataset=tmp_path / "ds", year=2024)
    got = (
        k8saudit.open(tmp_path / "ds")
        .sql("SELECT log_format, code, latency_ms FROM requests ORDER BY source_line")
        .to_dicts()
    )
    assert got == [
        {"log_format": e["log_format"], "code": 101, "latency_ms": e["latency_ms"]}
        for _, e in HIJACKED_LINES.values()
    ]


def test_hijacked_access_line_and_audit_event_agree_on_101(tmp_path: Path) -> None:
    line, expected = HIJACKED_LINES["structured"]
    audit_id = expected["audit_id"]
    event = {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": "Metadata",
        "auditID": audit_id,
        "stage": "ResponseComplete",
        "requestURI": expected["request_uri"],
        "verb": "create",
        "user": {"username": "alice", "groups": ["system:authenticated"]},
        "sourceIPs": ["10.0.0.10"],
        "userAgent": expected["user_agent"],
        "objectRef": {
            "resource": "pods",
            "namespace": "default",
            "name": "web-0",
            "apiVersion": "v1",
            "subresource": "exec",
        },
        "responseStatus": {"metadata": {}, "code": 101},
        "requestReceivedTimestamp": "2024-02-04T12:34:56.500000Z",
        "stageTimestamp": "2024-02-04T12:37:00.000000Z",
    }
    (tmp_path / "audit.log").write_text(json.dumps(event) + "\n")
    (tmp_path / "kube-apiserver.log").write_text(line + "\n")
    k8saudit.ingest([tmp_path], dataset=tmp_path / "ds", year=2024)
    (row,) = (
        k8saudit.open(tmp_path / "ds")
        .sql("SELECT audit_id, code, has_audit, has_access FROM requests")
        .to_dicts()
    )
    assert row == {"audit_id": audit_id, "code": 101, "has_audit": True, "has_access": True}


def test_glog_5xx_stack_continuation_with_trailer_on_last_line() -> None:
    lines = [
        "I0204 12:34:56.789012       1 wrap.go:42] GET /api/v1/pods: (30.001s) 500",
        "goroutine 123 [running]:",
        "k8s.io/apiserver/pkg/server/httplog.(*respLogger).recordStatus(0xc4, 0x1f4)",
        "\t/go/src/k8s.io/apiserver/pkg/server/httplog/httplog.go:207 +0xdd",
        'logging error output: "{\\"kind\\":\\"Status\\",\\"code\\":500}"',
        " [[kube-controller-manager/v1.11.0 (linux/amd64) kubernetes/abc] 10.0.0.9:443]",
        "I0204 12:34:57.000000       1 wrap.go:42] GET /healthz: (1ms) 200 [[curl] 1.1.1.1:1]",
    ]
    rows, batch = rows_of(lines)
    assert len(rows) == 2 and batch.continuation == 5 and batch.skipped == 0
    assert rows[0]["code"] == 500 and rows[0]["source_line"] == 1
    assert rows[0]["user_agent"] == "kube-controller-manager/v1.11.0 (linux/amd64) kubernetes/abc"
    assert rows[0]["source_ip"] == "10.0.0.9" and batch.partial == 0
    assert rows[1]["source_line"] == 7


def test_structured_multiline_value_continues() -> None:
    lines = [
        HDR + '"HTTP" verb="POST" URI="/api/v1/namespaces/a/pods" latency="2ms" userAgent="k" '
        'audit-ID="x" srcIP="1.2.3.4:5" resp=500 statusStack=<',
        "\tgoroutine 1 [running]:",
        "\tk8s.io/apiserver/pkg/server/httplog.(*respLogger).recordStatus(...)",
        " >",
        HDR + "Other message",
        "\tcontinuation of a skipped line",
    ]
    rows, batch = rows_of(lines)
    assert [r["code"] for r in rows] == [500]
    assert (rows[0]["http_method"], rows[0]["verb"]) == ("POST", None)
    assert (batch.continuation, batch.skipped) == (3, 2)


def test_1_18_format() -> None:
    r = record(
        'verb="GET" URI="/healthz" latency=2.055089ms resp=200 '
        'UserAgent="kube-probe/1.18" srcIP="10.0.0.1:1234": '
    )
    assert (r.log_format, r.http_method, r.verb, r.latency_ms, r.code) == (
        "httplog-1.18",
        "GET",
        None,
        2.055089,
        200,
    )
    assert (r.user_agent, r.source_ip, r.audit_id) == ("kube-probe/1.18", "10.0.0.1", None)


def test_structured_resp0_hijacked_and_optional_keys() -> None:
    base = (
        '"HTTP" verb="WATCH" URI="/api/v1/pods?watch=1" latency="1m0.5s" '
        'userAgent="a b [c]" audit-ID="" srcIP="[::1]:39234"'
    )
    r = record(base + " resp=0")
    assert (r.verb, r.code, r.audit_id, r.source_ip, r.user_agent) == (
        "watch",
        0,
        None,
        "::1",
        "a b [c]",
    )
    h = record(base.replace("WATCH", "CONNECT") + " hijacked=true")
    assert (h.code, h.http_method, h.verb) == (101, "CONNECT", None)
    x = record(
        base + ' apf_pl="workload-low" apf_fs="service-accounts" apf_iseats=1 apf_fseats=3 '
        'apf_additionalLatency="5ms" apf_execution_time="3.1\u00b5s" resp=429 extra="y"'
    )
    assert (x.apf_priority_level, x.apf_flow_schema, x.apf_initial_seats, x.apf_final_seats) == (
        "workload-low",
        "service-accounts",
        1,
        3,
    )
    assert (x.apf_additional_latency_ms, x.apf_execution_ms, x.code) == (5.0, 0.0031, 429)


def test_structured_verb_mapping() -> None:
    def verb_of(v: str) -> tuple[str | None, str | None]:
        r = record(
            f'"HTTP" verb="{v}" URI="/x" latency="1ms" userAgent="" audit-ID="" srcIP="" resp=200'
        )
        return r.verb, r.http_method

    assert verb_of("LIST") == ("list", None)
    assert verb_of("GET") == ("get", None)
    assert verb_of("APPLY") == ("patch", None)
    assert verb_of("POST") == (None, "POST")
    assert verb_of("DELETE") == (None, "DELETE")


def test_go_quoting_escapes() -> None:
    r = record(
        '"HTTP" verb="GET" URI="/api/v1/namespaces/caf\\u00e9?q=\\"x\\"" latency="1ms" '
        'userAgent="back\\\\slash \\"quoted\\" caf\\u00e9" audit-ID="a" srcIP="1.2.3.4:1" resp=200'
    )
    assert r.request_uri == '/api/v1/namespaces/café?q="x"'
    assert r.user_agent == 'back\\slash "quoted" café'
    assert unquote_go('"\\t\\x41\\101\\U0001F600"') == "\tAA\U0001f600"


def test_json_logging_format() -> None:
    line = json.dumps(
        {
            "ts": 1692781234500.25,
            "caller": "httplog/httplog.go:132",
            "msg": "HTTP",
            "v": 3,
            "verb": "LIST",
            "URI": "/api/v1/pods?limit=500",
            "latency": "1.5s",
            "userAgent": "datadog-agent/v1 (linux) kubernetes/x",
            "audit-ID": "abc",
            "srcIP": "10.1.2.3:4444",
            "apf_pl": "workload-low",
            "apf_fs": "service-accounts",
            "apf_iseats": 1,
            "apf_fseats": 0,
            "apf_additionalLatency": "0s",
            "apf_execution_time": "1.2s",
            "resp": 429,
        }
    )
    other = json.dumps({"ts": 1692781234600, "msg": "Starting", "v": 0})
    rows, batch = rows_of([line, other, "not json at all"])
    (row,) = rows
    assert (row["log_format"], row["verb"], row["code"], row["latency_ms"]) == (
        "httplog-json",
        "list",
        429,
        1500.0,
    )
    assert row["stage_at"] == datetime(2023, 8, 23, 9, 0, 34, 500250, tzinfo=UTC)
    assert row["received_at"] == datetime(2023, 8, 23, 9, 0, 33, 250, tzinfo=UTC)
    assert (row["apf_priority_level"], row["apf_initial_seats"], row["apf_execution_ms"]) == (
        "workload-low",
        1,
        1200.0,
    )
    assert batch.skipped == 2 and batch.wrapper_time_lines == 1
    assert parse_httplog_line(line) is not None


def test_journald_wrapped_line_names_apiserver() -> None:
    rows, batch = rows_of(
        [
            "Feb 12 12:31:00 master-2 kube-apiserver[21922]: I0212 12:31:00.123456 1 wrap.go:47] "
            "GET /api/v1/nodes: (1ms) 200 [kubelet 10.0.0.1:1]"
        ],
        year=2020,
    )
    assert rows[0]["apiserver"] == "master-2" and batch.default_year_lines == 1
    assert rows[0]["stage_at"] == datetime(2020, 2, 12, 12, 31, 0, 123456, tzinfo=UTC)


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("GET /api/v1/pods?labelSelector=a\u2026", "truncated access line"),
        ("GET /api/v1/pods: (1.2ms) 20\u2026", "unparseable access line"),
        ("GET /api/v1/pods: (soon) 200 [k 1.2.3.4:5]", "bad latency"),
        ('"HTTP" verb="GET" URI="/api/v1/po...', "truncated access line"),
        (
            '"HTTP" verb="GET" URI="/x" latency="1ms" userAgent="kubelet/v1\u2026',
            "truncated access line",
        ),
        (
            '"HTTP" verb="GET" URI="/x" latency="1ms" userAgent="k" srcIP="1.2.3.4:5"',
            "access line without resp",
        ),
        ('verb="GET" URI="/x" latency=fast resp=200', "bad latency"),
    ],
)
def test_rejects(message: str, reason: str) -> None:
    (batch,) = parse([HDR + message])
    assert batch.table.num_rows == 0
    assert [(r.line, r.reason) for r in batch.rejects] == [(1, reason)]
    assert batch.rejects[0].text == HDR + message


def test_cut_trailer_keeps_core_fields() -> None:
    rows, batch = rows_of([HDR + "GET /x: (1ms) 200 [[kube-proxy/v1.1\u2026"])
    assert (rows[0]["code"], rows[0]["user_agent"], rows[0]["source_ip"], batch.partial) == (
        200,
        None,
        None,
        1,
    )


def test_non_access_klog_lines_are_skipped() -> None:
    lines = [
        HDR + "Starting watch for /api/v1/pods",
        "W0204 12:34:56.789012       1 reflector.go:1] GET /api is not what it seems",
        "E0204 12:34:56.789012       1 runtime.go:78] Observed a panic",
        "goroutine 5 [running]:",
        "",
    ]
    rows, batch = rows_of(lines)
    assert rows == [] and batch.skipped == 5 and batch.rejects == []


def test_batches_are_bounded_and_accounted() -> None:
    lines = [
        HDR
        + f'"HTTP" verb="GET" URI="/{i}" latency="1ms" userAgent="u" audit-ID="" '
        + 'srcIP="1.1.1.1:1" resp=200'
        for i in range(25)
    ]
    lines.insert(3, "noise")
    batches = parse(lines, batch_rows=10)
    assert [b.table.num_rows for b in batches] == [10, 10, 5]
    assert sum(b.lines for b in batches) == 26
    for b in batches:
        assert_accounted(b)
    assert batches[0].table.column("source_line").to_pylist()[3] == 5


def test_empty_input_yields_nothing() -> None:
    assert parse([]) == []


def test_sniffers() -> None:
    assert looks_like_access_log(HDR + '"HTTP" verb="GET" URI="/x" latency="1ms" resp=200\n')
    assert not looks_like_access_log(HDR + "Starting\n" + HDR + "GET /x: (1ms")
    assert not looks_like_access_log('{"kind":"Event","apiVersion":"audit.k8s.io/v1"}\n')
    assert not looks_like_legacy_audit(HDR + "GET /x: (1ms) 200 [k 1.1.1.1:1]\n")


# ---------------------------------------------------------------- properties

_methods = st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
_uris = st.from_regex(r"/[A-Za-z0-9/_.\-]{0,30}(\?[A-Za-z0-9=&%._\-]{0,30})?", fullmatch=True)
_uas = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF, exclude_characters='"\\'),
    min_size=1,
    max_size=40,
).filter(lambda s: s == s.strip() and not s.startswith("[") and not s.endswith("]"))
_ips = st.one_of(st.ip_addresses(v=4).map(str), st.ip_addresses(v=6).map(lambda a: f"[{a}]"))
_micros = st.integers(min_value=1, max_value=10**9)
_codes = st.integers(min_value=100, max_value=599)


def _latency_text(us: int) -> tuple[str, float]:
    return f"{us // 1000}.{us % 1000:03d}ms", us / 1000


@settings(max_examples=60, deadline=None)
@given(_methods, _uris, _uas, _ips, _micros, _codes, st.integers(0, 65535), st.booleans())
def test_glog_round_trip(
    method: str, uri: str, ua: str, ip: str, us: int, code: int, port: int, dbl: bool
) -> None:
    lat, ms = _latency_text(us)
    trailer = f"[[{ua}] {ip}:{port}]" if dbl else f"[{ua} {ip}:{port}]"
    rows, _ = rows_of(
        [f"I0204 12:34:56.789012 1 wrap.go:47] {method} {uri}: ({lat}) {code} {trailer}"]
    )
    r = rows[0]
    assert (r["http_method"], r["request_uri"], r["code"], r["user_agent"]) == (
        method,
        uri,
        code,
        ua,
    )
    assert r["source_ip"] == ip.strip("[]") and r["latency_ms"] == pytest.approx(ms)


@settings(max_examples=60, deadline=None)
@given(_methods, _uris, _uas, _ips, _micros, _codes, st.integers(0, 65535))
def test_1_18_round_trip(
    method: str, uri: str, ua: str, ip: str, us: int, code: int, port: int
) -> None:
    lat, ms = _latency_text(us)
    line = (
        f'I0204 12:34:56.789012 1 httplog.go:90] verb="{method}" URI="{uri}" latency={lat} '
        f'resp={code} UserAgent="{ua}" srcIP="{ip}:{port}": '
    )
    rows, _ = rows_of([line])
    r = rows[0]
    assert (r["http_method"], r["request_uri"], r["code"], r["user_agent"]) == (
        method,
        uri,
        code,
        ua,
    )
    assert r["source_ip"] == ip.strip("[]") and r["latency_ms"] == pytest.approx(ms)


@settings(max_examples=60, deadline=None)
@given(_methods, _uris, st.text(max_size=30), _ips, _micros, _codes, st.uuids(), st.booleans())
def test_structured_round_trip(
    method: str, uri: str, ua: str, ip: str, us: int, code: int, aid: object, apf: bool
) -> None:
    lat, ms = _latency_text(us)
    quoted_ua = json.dumps(ua, ensure_ascii=True)  # a valid Go %q spelling for these strings
    extra = (
        ' apf_pl="exempt" apf_fs="exempt" apf_iseats=1 apf_fseats=0 '
        'apf_additionalLatency="0s" apf_execution_time="1ms"'
        if apf
        else ""
    )
    line = (
        f'I0204 12:34:56.789012 1 httplog.go:132] "HTTP" verb="{method}" URI="{uri}" '
        f'latency="{lat}" userAgent={quoted_ua} audit-ID="{aid}" srcIP="{ip}:1"{extra} resp={code}'
    )
    rows, _ = rows_of([line])
    r = rows[0]
    assert (r["request_uri"], r["code"], r["audit_id"]) == (uri, code, str(aid))
    assert (r["verb"] or r["http_method"]).upper() == method
    assert r["user_agent"] == (ua or None)
    assert r["source_ip"] == ip.strip("[]") and r["latency_ms"] == pytest.approx(ms)
    assert r["apf_priority_level"] == ("exempt" if apf else None)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(max_size=80),
            st.binary(max_size=80).map(lambda b: b.decode("utf-8", "replace")),
            st.sampled_from(
                [
                    HDR + "GET /x: (",
                    HDR + '"HTTP" verb="',
                    '{"log":"x',
                    '{"ts":1,"msg":"HTTP"}',
                    "2023-08-23T08:55:54Z stderr P ",
                    " [[a] b]",
                    HDR + "GET /x: (1ms) 200",
                ]
            ),
        ),
        max_size=20,
    )
)
def test_garbage_never_raises_and_is_accounted(lines: list[str]) -> None:
    lines = [line.replace("\n", " ").replace("\r", " ") for line in lines]
    batches = parse(lines)
    assert sum(b.lines for b in batches) == len(lines)
    for b in batches:
        assert_accounted(b)
