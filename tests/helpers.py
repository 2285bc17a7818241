"""Helpers the ingest tests share: audit Events as kube-apiserver writes them, logs of them,
and the rows a dataset holds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import k8saudit


def event(audit_id: str, stage: str = "ResponseComplete", **extra: Any) -> dict[str, Any]:
    """A v1 audit Event as kube-apiserver writes it."""
    base: dict[str, Any] = {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": "Metadata",
        "auditID": audit_id,
        "stage": stage,
        "requestURI": "/api/v1/namespaces/default/pods?limit=500",
        "verb": "list",
        "user": {"username": "system:serviceaccount:logging:fluentd", "groups": ["a"]},
        "sourceIPs": ["10.0.0.7"],
        "userAgent": "rest-client/2.0.2 (linux-gnu x86_64) ruby/2.5.1p57",
        "objectRef": {"resource": "pods", "namespace": "default", "apiVersion": "v1"},
        "requestReceivedTimestamp": "2019-02-04T12:00:00.000000Z",
        "stageTimestamp": "2019-02-04T12:00:00.250000Z",
    }
    if stage != "RequestReceived":
        base["responseStatus"] = {"metadata": {}, "code": 200}
    base.update(extra)
    return base


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines))
    return path


def jsonl(path: Path, events: list[dict[str, Any]]) -> Path:
    return write_lines(path, [json.dumps(e) for e in events])


def rows(
    dataset: Path, query: str = "SELECT * FROM requests ORDER BY audit_id"
) -> list[dict[str, Any]]:
    return k8saudit.open(dataset).sql(query).to_dicts()


def run_cli(*args: str) -> tuple[int, str, str]:
    """``k8saudit ARGS...`` through typer's runner: exit code, stdout, stderr."""
    from k8saudit.cli import app
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr
