"""`diagnose`: the offender named in plain words, from the analyses' numbers only; checked on
sample_logs/ (the incident this project comes from, simulated) and on a quiet cluster."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from k8saudit.cli import app
from typer.testing import CliRunner

import k8saudit
from k8saudit.diagnosis import Diagnosis, Finding
from k8saudit.simulator import simulate


@pytest.fixture
def sample(sample_dataset: Path) -> Path:
    return sample_dataset


def test_the_datadog_agent_comes_first_with_its_period_sources_and_remedy(sample: Path) -> None:
    found = k8saudit.diagnose(sample)
    first = found.findings[0]
    assert (first.rank, first.client, first.known_as) == (
        1, "datadog-agent", "Datadog node agent metadata collection"
    )  # fmt: skip
    assert first.what == "LIST services cluster (cluster-wide LIST from etcd)"
    assert first.evidence.startswith("every 15.0 s ±0.6 from 200 sources = 13.3 req/s")
    assert "Datadog Cluster Agent" in first.remedy
    clients = [f.client for f in found.findings]
    assert clients == [
        "datadog-agent", "datadog-agent", "rest-client (logging:fluentd)",
        "apiserver-1", "apiserver-2",
    ]  # fmt: skip
    seats = found.findings[3]
    assert seats.what == "readonly seats ran out"
    assert "all 400 readonly seats taken for 8.7 s" in seats.evidence
    assert "datadog-agent 279" in seats.evidence
    assert found.summary == "5 findings, most load first"


def test_without_the_offenders_nothing_is_left(sample: Path) -> None:
    found = k8saudit.diagnose(sample, without="datadog-agent,rest-client (logging:fluentd)")
    assert found.findings == []  # the 429s left are kubelet's, whose traffic is expected
    assert found.summary == (
        "no offender: no series above 5% of requests or API-server time, no seat ran out"
    )


def test_a_quiet_cluster_has_no_offender(tmp_path: Path) -> None:
    simulate(tmp_path / "logs", scenario="quiet", nodes=50, duration="5m", seed=2)
    k8saudit.ingest([tmp_path / "logs"], dataset=tmp_path / "ds")
    found = k8saudit.diagnose(tmp_path / "ds")
    assert [(f.client, f.what) for f in found.findings] == []
    assert found.summary.startswith(
        "no offender: the API server was not overloaded (no 429s, no seat ran out); "
        "the heaviest series: "
    )


def test_markdown_escapes_what_the_logs_say() -> None:
    found = Diagnosis([Finding(1, "evil_*agent*", "LIST `x`", "1 req/s", "stop it")])
    assert found.to_markdown().splitlines()[2] == (
        r"1. **evil\_\*agent\***: LIST \`x\`. 1 req/s. *Remedy:* stop it."
    )


def test_the_command(sample: Path) -> None:
    runner = CliRunner()
    done = runner.invoke(app, ["diagnose", "-d", str(sample)])
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    assert lines[0] == "5 findings, most load first"
    assert lines[2].startswith("1. datadog-agent: LIST services cluster")
    done = runner.invoke(app, ["diagnose", "-d", str(sample), "-f", "json", "--client", "kubelet"])
    assert done.exit_code == 0 and json.loads(done.output) == []
    done = runner.invoke(app, ["diagnose", "-d", str(sample), "-f", "yaml"])
    assert done.exit_code == 2
    assert "--format 'yaml': choose text, markdown or json" in done.output


def test_make_demo_ends_with_the_diagnosis() -> None:
    """Issue 10: `make demo` ends with `diagnose`, the answer, after the report it writes."""
    makefile = (Path(__file__).resolve().parents[1] / "Makefile").read_text()
    recipe = makefile.split("\ndemo:", 1)[1].split("\n\n", 1)[0].splitlines()[1:]
    commands = [line.strip() for line in recipe]
    assert commands[-1] == "$(BIN)/k8saudit diagnose --dataset $(DEMO_DATASET)"
    assert any(" report " in command for command in commands[:-1])
