"""``ingest --keep-bodies``: request and response bodies kept as JSON, secret values redacted.

The redaction rules themselves (``formats.redact``) are tested on objects; the ingest tests
check that every way an audit log is read (in place, line by line, the general merge, events
unwrapped from an envelope) keeps the same redacted bodies, that stages of one request merge
as before, and what a dataset that already holds files ingested without the flag does.
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

import k8saudit
from k8saudit.formats.redact import MARK, mark, redact_body, redact_json_text, scrub_line
from k8saudit.ingestion import Strategy
from k8saudit.store import REDACTION_KEY, read_manifest

from .helpers import event, jsonl, rows, run_cli, write_lines

KEY = b"test-key"

SECRET = {
    "kind": "Secret",
    "apiVersion": "v1",
    "metadata": {"name": "db", "namespace": "default"},
    "type": "Opaque",
    "data": {"password": "cGxhbnRlZC1wYXNzd29yZA=="},
    "stringData": {"api-token": "planted-string-token"},
}


def _is_mark(value: Any) -> bool:
    return isinstance(value, str) and MARK.fullmatch(value) is not None


# -- the rules ------------------------------------------------------------------------------------


def test_secret_data_values_become_marks_and_the_rest_stays() -> None:
    out = redact_body(SECRET, KEY)
    assert out["metadata"] == SECRET["metadata"]
    assert (out["kind"], out["type"]) == ("Secret", "Opaque")
    assert sorted(out["data"]) == ["password"]
    assert _is_mark(out["data"]["password"])
    assert _is_mark(out["stringData"]["api-token"])


def test_a_mark_shows_a_change_and_only_a_change() -> None:
    changed = {**SECRET, "data": {"password": "b3RoZXI="}}
    first = redact_body(SECRET, KEY)["data"]["password"]
    assert redact_body(SECRET, KEY)["data"]["password"] == first
    assert redact_body(changed, KEY)["data"]["password"] != first
    assert mark("x", b"one key") != mark("x", b"another key")  # keyed: a guess cannot be tested


def test_well_known_secret_fields_anywhere() -> None:
    body: dict[str, Any] = {
        "spec": {
            "token": "eyJhbGciOiJSUzI1NiJ9.planted",  # TokenReview
            "automountServiceAccountToken": True,
            "volumes": [{"name": "v", "secret": {"secretName": "db-creds"}}],
            "containers": [
                {
                    "name": "app",
                    "env": [
                        {"name": "DB_PASSWORD", "value": "planted-env-password"},
                        {"name": "LOG_LEVEL", "value": "debug"},
                        {"name": "X", "valueFrom": {"secretKeyRef": {"name": "db", "key": "k"}}},
                    ],
                }
            ],
        },
        "users": [{"name": "admin", "user": {"client-key-data": "LS0tLS1CRUdJTi1wbGFudGVk"}}],
        "status": {"token": "planted-status-token", "expirationTimestamp": "2024-01-01T00:00:00Z"},
    }
    out = redact_body(body, KEY)
    spec = out["spec"]
    assert _is_mark(spec["token"])
    assert spec["automountServiceAccountToken"] is True
    assert spec["volumes"] == body["spec"]["volumes"]  # a secret's name is not a secret
    env = spec["containers"][0]["env"]
    assert _is_mark(env[0]["value"])
    assert env[1] == {"name": "LOG_LEVEL", "value": "debug"}
    assert env[2] == body["spec"]["containers"][0]["env"][2]
    assert _is_mark(out["users"][0]["user"]["client-key-data"])
    assert _is_mark(out["status"]["token"])
    assert out["status"]["expirationTimestamp"] == "2024-01-01T00:00:00Z"


def test_json_patches_and_last_applied_configuration() -> None:
    patch = [
        {"op": "replace", "path": "/data/password", "value": "cGxhbnRlZA=="},
        {"op": "replace", "path": "/spec/replicas", "value": 3},
    ]
    out = redact_body(patch, KEY)
    assert _is_mark(out[0]["value"]) and out[1]["value"] == 3
    applied = json.dumps(SECRET)
    annotated = {"metadata": {"annotations": {
        "kubectl.kubernetes.io/last-applied-configuration": applied, "team": "db",
    }}}  # fmt: skip
    annotations = redact_body(annotated, KEY)["metadata"]["annotations"]
    assert annotations["team"] == "db"
    inner = json.loads(annotations["kubectl.kubernetes.io/last-applied-configuration"])
    assert _is_mark(inner["data"]["password"]) and inner["metadata"]["name"] == "db"


def test_redaction_is_idempotent() -> None:
    once = redact_json_text(json.dumps(SECRET), KEY)
    assert once is not None
    assert redact_json_text(once, KEY) == once
    assert redact_json_text("not json", KEY) is not None


def test_scrubbed_lines_keep_their_start_and_lose_bodies_and_secrets() -> None:
    valid = json.dumps(event("a1", level="Request", requestObject=SECRET))
    scrubbed = json.loads(scrub_line(valid, KEY))
    assert scrubbed["auditID"] == "a1" and _is_mark(scrubbed["requestObject"])
    cut = valid[: valid.index("cGxhbnRl") + 4]  # truncated inside the secret
    assert scrub_line(cut, KEY) == cut[: cut.index('"requestObject":') + 16] + " <cut>"
    eks = json.dumps({"timestamp": 1, "message": valid})
    assert "cGxhbnRl" not in scrub_line(eks, KEY)
    assert "cGxhbnRl" not in scrub_line(eks[:-10], KEY)
    yaml_doc = "kind: Secret\nmetadata:\n  name: db\ndata:\n  password: cGxhbnRl\n"
    assert scrub_line(yaml_doc, KEY) == "kind: Secret\nmetadata:\n  name: db\ndata: <cut>"
    assert scrub_line("GET /api?token=planted&x=1", KEY) == "GET /api?token= <cut>"
    assert scrub_line('{"hello": "world"}', KEY) == '{"hello": "world"}'  # as it was


# -- ingest ---------------------------------------------------------------------------------------


def _events() -> list[dict[str, Any]]:
    return [
        event("s1", "RequestReceived", level="RequestResponse", verb="create",
              requestURI="/api/v1/namespaces/default/secrets",
              objectRef={"resource": "secrets", "namespace": "default", "apiVersion": "v1"},
              requestObject=SECRET),
        event("s1", level="RequestResponse", verb="create",
              requestURI="/api/v1/namespaces/default/secrets",
              objectRef={"resource": "secrets", "namespace": "default", "apiVersion": "v1"},
              requestObject=SECRET, responseObject={**SECRET, "metadata": {"uid": "u1"}}),
        event("p1", level="Metadata"),
    ]  # fmt: skip


def _ingest(log: Path, dataset: Path, key_from: Path | None = None, **kwargs: Any) -> None:
    if key_from is not None:  # the same key, so that marks compare across datasets
        dataset.mkdir(parents=True)
        shutil.copy(key_from / REDACTION_KEY, dataset / REDACTION_KEY)
    k8saudit.ingest([log], dataset=dataset, **kwargs)


def _bodies(dataset: Path) -> list[tuple[str, Any, Any]]:
    query = "SELECT audit_id, request_object, response_object FROM requests ORDER BY audit_id"
    return [
        (r["audit_id"], r["request_object"] and json.loads(r["request_object"]),
         r["response_object"] and json.loads(r["response_object"]))
        for r in rows(dataset, query)
    ]  # fmt: skip


def test_every_reader_keeps_the_same_redacted_bodies(tmp_path: Path) -> None:
    log = jsonl(tmp_path / "audit.log", _events())
    first = tmp_path / "in-place"
    _ingest(log, first, keep_bodies=True)
    (p1, s1) = _bodies(first)
    assert s1[0] == "s1" and p1 == ("p1", None, None)
    assert _is_mark(s1[1]["data"]["password"]) and _is_mark(s1[2]["stringData"]["api-token"])
    assert s1[2]["metadata"] == {"uid": "u1"}  # the ResponseComplete event speaks
    others: dict[str, dict[str, Any]] = {
        "general": {"_strategy": Strategy.GENERAL},
        "lines": {"_in_place": False},
    }
    for name, kwargs in others.items():
        _ingest(log, tmp_path / name, key_from=first, keep_bodies=True, **kwargs)
        assert _bodies(tmp_path / name) == [p1, s1], name
    gz = tmp_path / "audit.log.gz"
    gz.write_bytes(gzip.compress(log.read_bytes()))
    _ingest(gz, tmp_path / "gz", key_from=first, keep_bodies=True)
    assert _bodies(tmp_path / "gz") == [p1, s1]
    eks = write_lines(
        tmp_path / "eks.log",
        [json.dumps({"timestamp": 1, "message": json.dumps(e)}) for e in _events()],
    )
    _ingest(eks, tmp_path / "eks", key_from=first, keep_bodies=True)
    assert _bodies(tmp_path / "eks") == [p1, s1]


def test_without_the_flag_no_body_is_stored(tmp_path: Path) -> None:
    log = jsonl(tmp_path / "audit.log", _events())
    _ingest(log, tmp_path / "ds")
    assert _bodies(tmp_path / "ds") == [("p1", None, None), ("s1", None, None)]
    assert read_manifest(tmp_path / "ds").files[0].bodies is False


def test_stages_in_two_runs_merge_with_their_bodies(tmp_path: Path) -> None:
    received, complete, _ = _events()
    ds = tmp_path / "ds"
    _ingest(jsonl(tmp_path / "a.log", [received]), ds, keep_bodies=True)
    ((_, request, response),) = _bodies(ds)
    assert _is_mark(request["data"]["password"]) and response is None
    _ingest(jsonl(tmp_path / "b.log", [complete]), ds, keep_bodies=True)
    ((_, request2, response2),) = _bodies(ds)
    assert request2 == request  # same key, same value: same mark
    assert response2["metadata"] == {"uid": "u1"}


def test_a_file_ingested_without_bodies_is_not_read_again(tmp_path: Path) -> None:
    log = jsonl(tmp_path / "audit.log", _events())
    ds = tmp_path / "ds"
    _ingest(log, ds)
    code, _, err = run_cli("ingest", str(log), "-d", str(ds), "--keep-bodies", "--quiet")
    assert code == 0, err
    assert "ingested before without --keep-bodies: its requests keep no bodies" in err
    assert _bodies(ds)[1] == ("s1", None, None)
    newer = jsonl(tmp_path / "later.log", [event("n1", level="Request", requestObject=SECRET)])
    assert run_cli("ingest", str(newer), "-d", str(ds), "--keep-bodies", "--quiet")[0] == 0
    assert [f.bodies for f in read_manifest(ds).files] == [False, True]
    assert _is_mark(_bodies(ds)[0][1]["data"]["password"])


@pytest.mark.parametrize("flag", [[], ["--keep-bodies"]])
def test_the_dataset_has_a_redaction_key(tmp_path: Path, flag: list[str]) -> None:
    log = jsonl(tmp_path / "audit.log", _events())
    assert run_cli("ingest", str(log), "-d", str(tmp_path / "ds"), "--quiet", *flag)[0] == 0
    assert len(bytes.fromhex((tmp_path / "ds" / REDACTION_KEY).read_text())) == 32
