"""The log simulator writes what kube-apiserver writes, and its ground truth is exact."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from k8saudit.cli import app
from typer.testing import CliRunner

from k8saudit.exceptions import ExitCode, UsageError
from k8saudit.simulator import simulate
from k8saudit.simulator.naming import client_name
from k8saudit.simulator.runner import parse_duration

EVENT_KEYS = [
    "kind",
    "apiVersion",
    "level",
    "auditID",
    "stage",
    "requestURI",
    "verb",
    "user",
    "sourceIPs",
    "userAgent",
    "objectRef",
    "responseStatus",
    "requestReceivedTimestamp",
    "stageTimestamp",
    "annotations",
]
OBJECT_REF_KEYS = ["resource", "namespace", "name", "apiGroup", "apiVersion", "subresource"]
TIMESTAMP = re.compile(r"^2019-02-04T\d\d:\d\d:\d\d\.\d{6}Z$")
BACKUP = re.compile(r"^audit-2019-02-04T\d\d-\d\d-\d\d\.\d{3}\.log$")
ACCESS = re.compile(
    r'^I0204 \d\d:\d\d:\d\d\.\d{6}       1 httplog\.go:132\] "HTTP" '
    r'verb="(?P<verb>[A-Z]+)" URI="(?P<uri>[^"]+)" '
    r'latency="(?P<latency>[0-9.]+(?:µs|ms|s)|\d+m[0-9.]+s)" '
    r'userAgent="(?P<ua>[^"]+)" audit-ID="(?P<aid>[0-9a-f-]{36})" '
    r'srcIP="(?P<ip>[0-9.]+):\d+"(?P<apf> apf_pl="[a-z-]+" apf_fs="[a-z-]+" apf_iseats=\d+ '
    r'apf_fseats=0 apf_additionalLatency="0s" apf_execution_time="[^"]+")? resp=(?P<code>\d+)$'
)


def _read_lines(path: Path) -> list[str]:
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return data.decode("utf-8").splitlines()


def _audit_files(directory: Path) -> list[Path]:
    """Rotated backups oldest first, then the live file (the order a reader concatenates)."""
    backups = sorted(p for p in directory.iterdir() if p.name.startswith("audit-"))
    return backups + sorted(directory.glob("audit.log*"))


def _events(root: Path) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for server in sorted(root.glob("apiserver-*"))
        for path in _audit_files(server)
        for line in _read_lines(path)
    ]


def _tree_digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def civis(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("civis") / "logs"
    result = simulate(
        out, nodes=100, duration="3m", seed=1, apiservers=1, format="both", rotate_mb=4
    )
    return out, result.ground_truth


@pytest.fixture(scope="module")
def civis_events(civis: tuple[Path, dict[str, Any]]) -> list[dict[str, Any]]:
    return _events(civis[0])


def test_same_seed_same_bytes_and_other_seed_differs(tmp_path: Path) -> None:
    kwargs: dict[str, Any] = dict(nodes=20, duration="1m", apiservers=2, format="both", gzip=True)
    simulate(tmp_path / "a", seed=7, **kwargs)
    simulate(tmp_path / "b", seed=7, **kwargs)
    simulate(tmp_path / "c", seed=8, **kwargs)
    first = _tree_digest(tmp_path / "a")
    assert first == _tree_digest(tmp_path / "b")
    assert first != _tree_digest(tmp_path / "c")
    assert "apiserver-2/audit.log.gz" in first
    assert "apiserver-2/kube-apiserver.log.gz" in first


def test_every_line_is_a_v1_event_in_go_field_order(civis_events: list[dict[str, Any]]) -> None:
    stages: dict[str, list[str]] = defaultdict(list)
    for event in civis_events:
        keys = list(event)
        assert keys == [k for k in EVENT_KEYS if k in keys]
        assert event["kind"] == "Event" and event["apiVersion"] == "audit.k8s.io/v1"
        assert event["level"] == "Metadata"
        assert TIMESTAMP.match(event["requestReceivedTimestamp"])
        assert TIMESTAMP.match(event["stageTimestamp"])
        assert event["stageTimestamp"] >= event["requestReceivedTimestamp"]
        assert list(event["user"]) == [
            k for k in ("username", "uid", "groups", "extra") if k in event["user"]
        ]
        ref = list(event["objectRef"])
        assert ref == [k for k in OBJECT_REF_KEYS if k in ref]
        if event["stage"] == "RequestReceived":
            assert "responseStatus" not in event and "annotations" not in event
        else:
            assert event["responseStatus"]["metadata"] == {}
            code = event["responseStatus"]["code"]
            assert ("annotations" in event) == (code != 429)
            if code >= 400 and code != 429:
                assert event["responseStatus"]["status"] == "Failure"
        stages[event["auditID"]].append(event["stage"])
    for audit_id, seen in stages.items():
        watch = "ResponseStarted" in seen
        expected = (
            ["RequestReceived", "ResponseStarted", "ResponseComplete"]
            if watch
            else [
                "RequestReceived",
                "ResponseComplete",
            ]
        )
        assert seen in (expected, expected[:-1], expected[:1]), audit_id


def test_raw_lines_escape_like_go(civis: tuple[Path, dict[str, Any]]) -> None:
    raw = (civis[0] / "apiserver-1" / "audit.log").read_text()
    assert "\\u0026timeoutSeconds=" in raw
    assert "&" not in raw


def test_ground_truth_matches_the_logs(
    civis: tuple[Path, dict[str, Any]], civis_events: list[dict[str, Any]]
) -> None:
    _, truth = civis
    ids: dict[str, set[str]] = defaultdict(set)
    throttled: Counter[str] = Counter()
    sources: dict[str, set[str]] = defaultdict(set)
    for event in civis_events:
        client = client_name(event["userAgent"], event["user"]["username"])
        ids[client].add(event["auditID"])
        sources[client].update(event["sourceIPs"])
        if event["stage"] == "ResponseComplete" and event["responseStatus"]["code"] == 429:
            throttled[client] += 1
    expected = {c["client"]: c for c in truth["clients"]}
    assert {c: len(v) for c, v in ids.items()} == {c: e["requests"] for c, e in expected.items()}
    assert {c: n for c, n in throttled.items()} == {
        c: e["throttled_429"] for c, e in expected.items() if e["throttled_429"]
    }
    assert {c: len(v) for c, v in sources.items()} == {c: e["sources"] for c, e in expected.items()}
    assert sum(len(v) for v in ids.values()) == truth["totals"]["requests"]
    assert truth["totals"]["throttled_429"] == sum(throttled.values()) > 0


def test_ground_truth_names_the_planted_pollers(civis: tuple[Path, dict[str, Any]]) -> None:
    _, truth = civis
    pollers = {(p["client"], p["verb"], p["resource"], p["scope"]): p for p in truth["pollers"]}
    datadog = pollers[("datadog-agent", "list", "services", "cluster")]
    assert (datadog["period_s"], datadog["sources"]) == (15.0, 100)
    assert datadog["request_uri"] == "/api/v1/services"
    hot_loop = pollers[("redis-operator", "get", "configmaps", "object")]
    assert (hot_loop["period_s"], hot_loop["sources"]) == (1.0, 1)
    assert pollers[("kubelet", "update", "leases", "object")]["sources"] == 100
    assert pollers[("kube2iam", "list", "pods", "cluster")]["period_s"] == 450.0
    assert truth["inflight_peak"]["readonly"] == 400


def test_access_log_matches_the_audit_log(
    civis: tuple[Path, dict[str, Any]], civis_events: list[dict[str, Any]]
) -> None:
    lines = _read_lines(civis[0] / "apiserver-1" / "kube-apiserver.log")
    complete = {e["auditID"]: e for e in civis_events if e["stage"] == "ResponseComplete"}
    parsed = [ACCESS.match(line) for line in lines]
    assert all(parsed), next(line for line, m in zip(lines, parsed, strict=True) if not m)
    matches = [m for m in parsed if m]
    assert {m["aid"] for m in matches} == set(complete)
    assert len(matches) == len(complete)
    for m in matches:
        event = complete[m["aid"]]
        assert int(m["code"]) == event["responseStatus"]["code"]
        assert m["uri"] == event["requestURI"]
        assert m["ua"] == event["userAgent"]
        assert m["ip"] == event["sourceIPs"][0]
        assert (m["apf"] is None) == (m["code"] == "429")
    verbs = Counter(m["verb"] for m in matches)
    assert {"GET", "LIST", "PUT", "PATCH"} <= set(verbs)


def test_audit_log_rotates_like_lumberjack(civis: tuple[Path, dict[str, Any]]) -> None:
    directory = civis[0] / "apiserver-1"
    backups = [p for p in directory.iterdir() if p.name.startswith("audit-")]
    assert len(backups) >= 2
    assert all(BACKUP.match(p.name) for p in backups)
    assert all(p.stat().st_size <= 4 * 1024 * 1024 for p in backups)
    stamps = [
        json.loads(line)["stageTimestamp"]
        for p in _audit_files(directory)
        for line in _read_lines(p)
    ]
    assert stamps == sorted(stamps)


def test_scenarios_differ(tmp_path: Path, civis: tuple[Path, dict[str, Any]]) -> None:
    quiet = simulate(tmp_path / "q", nodes=100, duration="3m", apiservers=1, scenario="quiet")
    storm = simulate(
        tmp_path / "s", nodes=100, duration="3m", apiservers=1, scenario="kube2iam-storm"
    )
    civis_clients = {c["client"]: c for c in civis[1]["clients"]}
    quiet_clients = {c["client"]: c for c in quiet.ground_truth["clients"]}
    storm_clients = {c["client"]: c for c in storm.ground_truth["clients"]}
    assert quiet.ground_truth["totals"]["throttled_429"] == 0
    assert "datadog-agent" not in quiet_clients and "datadog-agent" in civis_clients
    most_throttled = max(civis_clients.values(), key=lambda c: c["throttled_429"])
    assert most_throttled["client"] == "datadog-agent"
    assert storm_clients["kube2iam"]["requests"] > 3 * quiet_clients["kube2iam"]["requests"]
    assert storm_clients["kube2iam"]["errors_5xx"] > 0
    assert storm.ground_truth["totals"]["throttled_429"] > 0


def test_warm_start_logs_only_what_happened_inside_the_window(tmp_path: Path) -> None:
    """A log of a running cluster: the watches open at its start began before it, so only the
    stages they reach inside the window are written (their ResponseComplete, their access-log
    line), with a requestReceivedTimestamp before the window."""
    root = tmp_path / "logs"
    truth = simulate(
        root, nodes=20, duration="2m", seed=5, apiservers=1, format="both", warm_start=True
    ).ground_truth
    window = truth["window"]
    assert (window["start"], window["end"]) == (
        "2019-02-04T12:00:00.000000Z",
        "2019-02-04T12:02:00.000000Z",
    )
    assert window["seconds"] == 120.0 and truth["parameters"]["warm_start"] is True
    events = _events(root)
    stamps = sorted(e["stageTimestamp"] for e in events)
    assert (window["first_line"], window["last_line"]) == (stamps[0], stamps[-1])
    assert window["start"] <= stamps[0] and stamps[-1] < "2019-02-04T12:02:01"
    early: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        if event["requestReceivedTimestamp"] < window["start"]:
            early[event["auditID"]].append(event)
    assert len(early) == truth["totals"]["started_before_window"] > 0
    for seen in early.values():
        assert all(e["verb"] == "watch" for e in seen)
        assert seen[-1]["stage"] == "ResponseComplete"
        assert TIMESTAMP.match(seen[-1]["requestReceivedTimestamp"])
    clients = {c["client"]: c for c in truth["clients"]}
    by_client = Counter(
        client_name(seen[0]["userAgent"], seen[0]["user"]["username"]) for seen in early.values()
    )
    assert by_client == {
        name: c["started_before_window"]
        for name, c in clients.items()
        if c["started_before_window"]
    }
    assert {"kubelet", "kube-proxy", "kube2iam"} <= set(by_client)
    access = [
        ACCESS.match(line) for line in _read_lines(root / "apiserver-1" / "kube-apiserver.log")
    ]
    assert set(early) <= {m["aid"] for m in access if m}
    # every ID is in the logs: the ground truth counts what they show, no more
    assert len({e["auditID"] for e in events}) == truth["totals"]["requests"]


def test_access_only_ground_truth_counts_what_the_access_log_shows(tmp_path: Path) -> None:
    """An access-log line is written when its request completes: requests still open at the end
    are in no log, so the ground truth of an access-only run does not count them."""
    root = tmp_path / "logs"
    truth = simulate(root, nodes=20, duration="1m", seed=4, apiservers=1, format="access")
    lines = _read_lines(root / "apiserver-1" / "kube-apiserver.log")
    totals = truth.ground_truth["totals"]
    assert totals["requests"] == totals["complete"] == len(lines) > 0
    assert totals["incomplete"] == 0
    assert sum(c["requests"] for c in truth.ground_truth["clients"]) == len(lines)


def test_parse_duration() -> None:
    assert parse_duration("1h30m") == 5400.0
    assert parse_duration("90s") == 90.0
    with pytest.raises(UsageError):
        parse_duration("soon")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scenario": "nope"}, "unknown scenario"),
        ({"format": "xml"}, "unknown format"),
        ({"nodes": 0}, "--nodes"),
        ({"duration": "1s"}, "out of range"),
    ],
)
def test_bad_arguments_raise_usage_error(tmp_path: Path, kwargs: dict[str, Any], message: str):
    with pytest.raises(UsageError, match=message):
        simulate(tmp_path / "x", **kwargs)


def test_client_names_follow_the_ingest_rule() -> None:
    assert (
        client_name(
            "kube-scheduler/v1.14.10 (linux/amd64) kubernetes/575467a/leader-election",
            "system:kube-scheduler",
        )
        == "kube-scheduler/leader-election"
    )
    assert client_name("Go-http-client/2.0", "system:node:ip-10-0-1-2.ec2.internal") == (
        "Go-http-client (system:node:*)"
    )
    assert client_name("curl/7.64.0", "alice") == "curl (alice)"
    assert client_name("datadog-agent/6.10.1 (linux/amd64) kubernetes/$Format", "x") == (
        "datadog-agent"
    )


def test_cli_simulate(tmp_path: Path) -> None:
    out = tmp_path / "logs"
    result = CliRunner().invoke(
        app, ["simulate", "--out", str(out), "--nodes", "10", "--duration", "1m", "--seed", "3"]
    )
    assert result.exit_code == 0, result.output
    assert "ground truth in" in result.output
    truth = json.loads((out / "ground_truth.json").read_text())
    assert truth["parameters"]["seed"] == 3 and truth["parameters"]["nodes"] == 10
    assert "window" not in truth and "warm_start" not in truth["parameters"]
    warm = CliRunner().invoke(
        app, ["simulate", "--out", str(tmp_path / "w"), "--nodes", "10", "--warm-start"]
    )
    assert warm.exit_code == 0, warm.output
    truth = json.loads((tmp_path / "w" / "ground_truth.json").read_text())
    before = truth["totals"]["started_before_window"]
    assert f", {before} begun before the log);" in warm.output
    bad = CliRunner().invoke(app, ["simulate", "--out", str(tmp_path / "y"), "--scenario", "x"])
    assert bad.exit_code == ExitCode.USAGE and "scenario" in bad.stderr
