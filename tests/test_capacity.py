"""``capacity``: each client's load projected to N nodes, with the model each row uses, on
hand-made events (rows in, rows out) and on sample_logs against its ground truth."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import k8saudit
from k8saudit.dataset import Dataset

from .helpers import event, jsonl, run_cli

REPO = Path(__file__).resolve().parents[1]
START = datetime(2019, 2, 4, 12, 0, tzinfo=UTC)


def _at(t: float) -> str:
    return (START + timedelta(seconds=t)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    """Four nodes over 100 s: kubelets reading their node, an agent on every node listing all
    services, an operator reading one config map, and one person's cluster-wide list."""
    tmp = tmp_path_factory.mktemp("capacity")
    events: list[dict[str, Any]] = []

    def add(t: float, verb: str, uri: str, ref: dict, user: dict, ua: str, ms: int) -> None:
        events.append(
            event(
                f"id{len(events):04d}",
                verb=verb,
                requestURI=uri,
                objectRef={**ref, "apiVersion": "v1"},
                user=user,
                userAgent=ua,
                requestReceivedTimestamp=_at(t),
                stageTimestamp=_at(t + ms / 1000),
            )
        )

    for node in ("n1", "n2", "n3", "n4"):
        kubelet = {"username": f"system:node:{node}", "groups": ["system:nodes"]}
        for t in (0.0, 50.0, 99.0):
            add(t, "get", f"/api/v1/nodes/{node}", {"resource": "nodes", "name": node},
                kubelet, "kubelet/1", 2)  # fmt: skip
        extra = {
            "authentication.kubernetes.io/pod-name": [f"agent-{node}"],
            "authentication.kubernetes.io/node-name": [node],
        }
        agent = {"username": "system:serviceaccount:mon:agent", "groups": [], "extra": extra}
        for t in (10.0, 30.0, 50.0, 70.0):
            add(t, "list", "/api/v1/services", {"resource": "services"}, agent, "agent/1", 100)
    operator = {"username": "system:serviceaccount:op:op", "groups": []}
    for t in range(0, 100, 5):
        ref = {"resource": "configmaps", "namespace": "op", "name": "lock"}
        add(float(t), "get", "/api/v1/namespaces/op/configmaps/lock", ref, operator, "op/1", 1)
    admin = {"username": "admin", "groups": ["system:masters"]}
    add(20.0, "list", "/api/v1/pods", {"resource": "pods"}, admin, "kubectl/v1.30", 50)
    root = tmp / "ds"
    k8saudit.ingest([jsonl(tmp / "audit.log", events)], dataset=root)
    return k8saudit.open(root)


def test_each_model_rows_in_rows_out(cluster: Dataset) -> None:
    frame = cluster.capacity(nodes=8)
    columns = ["client", "model", "nodes", "cluster_nodes", "target_nodes", "requests"]
    columns += ["growth", "is_total"]
    # twice the nodes: the agent sends twice the lists, each listing twice the objects (x4);
    # kubelets send twice the requests; kubectl's one list costs twice; the operator stays
    assert frame.select(columns).rows() == [
        ("agent", "per node x objects", 4, 4, 8, 16, 4.0, False),
        ("kubectl", "objects", 1, 4, 8, 1, 2.0, False),
        ("kubelet", "per node", 4, 4, 8, 12, 2.0, False),
        ("op", "fixed", 1, 4, 8, 20, 1.0, False),
        ("(total)", None, None, 4, 8, 49, round((6400 + 100 + 48 + 20) / 1694, 3), True),
    ]
    rows = {r["client"]: r for r in frame.iter_rows(named=True)}
    assert rows["agent"]["projected_req_per_s"] == pytest.approx(
        2 * rows["agent"]["req_per_s"], abs=2e-3
    )
    assert rows["op"]["projected_req_per_s"] == rows["op"]["req_per_s"]
    assert rows["agent"]["why"] == "on 4 of 4 nodes, 100% of its time in cluster-wide LISTs"
    assert rows["kubelet"]["why"] == "on 4 of 4 nodes"
    # seats: API-server seconds per second on the one apiserver; all of them readonly
    seconds = 16 / rows["agent"]["req_per_s"]
    assert rows["(total)"]["seats"] == round(1.694 / seconds, 1)
    assert rows["(total)"]["projected_mutating_seats"] == 0.0
    assert not rows["(total)"]["over_limit"]


def test_over_the_limit_and_the_limit_of_rows(cluster: Dataset) -> None:
    frame = cluster.capacity(nodes=40, limit=1)
    assert frame["client"].to_list() == ["agent", "(total)"]
    agent, total = frame.rows(named=True)
    # ten times the nodes: the agent's 1.6 s of lists grow a hundredfold, the kubelets' 24 ms
    # and kubectl's 50 ms tenfold, the operator's 20 ms not at all
    seconds = 16 / agent["req_per_s"]
    assert total["projected_readonly_seats"] == round((160 + 0.24 + 0.5 + 0.02) / seconds, 1)
    assert frame["over_limit"].to_list() == [False, False]
    over = cluster.capacity(nodes=40, limit=1, max_requests_inflight=2)
    assert over["over_limit"].to_list() == [False, False]
    over = cluster.capacity(nodes=40, limit=1, max_requests_inflight=1)
    assert over["over_limit"].to_list() == [True, True]


def test_sample_logs_at_a_thousand_nodes(sample_dataset: Path) -> None:
    truth = json.loads((REPO / "sample_logs" / "ground_truth.json").read_text())
    nodes = truth["cluster"]["nodes"]
    frame = k8saudit.open(sample_dataset).capacity(nodes=1000)
    first = frame.row(0, named=True)
    assert (first["client"], first["model"]) == ("datadog-agent", "per node x objects")
    assert first["cluster_nodes"] == nodes
    rows = {r["client"]: r for r in frame.iter_rows(named=True)}
    assert rows["kubelet"]["model"] == "per node"
    assert rows["kubelet"]["growth"] == 1000 / nodes
    assert rows["redis-operator"]["model"] == "fixed"
    assert frame["is_total"].to_list()[-1]
    assert rows["(total)"]["requests"] == frame.filter(~frame["is_total"])["requests"].sum()


def test_the_command(sample_dataset: Path) -> None:
    code, out, _ = run_cli("capacity", "-d", str(sample_dataset), "--nodes", "1000", "--limit", "3")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["client", "model", "req/s"]
    assert lines[2].startswith("datadog-agent ")
    assert lines[5].startswith("(total) ")
