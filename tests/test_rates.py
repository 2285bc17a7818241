"""One observation window on sample_logs/ (issue 11 item 1): a client's rate is the same whatever
the other filters, a --since before the data does not dilute it, every rate-reporting result
states its window, and latency's requests reconcile with top-talkers'."""

from __future__ import annotations

from pathlib import Path

import pytest
from k8saudit.cli import app
from typer.testing import CliRunner

import k8saudit

#: sample_logs' lines observed 2019-02-04 12:00:00.004706 .. 12:04:59.987375: 299.982669 s
WINDOW = "window 2019-02-04 12:00:00 .. 12:04:59 UTC (5m 0s)"


@pytest.fixture
def dataset(sample_dataset: Path) -> str:
    return str(sample_dataset)


def rate(dataset: str, group: str, **filters: str) -> float:
    frame = k8saudit.top_talkers(dataset, by="client,verb,resource", limit=0, **filters)
    (value,) = frame.filter(frame["client,verb,resource"] == group)["req_per_s"].to_list()
    assert isinstance(value, float)
    return value


@pytest.mark.parametrize(
    "filters",
    [{}, {"client": "datadog-agent"}, {"resource": "services"}, {"verb": "LIST"},
     {"since": "30m"}, {"since": "2019-02-04T11:00:00Z"}, {"until": "2019-02-04T13:00:00Z"}],
)  # fmt: skip
def test_a_rate_does_not_move_with_the_filters(dataset: str, filters: dict[str, str]) -> None:
    # 3,997 requests / 299.982669 s
    assert rate(dataset, "datadog-agent | list | services", **filters) == 13.324103


def test_the_window_is_the_same_for_every_client(dataset: str) -> None:
    frame = k8saudit.top_talkers(dataset, limit=0)
    assert frame.filter(frame["client"] == "kubelet")["req_per_s"].item() == 56.116575  # 16,834
    alone = k8saudit.top_talkers(dataset, client="kubelet")
    assert alone["req_per_s"].item() == 56.116575 and alone["request_share"].item() == 1.0


def test_a_since_inside_the_data_clips_the_window(dataset: str) -> None:
    frame = k8saudit.top_talkers(dataset, client="kubelet", since="2019-02-04T12:02:30Z")
    row = frame.row(0, named=True)
    seconds = (row["window_end"] - row["window_start"]).total_seconds()
    assert str(row["window_start"]) == "2019-02-04 12:02:30+00:00" and seconds == 149.987375
    assert row["req_per_s"] == round(row["requests"] / seconds, 6)


@pytest.mark.parametrize(
    ("command", "args"),
    [("top-talkers", ["--client", "datadog-agent"]), ("watches", ["--resource", "pods"])],
)
def test_rate_tables_end_with_their_window(dataset: str, command: str, args: list[str]) -> None:
    result = CliRunner().invoke(app, [command, "-d", dataset, *args])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[-1] == WINDOW and not any("window" in line for line in lines[:-1])


def test_watches_per_minute_ignores_the_filters(dataset: str) -> None:
    everyone = k8saudit.watches(dataset)
    kubelet = everyone.filter(everyone["client"] == "kubelet")["watches_per_min"].item()
    assert kubelet == k8saudit.watches(dataset, client="kubelet")["watches_per_min"].item()
    assert kubelet == 503.629  # 2,518 watches / 4.99971 minutes


def test_latency_reconciles_with_top_talkers(dataset: str) -> None:
    latency = k8saudit.latency(dataset, limit=0)
    talkers = k8saudit.top_talkers(dataset, limit=0)
    counted = latency.select("client", total=latency["requests"] + latency["long_running"]
                             + latency["incomplete"]).sort("client")  # fmt: skip
    assert counted.rows() == talkers.select("client", "requests").sort("client").rows()
    datadog = latency.filter(latency["client"] == "datadog-agent").row(0, named=True)
    assert (datadog["requests"], datadog["long_running"], datadog["incomplete"]) == (7461, 0, 533)


def test_the_latency_table_says_what_it_left_out(dataset: str) -> None:
    result = CliRunner().invoke(app, ["latency", "-d", dataset, "--limit", "0"])
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == (
        "excluded 2,867 long-running and 1,003 incomplete requests (no latency)"
    )
