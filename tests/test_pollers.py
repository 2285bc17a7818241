"""``pollers`` against the simulator's ground truth and on hand-made events (rows in, rows out).

The simulator plants periodic pollers (``ground_truth.json``'s ``pollers``: client, verb,
resource, scope, period, jitter, sources); every one must be found with its period within 10%
and its exact source count. A period is measured from the times between a source's requests,
so a relist that follows a 300-600 s watch needs a window of several periods: sample_logs (5
minutes) cannot show it, a 30-minute simulation can.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import k8saudit
from k8saudit.dataset import Dataset
from k8saudit.simulator import simulate

from .helpers import event, jsonl

REPO = Path(__file__).resolve().parents[1]
START = datetime(2019, 2, 4, 12, 0, tzinfo=UTC)


def _ingest(logs: Path, root: Path) -> Dataset:
    k8saudit.ingest([logs], dataset=root)
    return k8saudit.open(root)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Dataset, dict[str, Any]]:
    root = tmp_path_factory.mktemp("sample") / "ds"
    truth = json.loads((REPO / "sample_logs" / "ground_truth.json").read_text())
    return _ingest(REPO / "sample_logs", root), truth


@pytest.fixture(scope="module")
def civis(tmp_path_factory: pytest.TempPathFactory) -> tuple[Dataset, dict[str, Any]]:
    """50 nodes for 30 minutes: long enough for kube2iam's relists (one per 300-600 s watch)."""
    out = tmp_path_factory.mktemp("civis")
    result = simulate(out / "logs", nodes=50, duration="30m", seed=5, apiservers=2)
    return _ingest(out / "logs", out / "ds"), result.ground_truth


def _row(frame: Any, planted: dict[str, Any]) -> dict[str, Any]:
    rows = [
        r
        for r in frame.iter_rows(named=True)
        if (r["client"], r["verb"], r["resource"], r["subresource"] or "", r["scope"])
        == (
            planted["client"],
            planted["verb"],
            planted["resource"],
            planted["subresource"],
            planted["scope"],
        )
    ]
    assert len(rows) == 1, (planted, rows)
    return rows[0]


def _check(row: dict[str, Any], planted: dict[str, Any]) -> None:
    assert row["period_s"] == pytest.approx(planted["period_s"], rel=0.1), planted
    assert row["sources"] == planted["sources"], planted
    assert row["periodic"], planted


def test_every_planted_poller_of_sample_logs(sample: tuple[Dataset, dict[str, Any]]) -> None:
    ds, truth = sample
    frame = ds.pollers(min_share=0, limit=0)
    window_s = truth["parameters"]["duration_s"]
    measurable = [p for p in truth["pollers"] if p["period_s"] <= window_s / 3]
    assert len(measurable) == len(truth["pollers"]) - 1  # kube2iam's 450 s relist is not
    for planted in measurable:
        _check(_row(frame, planted), planted)
    relist = _row(frame, next(p for p in truth["pollers"] if p["period_s"] > window_s / 3))
    assert (relist["period_s"], relist["periodic"]) == (None, False)  # one relist per source


def test_every_planted_poller_of_a_longer_run(civis: tuple[Dataset, dict[str, Any]]) -> None:
    ds, truth = civis
    frame = ds.pollers(min_share=0, limit=0)
    for planted in truth["pollers"]:
        _check(_row(frame, planted), planted)


def test_the_datadog_agent_leads_and_the_operator_hot_loops(
    sample: tuple[Dataset, dict[str, Any]],
) -> None:
    ds, _ = sample
    frame = ds.pollers()
    first = frame.row(0, named=True)
    assert (first["client"], first["operation"], first["cost_class"], first["sources"]) == (
        "datadog-agent",
        "LIST services cluster",
        "cluster-wide LIST from etcd",
        200,
    )
    operator = frame.filter(frame["client"] == "redis-operator").row(0, named=True)
    assert operator["cost_class"] == "hot loop on one object"
    assert operator["object"] == "redis-operator-lock"
    fluentd = frame.filter(frame["operation"] == "GET pods object (several)").row(0, named=True)
    assert not fluentd["periodic"] and fluentd["req_per_s"] > 5  # a flood, not a poller


def test_expected_traffic_is_labelled_and_listed_last(
    civis: tuple[Dataset, dict[str, Any]],
) -> None:
    ds, _ = civis
    frame = ds.pollers(min_share=0, limit=0)
    reasons = {
        (r["client"], r["verb"], r["resource"]): r["expected_reason"]
        for r in frame.iter_rows(named=True)
    }
    assert reasons[("kubelet", "update", "leases")] == "node lease"
    assert reasons[("kubelet", "get", "nodes")] == "node status"
    assert reasons[("kubelet", "patch", "nodes")] == "node status"
    assert reasons[("kube-scheduler/leader-election", "update", "endpoints")] == "leader election"
    assert reasons[("kube-controller-manager/cronjob-controller", "list", "jobs")] == (
        "control plane"
    )
    assert reasons[("datadog-agent", "list", "services")] is None
    expected = frame["expected"].to_list()
    assert expected == sorted(expected), "the expected series come after the others"
    leader = frame.filter(frame["client"] == "kube-scheduler/leader-election")
    assert set(leader["cost_class"]) == {"per-object"}  # 2 s by design: not a hot loop
    relist = frame.filter((frame["client"] == "kube2iam") & (frame["verb"] == "list"))
    assert relist["lists_per_watch"].item() == pytest.approx(1, abs=0.05)


def test_a_quiet_cluster_has_no_offender(tmp_path: Path) -> None:
    """`quiet` keeps kube2iam, which relists every pod from etcd at each watch reconnect (a
    third of the API-server time at this size): an offender by the numbers, and found. Without
    it (--without) the cluster is healthy: no unexpected periodic series or hot loop reaches the
    default share."""
    simulate(tmp_path / "logs", nodes=30, duration="10m", seed=2, scenario="quiet", apiservers=1)
    ds = _ingest(tmp_path / "logs", tmp_path / "ds")
    relist = ds.pollers(limit=1).row(0, named=True)
    assert (relist["client"], relist["cost_class"]) == ("kube2iam", "cluster-wide LIST from etcd")
    assert relist["lists_per_watch"] == pytest.approx(1, abs=0.1)  # every reconnect relists
    frame = ds.pollers(without="kube2iam", limit=0)
    offenders = frame.filter(
        ~frame["expected"] & (frame["periodic"] | (frame["cost_class"] == "hot loop on one object"))
    )
    assert offenders.height == 0, offenders
    assert frame.filter(frame["expected"]).height >= 3  # leases, node status, control plane


# rows in, rows out: one source GETting one object at chosen instants


def _gets(times: list[float], codes: dict[int, int] | None = None) -> list[dict[str, Any]]:
    codes = codes or {}
    events = []
    for i, t in enumerate(times):
        at = START + timedelta(seconds=t)
        events.append(
            event(
                f"id{i:05d}",
                verb="get",
                requestURI="/api/v1/namespaces/default/configmaps/lock",
                objectRef={"resource": "configmaps", "namespace": "default", "name": "lock"},
                userAgent="lockbot/1.0",
                user={"username": "system:serviceaccount:default:lockbot", "groups": []},
                requestReceivedTimestamp=at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                stageTimestamp=(at + timedelta(milliseconds=10)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                responseStatus={"metadata": {}, "code": codes.get(i, 200)},
            )
        )
    return events


def _series(tmp_path: Path, times: list[float], codes: dict[int, int] | None = None) -> dict:
    log = jsonl(tmp_path / "audit.log", _gets(times, codes))
    frame = _ingest(log, tmp_path / "ds").pollers(min_share=0, limit=0)
    assert frame.height == 1
    return frame.row(0, named=True)


def test_jitter_is_the_median_absolute_deviation(tmp_path: Path) -> None:
    # intervals 9, 11, 9, 11...: median 10, every one 1 s away from it
    times = [10.0 * k + (0.5 if k % 2 else -0.5) for k in range(1, 22)]
    row = _series(tmp_path, times)
    assert (row["period_s"], row["jitter_s"], row["regularity"]) == (10.0, 1.0, 0.9)
    assert (row["intervals"], row["sources"], row["periodic"]) == (20, 1, True)
    assert row["cost_class"] == "per-object" and row["object"] == "lock"


def test_a_missed_beat_does_not_move_the_period(tmp_path: Path) -> None:
    times = [5.0 * k for k in range(20) if k != 7]  # the 8th beat never came
    row = _series(tmp_path, times)
    assert (row["period_s"], row["jitter_s"], row["intervals"]) == (5.0, 0.0, 18)
    assert row["periodic"]


def test_retries_after_429_are_not_beats(tmp_path: Path) -> None:
    # every 15 s; the beat at 60 s is throttled and retried at 60.2, 60.4 and 60.6
    times = sorted([15.0 * k for k in range(12)] + [60.2, 60.4, 60.6])
    throttled = {times.index(t): 429 for t in (60.0, 60.2, 60.4)}
    row = _series(tmp_path, times, throttled)
    # measured: the 11 intervals of 15 s minus the one the retries split, plus 60.6 -> 75
    assert (row["period_s"], row["intervals"], row["throttled"]) == (15.0, 11, 3)
    assert row["jitter_s"] == 0.0 and row["requests"] == 15


def test_a_hot_loop_on_one_object(tmp_path: Path) -> None:
    row = _series(tmp_path, [0.5 * k for k in range(40)])
    assert (row["period_s"], row["cost_class"], row["periodic"]) == (
        0.5,
        "hot loop on one object",
        True,
    )


def test_poisson_traffic_is_not_periodic(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    times = np.cumsum(rng.exponential(4.0, size=150)).round(3).tolist()
    row = _series(tmp_path, times)
    assert not row["periodic"]
    assert row["regularity"] < 0.5  # about 0.31 for a Poisson stream
    assert row["requests"] == 150


def test_too_few_intervals_say_nothing(tmp_path: Path) -> None:
    row = _series(tmp_path, [0.0, 10.0, 20.0])
    assert (row["period_s"], row["intervals"], row["regularity"], row["periodic"]) == (
        10.0,
        2,
        None,
        False,
    )


def test_generated_pod_suffixes_collapse_into_one_series(tmp_path: Path) -> None:
    events = []
    for k, pod in enumerate(("bot-7d4b9c8f6-x7k2q", "bot-7d4b9c8f6-m5n2z")):
        for e in _gets([10.0 * i + k for i in range(12)]):
            e["auditID"] = f"{pod}-{e['auditID']}"
            e["user"] = {"username": pod, "groups": []}
            e["sourceIPs"] = [f"10.0.1.{k + 1}"]
            events.append(e)
    log = jsonl(tmp_path / "audit.log", events)
    frame = _ingest(log, tmp_path / "ds").pollers(min_share=0, limit=0)
    row = frame.row(0, named=True)
    assert (frame.height, row["identity"], row["sources"], row["period_s"]) == (1, "bot-*", 2, 10.0)
