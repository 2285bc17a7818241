"""``history RESOURCE/NAME``'s ``changes``: what each write changed from the object the previous
write left, when ``ingest --keep-bodies`` kept the bodies (hand-made events, every expected
change written out)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import k8saudit
from k8saudit.formats.redact import MARK

from .helpers import event, jsonl, run_cli

URI = "/apis/apps/v1/namespaces/prod/deployments"
PASSWORD = "c3VwZXItc2VjcmV0LTE="
NEW_PASSWORD = "c3VwZXItc2VjcmV0LTI="
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def _deployment(rv: str, replicas: int, image: str, **metadata: Any) -> dict[str, Any]:
    return {
        "kind": "Deployment",
        "apiVersion": "apps/v1",
        "metadata": {
            "name": "web", "namespace": "prod", "uid": "u-1", "resourceVersion": rv,
            "generation": int(rv), "creationTimestamp": "2019-02-04T12:00:00Z",
            "managedFields": [{"manager": "kubectl", "time": f"2019-02-04T12:0{rv}:00Z"}],
            **metadata,
        },
        "spec": {
            "replicas": replicas,
            "template": {"spec": {"containers": [{"name": "web", "image": image}]}},
        },
    }  # fmt: skip


def _write(audit_id: str, second: int, verb: str, code: int = 200, **extra: Any) -> dict[str, Any]:
    name = "" if verb == "create" else "/web"
    extra.setdefault("level", "RequestResponse")
    return event(
        audit_id,
        verb=verb,
        requestURI=URI + name,
        user={"username": "alice", "groups": ["system:authenticated"]},
        objectRef={"resource": "deployments", "namespace": "prod", "name": "web",
                   "apiGroup": "apps", "apiVersion": "v1"},
        responseStatus={"metadata": {}, "code": code},
        requestReceivedTimestamp=f"2019-02-04T12:00:{second:02d}.000000Z",
        stageTimestamp=f"2019-02-04T12:00:{second:02d}.100000Z",
        **extra,
    )  # fmt: skip


def _events() -> list[dict[str, Any]]:
    labels = {"labels": {"app": "web"}}
    created = _deployment("1", 3, "nginx:1.25", **labels)
    scaled = _deployment("2", 5, "nginx:1.25", labels={"app": "web", "tier": "front"})
    return [
        _write("e1", 1, "create", 201, requestObject=created, responseObject=created),
        _write("e2", 2, "get", responseObject=created),
        # the patch is the request body; the object after it is the response
        _write("e3", 3, "patch", requestObject={"spec": {"replicas": 5}}, responseObject=scaled),
        # a patch logged at level Request: the object after it is not known
        _write("e4", 4, "patch", level="Request",
               requestObject={"metadata": {"annotations": {"note": "<b>x</b>"}}}),
        # an update kept with its request only; compared with the last object known (e3's)
        _write("e5", 5, "update", level="Request",
               requestObject=_deployment("3", 5, "nginx:1.26", labels={"app": "web"},
                                         annotations={"note": "<b>x</b>"})),
        # refused: it changed nothing
        _write("e6", 6, "update", 409, requestObject=_deployment("3", 9, "evil:1")),
        # a write that changes only what changes anyway (resourceVersion, managedFields, the
        # last applied configuration)
        _write("e7", 7, "update", responseObject=_deployment(
            "4", 5, "nginx:1.26", labels={"app": "web"},
            annotations={"note": "<b>x</b>", LAST_APPLIED: '{"spec":{"replicas":5}}'})),
        # a long value changed at its end
        _write("e8", 8, "update", responseObject=_deployment(
            "5", 5, f"nginx@sha256:{'a' * 64}", labels={"app": "web"},
            annotations={"note": "<b>x</b>"})),
    ]  # fmt: skip


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    ds = tmp_path / "ds"
    k8saudit.ingest([jsonl(tmp_path / "audit.log", _events())], dataset=ds, keep_bodies=True)
    return ds


def test_what_each_write_changed(dataset: Path) -> None:
    frame = k8saudit.open(dataset).history("deployments/web", namespace="prod")
    assert frame.select("audit_id", "verb", "code", "changes").rows() == [
        ("e1", "create", 201, None),  # nothing before it to compare with
        ("e2", "get", 200, None),  # a read
        ("e3", "patch", 200, [
            "+metadata.labels.tier: \"front\"",
            "spec.replicas: 3 → 5",
        ]),
        ("e4", "patch", 200, [
            "a patch (the object after it was not kept): "
            '{"metadata":{"annotations":{"note":"<b>x</b>"}}}',
        ]),
        ("e5", "update", 200, [
            '+metadata.annotations: {"note":"<b>x</b>"}',
            '-metadata.labels.tier: "front"',
            'spec.template.spec.containers[0].image: "nginx:1.25" → "nginx:1.26"',
        ]),
        ("e6", "update", 409, None),
        ("e7", "update", 200, []),  # nothing but resourceVersion, generation, managedFields
        ("e8", "update", 200, [
            'spec.template.spec.containers[0].image: "nginx:1.26" → '
            f'"nginx@sha256:{"a" * 26}…{"a" * 18}"',
        ]),
    ]  # fmt: skip


def test_without_bodies_nothing_is_compared(tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    k8saudit.ingest([jsonl(tmp_path / "audit.log", _events())], dataset=ds)
    frame = k8saudit.open(ds).history("deployments/web")
    assert frame.height == 8 and frame["changes"].null_count() == 8


def _secret(data: dict[str, str], rv: str) -> dict[str, Any]:
    return {"kind": "Secret", "apiVersion": "v1", "type": "Opaque", "data": data,
            "metadata": {"name": "db", "namespace": "prod", "resourceVersion": rv}}  # fmt: skip


def test_a_changed_secret_shows_as_a_changed_mark(tmp_path: Path) -> None:
    ref = {"resource": "secrets", "namespace": "prod", "name": "db", "apiVersion": "v1"}
    first = _secret({"password": PASSWORD, "user": "YWRtaW4="}, "1")
    second = _secret({"password": NEW_PASSWORD, "user": "YWRtaW4="}, "2")
    events = [
        event("s1", verb="create", level="RequestResponse", objectRef=ref,
              responseStatus={"metadata": {}, "code": 201}, responseObject=first),
        event("s2", verb="update", level="RequestResponse", objectRef=ref,
              requestReceivedTimestamp="2019-02-04T12:00:01.000000Z",
              stageTimestamp="2019-02-04T12:00:01.100000Z", responseObject=second),
    ]  # fmt: skip
    ds = tmp_path / "ds"
    k8saudit.ingest([jsonl(tmp_path / "audit.log", events)], dataset=ds, keep_bodies=True)
    changes = k8saudit.open(ds).history("secrets/db")["changes"].to_list()
    assert changes[0] is None and len(changes[1]) == 1
    path, values = changes[1][0].split(": ", 1)
    old, new = values.split(" → ")
    assert path == "data.password"  # the user did not change: its mark is the same
    assert MARK.fullmatch(old.strip('"')) and MARK.fullmatch(new.strip('"')) and old != new
    code, out, _ = run_cli("history", "secrets/db", "-d", str(ds), "-f", "json")
    assert code == 0 and "data.password" in out
    assert PASSWORD not in out and NEW_PASSWORD not in out


def test_changes_on_the_command_line(dataset: Path) -> None:
    code, out, _ = run_cli("history", "deployments/web", "-n", "prod", "-d", str(dataset),
                           "-f", "csv")  # fmt: skip
    assert code == 0
    lines = out.splitlines()
    assert lines[0].endswith(",source_line,changes")
    # a cell starting with + is guarded against spreadsheets as any other
    assert lines[3].endswith(',"\'+metadata.labels.tier: ""front"";spec.replicas: 3 → 5"')
