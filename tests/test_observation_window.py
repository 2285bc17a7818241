"""Rates divide by the time the logs cover, even when watches began before the log (issue 11).

A log of a running cluster starts with watches already open: only their ResponseComplete and
access-log line are in it, with a receive time before its first line. The simulator plants them
(``warm_start``). For every planted client, top-talkers' req/s must be its requests over the
simulated window within 1%, with and without a client, resource or since filter, and each result
must state the window the logs cover: from the first line written to the last (a since inside it
clips the start; one before the data changes nothing).

What the logs hold is read back from the written audit log, not from the ingest: one row per
audit ID with its client (the simulator's naming rule), resource and receive time.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import k8saudit
from k8saudit.dataset import Dataset
from k8saudit.simulator import simulate
from k8saudit.simulator.naming import client_name

TOLERANCE = 0.01


@dataclass(frozen=True)
class Request:
    """One request of the written logs, as its audit events state it."""

    client: str
    resource: str
    received: datetime


@dataclass(frozen=True)
class Run:
    ds: Dataset
    truth: dict[str, Any]
    start: datetime  # the simulated window
    end: datetime
    first_line: datetime  # the first and last line any log wrote
    last_line: datetime
    requests: list[Request]

    def since(self, back: timedelta) -> datetime:
        """The instant a relative ``--since`` means: ``back`` before the last request received."""
        return max(r.received for r in self.requests) - back


def _time(text: str) -> datetime:
    """An RFC 3339 time, or ``HH:MM`` on the simulated day."""
    if len(text) == 5:
        text = f"2019-02-04T{text}:00Z"
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _written_requests(root: Path) -> list[Request]:
    seen: dict[str, Request] = {}
    for path in sorted(root.glob("apiserver-*/audit*.log")):
        for line in path.read_text().splitlines():
            event = json.loads(line)
            if event["auditID"] not in seen:
                seen[event["auditID"]] = Request(
                    client_name(event["userAgent"], event["user"]["username"]),
                    event["objectRef"]["resource"],
                    _time(event["requestReceivedTimestamp"]),
                )
    return list(seen.values())


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    tmp = tmp_path_factory.mktemp("observation")
    result = simulate(
        tmp / "logs", nodes=50, duration="10m", seed=3, format="both", warm_start=True
    )
    report = k8saudit.ingest([tmp / "logs"], dataset=tmp / "ds", year=2019)
    assert report.rejected == 0
    window = result.ground_truth["window"]
    return Run(
        k8saudit.open(tmp / "ds"),
        result.ground_truth,
        _time(window["start"]),
        _time(window["end"]),
        _time(window["first_line"]),
        _time(window["last_line"]),
        _written_requests(tmp / "logs"),
    )


def test_the_logs_begin_with_watches_already_open(run: Run) -> None:
    truth = run.truth
    assert truth["parameters"]["warm_start"] is True
    assert truth["window"]["seconds"] == 600.0
    before = [r for r in run.requests if r.received < run.start]
    # one per watch chain (each kubelet, kube-proxy, kube2iam, coredns, informer watch)
    assert len(before) == truth["totals"]["started_before_window"] > 1000
    assert {r.resource for r in before} >= {"pods", "secrets", "services", "endpoints"}
    per_client = Counter(r.client for r in before)
    assert per_client == {
        c["client"]: c["started_before_window"]
        for c in truth["clients"]
        if c["started_before_window"]
    }
    assert Counter(r.client for r in run.requests) == {
        c["client"]: c["requests"] for c in truth["clients"]
    }
    assert len(run.requests) == truth["totals"]["requests"]
    # the earliest of them began up to a watch timeout (10 minutes) before the log
    assert run.start - timedelta(minutes=10) <= min(r.received for r in before)
    assert run.start <= run.first_line < run.start + timedelta(seconds=1)
    assert run.end - timedelta(seconds=1) < run.last_line < run.end + timedelta(seconds=1)


#: filters given to top_talkers, and the instant their since means (None: none given)
SINCE_CASES: dict[str, tuple[dict[str, str], Callable[[Run], datetime | None]]] = {
    "no since": ({}, lambda run: None),
    "since before the data": ({"since": "2019-02-04T11:00:00Z"}, lambda run: _time("11:00")),
    "relative since before the data": (
        {"since": "30m"},
        lambda run: run.since(timedelta(minutes=30)),
    ),
    "since inside": ({"since": "2019-02-04T12:04:00Z"}, lambda run: _time("12:04")),
    "relative since inside": ({"since": "3m"}, lambda run: run.since(timedelta(minutes=3))),
}


def _expected(
    run: Run, filters: dict[str, str], since: datetime | None
) -> dict[str, tuple[int, float]]:
    """Per client: the requests ``filters`` (client, resource) and ``since`` keep, and their
    rate over the simulated window clipped by ``since`` (the truth's window, not the logs')."""
    counts = Counter(
        r.client
        for r in run.requests
        if all(getattr(r, field) == value for field, value in filters.items())
        and (since is None or r.received >= since)
    )
    seconds = (run.end - max(since or run.start, run.start)).total_seconds()
    return {client: (n, n / seconds) for client, n in counts.items()}


def _check(
    run: Run,
    rows: list[dict[str, Any]],
    expected: dict[str, tuple[int, float]],
    since: datetime | None,
) -> None:
    """Rows of top_talkers against the expected counts and rates."""
    assert {row["client"]: row["requests"] for row in rows} == {
        client: n for client, (n, _) in expected.items()
    }
    # the window a result states is the one the logs cover, clipped by since
    start = max(since or run.first_line, run.first_line)
    for row in rows:
        _, want = expected[row["client"]]
        assert (row["window_start"], row["window_end"]) == (start, run.last_line)
        assert row["req_per_s"] == pytest.approx(want, rel=TOLERANCE), row["client"]


def test_every_client_rate_is_its_requests_over_the_window(run: Run) -> None:
    """Every filter case against every planted client: counts exact, the stated window the
    covered one, req_per_s within 1% of the truth (rates as low as 0.002/s included)."""
    clients = sorted({r.client for r in run.requests})
    resources = sorted({r.resource for r in run.requests})
    assert {"kubelet", "kube-proxy", "kube2iam", "datadog-agent"} <= set(clients)
    for given, since_of in SINCE_CASES.values():
        since = since_of(run)
        cases: list[dict[str, str]] = [{}]
        cases += [{"client": c} for c in clients]
        cases += [{"resource": x} for x in resources]
        for filters in cases:
            rows = run.ds.top_talkers(limit=0, **given, **filters).to_dicts()
            _check(run, rows, _expected(run, filters, since), since)
