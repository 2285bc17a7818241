"""``compare`` (issue 14 item 6): two windows of one dataset, or two datasets, side by side;
rates over each side's own observation window, ranked by the change in load."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import k8saudit
from k8saudit.exceptions import UsageError
from k8saudit.simulator import simulate

from .helpers import event, jsonl, run_cli


def _request(audit_id: str, second: int, user_agent: str, code: int = 200) -> dict[str, Any]:
    at = f"2019-02-04T12:{second // 60:02d}:{second % 60:02d}.000000Z"
    return event(
        audit_id,
        userAgent=user_agent,
        requestReceivedTimestamp=at,
        stageTimestamp=at,
        responseStatus={"metadata": {}, "code": code},
    )


@pytest.fixture
def windows(tmp_path: Path) -> Path:
    """12:00-12:01: kubectl 2, curl 1; 12:01-12:02: kubectl 4 (one 429), helm 3."""
    kubectl, curl, helm = "kubectl/v1.14.10", "curl/7.64.0", "Helm/3.0"
    events = [
        _request("a1", 0, kubectl), _request("a2", 30, kubectl), _request("c1", 40, curl),
        _request("b1", 60, kubectl), _request("b2", 75, kubectl, 429),
        _request("b3", 90, kubectl), _request("b4", 105, kubectl),
        _request("h1", 100, helm), _request("h2", 110, helm), _request("h3", 119, helm),
        _request("end", 120, kubectl),  # ends the log at 12:02:00; after the windows
    ]  # fmt: skip
    root = tmp_path / "ds"
    k8saudit.ingest([jsonl(tmp_path / "audit.log", events)], dataset=root)
    return root


def test_two_windows_rows_in_rows_out(windows: Path) -> None:
    frame = k8saudit.compare(
        windows,
        before="2019-02-04T12:00:00Z..2019-02-04T12:01:00Z",
        after="2019-02-04T12:01:00Z..2019-02-04T12:02:00Z",
    )
    columns = ("client", "change", "change_req_per_s", "before_req_per_s", "after_req_per_s",
               "ratio", "change_throttled_share", "before_requests", "after_requests")  # fmt: skip
    curl = "curl (logging:fluentd)"  # a generic HTTP client: qualified by its account
    assert frame.select(*columns).rows() == [
        ("Helm", "new", 0.05, 0.0, 0.05, None, None, 0, 3),
        # 2 and 4 requests in 60 s each; a quarter of the 4 got 429
        ("kubectl", "grew", 0.033333, 0.033333, 0.066667, 2.0, 0.25, 2, 4),
        (curl, "vanished", -0.016667, 0.016667, 0.0, 0.0, None, 1, 0),
    ]
    assert frame.select("before_seconds", "after_seconds").unique().rows() == [(60.0, 60.0)]
    # a change under --min-change is the same
    same = k8saudit.compare(windows, before="..2019-02-04T12:01:00Z",
                            after="2019-02-04T12:01:00Z..", min_change=1.5)  # fmt: skip
    assert same.filter(client="kubectl")["change"].to_list() == ["same"]
    by_verb = k8saudit.compare(windows, before="..2019-02-04T12:01:00Z",
                               after="2019-02-04T12:01:00Z..", by="verb")  # fmt: skip
    assert by_verb.select("verb", "before_requests", "after_requests").rows() == [("list", 3, 8)]


def test_compare_needs_two_sides(windows: Path) -> None:
    with pytest.raises(UsageError, match="nothing to compare"):
        k8saudit.compare(windows)
    with pytest.raises(UsageError, match=r"--before '1h': expected START\.\.END"):
        k8saudit.compare(windows, before="1h")
    code, out, _ = run_cli(
        "compare", "-d", str(windows), "--before", "..2019-02-04T12:01:00Z",
        "--after", "2019-02-04T12:01:00Z..", "-f", "csv", "--limit", "2",
    )  # fmt: skip
    # the open-ended after window takes the request at 12:02:00 too: 5 kubectl requests
    assert code == 0 and out.splitlines()[1].startswith("Helm,new,0.05,")
    assert out.splitlines()[2].startswith("kubectl,grew,0.05,0.033333,0.083333,2.5,")


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict, dict]:
    """``k8saudit simulate --nodes 80`` and ``--nodes 290``, same seed and duration, ingested."""
    root = tmp_path_factory.mktemp("compare")
    out: list[Any] = []
    for nodes in (80, 290):
        logs = root / f"logs-{nodes}"
        simulate(logs, nodes=nodes, duration="2m", seed=1, apiservers=1)
        k8saudit.ingest([logs], dataset=root / f"ds-{nodes}")
        out.append(root / f"ds-{nodes}")
    truths = [json.loads((root / f"logs-{n}" / "ground_truth.json").read_text()) for n in (80, 290)]
    return out[0], out[1], truths[0], truths[1]


def test_compare_ranks_the_node_scaled_clients_first(two_runs: tuple[Path, Path, dict, dict]):
    small, large, truth_small, truth_large = two_runs
    frame = k8saudit.compare(large, against=small)
    # the clients with one source per node in both runs: a DaemonSet, whose load grows with it
    scaled = [
        c["client"]
        for c in truth_large["clients"]
        if c["sources"] == 290
        and any(s["client"] == c["client"] and s["sources"] == 80 for s in truth_small["clients"])
    ]
    assert sorted(scaled) == ["datadog-agent", "kubelet", "rest-client (logging:fluentd)"]
    top = frame.head(len(scaled))
    assert sorted(top["client"]) == sorted(scaled)
    assert top["change"].to_list() == ["grew"] * len(scaled)
    # each node-scaled client grew about as the nodes did (290/80 = 3.6)
    assert all(3.0 < ratio < 4.0 for ratio in top["ratio"])
    # exact counts on both sides, from the simulators' ground truth
    requests = {
        side: {c["client"]: c["requests"] for c in truth["clients"]}
        for side, truth in (("before", truth_small), ("after", truth_large))
    }
    for row in frame.iter_rows(named=True):
        assert row["before_requests"] == requests["before"].get(row["client"], 0), row
        assert row["after_requests"] == requests["after"].get(row["client"], 0), row
    # rates over each side's observation window, as top-talkers gives them
    talkers = k8saudit.top_talkers(large, limit=0)
    kubelet = frame.filter(client="kubelet").row(0, named=True)
    assert kubelet["after_req_per_s"] == talkers.filter(client="kubelet")["req_per_s"].item()
