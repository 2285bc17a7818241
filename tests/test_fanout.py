"""``fanout``: the clients that run on every node (the DaemonSet signature) and what each node
adds, on sample_logs against its ground truth and on hand-made events (rows in, rows out)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import k8saudit
from k8saudit.dataset import Dataset

from .helpers import event, jsonl

REPO = Path(__file__).resolve().parents[1]
START = datetime(2019, 2, 4, 12, 0, tzinfo=UTC)


@pytest.fixture
def sample(sample_dataset: Path) -> Dataset:
    return k8saudit.open(sample_dataset)


def test_the_daemonsets_of_sample_logs(sample: Dataset) -> None:
    truth = json.loads((REPO / "sample_logs" / "ground_truth.json").read_text())
    nodes = truth["cluster"]["nodes"]
    clients = {c["client"]: c for c in truth["clients"]}
    frame = sample.fanout()
    rows = {r["client"]: r for r in frame.iter_rows(named=True)}
    for name in ("datadog-agent", "kubelet", "rest-client (logging:fluentd)"):
        row = rows[name]
        assert (row["nodes"], row["cluster_nodes"], row["sources"]) == (nodes, nodes, nodes)
        assert row["sources"] == clients[name]["sources"]
        assert row["requests"] == clients[name]["requests"]
        assert row["node_req_per_s"] == pytest.approx(row["req_per_s"] / nodes, rel=1e-3)
    assert frame["client"][0] == "datadog-agent"  # the most API-server time per node
    assert "redis-operator" not in rows and "kubectl" not in rows  # one source each


def test_a_filter_does_not_change_the_cluster(sample: Dataset) -> None:
    frame = sample.fanout(client="datadog-agent")
    assert frame.select("client", "cluster_nodes", "request_share").row(0) == (
        "datadog-agent",
        200,
        1.0,
    )


def _request(i: int, t: float, user: dict[str, Any], ua: str, uri: str, ms: int) -> dict:
    at = START + timedelta(seconds=t)
    return event(
        f"id{i:04d}",
        verb="get",
        requestURI=uri,
        objectRef={"resource": "nodes", "name": "n", "apiVersion": "v1"},
        user=user,
        userAgent=ua,
        requestReceivedTimestamp=at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        stageTimestamp=(at + timedelta(milliseconds=ms)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    )


def test_rows_in_rows_out(tmp_path: Path) -> None:
    """Four nodes over 100 s; an agent on three of them (two pods on n1 after a restart), a
    single-pod operator, and kubelets."""
    events: list[dict[str, Any]] = []

    def add(t: float, user: dict[str, Any], ua: str, ms: int) -> None:
        events.append(_request(len(events), t, user, ua, "/api/v1/nodes/n", ms))

    for node in ("n1", "n2", "n3", "n4"):
        for t in (0.0, 50.0, 100.0):
            add(t, {"username": f"system:node:{node}", "groups": ["system:nodes"]}, "kubelet/1", 2)
    agent = "agent/1.0"
    for pod, node, starts in (("a-x1", "n1", 0), ("a-x2", "n1", 60), ("a-x3", "n2", 0),
                              ("a-x4", "n3", 0)):  # fmt: skip
        extra = {
            "authentication.kubernetes.io/pod-name": [pod],
            "authentication.kubernetes.io/node-name": [node],
        }
        user = {"username": "system:serviceaccount:mon:agent", "groups": [], "extra": extra}
        for t in range(starts, starts + 40, 10):  # 4 requests of 100 ms each
            add(float(t), user, agent, 100)
    operator = {"username": "system:serviceaccount:op:op", "groups": []}
    for t in range(0, 100, 5):
        add(float(t), operator, "op/1.0", 1)
    root = tmp_path / "ds"
    k8saudit.ingest([jsonl(tmp_path / "audit.log", events)], dataset=root)
    frame = k8saudit.open(root).fanout(min_coverage=0.75)
    columns = ["client", "nodes", "cluster_nodes", "node_share", "sources", "sources_per_node"]
    columns += ["requests", "req_per_s", "source_req_per_s", "node_req_per_s"]
    columns += ["node_busy_ms_per_s"]
    # the observation window: the first request at 0 s to the kubelets' last answer, 100.002 s
    assert frame.select(columns).rows() == [
        ("agent", 3, 4, 0.75, 4, 1.333, 16, 0.16, 0.04, 0.0533, 5.333),
        ("kubelet", 4, 4, 1.0, 4, 1.0, 12, 0.12, 0.03, 0.03, 0.06),
    ]
