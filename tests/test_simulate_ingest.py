"""The simulator's ground truth equals what ingesting its logs gives: exact, per client."""

from __future__ import annotations

import hashlib
import json
import shlex
from pathlib import Path

from k8saudit.cli import app
from typer.testing import CliRunner

import k8saudit

from .conftest import REPO, SAMPLE_LOGS


def _sample_logs_command() -> list[str]:
    """The arguments of ``k8saudit simulate`` in the Makefile's ``sample-logs`` recipe."""
    recipe = (REPO / "Makefile").read_text().split("\nsample-logs:", 1)[1].split("\n\n", 1)[0]
    line = recipe.replace("\\\n", " ").split("k8saudit simulate", 1)[1]
    return ["simulate", *shlex.split(line.split("\n", 1)[0])]


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_sample_logs_are_what_make_sample_logs_writes(tmp_path: Path) -> None:
    """The committed logs are the simulator's current output, byte for byte (options it gained
    since, such as --warm-start, are off by default)."""
    args = _sample_logs_command()
    assert args[args.index("--out") + 1] == "sample_logs"
    args[args.index("--out") + 1] = str(tmp_path / "sample_logs")
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert _digests(tmp_path / "sample_logs") == _digests(SAMPLE_LOGS)


def test_sample_logs_match_their_ground_truth(tmp_path: Path) -> None:
    truth = json.loads((SAMPLE_LOGS / "ground_truth.json").read_text())
    report = k8saudit.ingest([SAMPLE_LOGS], dataset=tmp_path)
    assert (report.requests_after, report.rejected) == (truth["totals"]["requests"], 0)
    ds = k8saudit.open(tmp_path)
    totals = ds.sql(
        "SELECT count(*) FILTER (WHERE code = 429) AS throttled, "
        "count(*) FILTER (WHERE is_complete) AS complete, "
        "count(*) FILTER (WHERE has_access) AS with_access FROM requests"
    ).row(0, named=True)
    assert totals["throttled"] == truth["totals"]["throttled_429"]
    assert totals["complete"] == truth["totals"]["complete"]
    # every completed request's access-log line joined its audit events on audit-ID
    assert totals["with_access"] == truth["totals"]["complete"]
    got = {
        row["client"]: (row["requests"], row["throttled"], row["sources"])
        for row in ds.sql(
            "SELECT client, count(*) AS requests, count(*) FILTER (WHERE code = 429) AS throttled,"
            " count(DISTINCT source_ip) AS sources FROM requests GROUP BY client"
        ).to_dicts()
    }
    expected = {
        c["client"]: (c["requests"], c["throttled_429"], c["sources"]) for c in truth["clients"]
    }
    assert got == expected


def test_sample_logs_ingested_in_three_runs_give_the_same_requests(tmp_path: Path) -> None:
    """Rotated files, then current files, then access logs, each in its own run: a request's
    stages and its access-log line arrive in different runs and still make one exact row."""
    truth = json.loads((SAMPLE_LOGS / "ground_truth.json").read_text())
    rotated = sorted(SAMPLE_LOGS.glob("apiserver-*/audit-*.log.gz"))
    current = sorted(SAMPLE_LOGS.glob("apiserver-*/audit.log.gz"))
    access = sorted(SAMPLE_LOGS.glob("apiserver-*/kube-apiserver.log.gz"))
    assert rotated and current and access
    for paths in (rotated, current, access):
        k8saudit.ingest(paths, dataset=tmp_path)
    ds = k8saudit.open(tmp_path)
    totals = ds.sql(
        "SELECT count(*) AS n, count(DISTINCT request_key) AS keys, "
        "count(*) FILTER (WHERE code = 429) AS throttled, "
        "count(*) FILTER (WHERE is_complete) AS complete, "
        "count(*) FILTER (WHERE has_access) AS with_access FROM requests"
    ).row(0, named=True)
    assert totals == {
        "n": truth["totals"]["requests"],
        "keys": truth["totals"]["requests"],
        "throttled": truth["totals"]["throttled_429"],
        "complete": truth["totals"]["complete"],
        "with_access": truth["totals"]["complete"],
    }
