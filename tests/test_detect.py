"""``k8saudit detect --rules DIR``: Sigma rules over the dataset, through pySigma's parsed rules
turned into DuckDB SQL with bound values. The public SigmaHQ Kubernetes rules are read from
``../shared/sigma-kubernetes`` (skipped where absent): every one runs or says why not, a
fixture triggers each runnable rule exactly once, and sample_logs/' quiet traffic triggers only
what a rule is meant to catch."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

import k8saudit
from k8saudit.detection import Detection

from .conftest import REPO
from .helpers import event, jsonl, run_cli

SIGMA = REPO.parent / "shared" / "sigma-kubernetes"


@pytest.fixture
def sigma_rules() -> Path:
    if not SIGMA.is_dir():
        pytest.skip(f"{SIGMA} not present (the SigmaHQ rules live beside the repo in CI)")
    return SIGMA


def _request(audit_id: str, verb: str, resource: str, **extra: Any) -> dict[str, Any]:
    ref = {"resource": resource, "namespace": extra.pop("namespace", "default"),
           "apiVersion": "v1", **extra.pop("ref", {})}  # fmt: skip
    extra.setdefault("requestURI", f"/x/{resource}")
    return event(audit_id, verb=verb, objectRef=ref, **extra)


#: one request for each runnable SigmaHQ rule (title -> the request that must trigger it alone)
TRIGGERS = {
    "Kubernetes Admission Controller Modification": _request(
        "t-admission", "create", "mutatingwebhookconfigurations",
        ref={"apiGroup": "admissionregistration.k8s.io"}),
    "Kubernetes CronJob/Job Modification": _request(
        "t-cronjob", "create", "cronjobs", ref={"apiGroup": "batch"}),
    "Deployment Deleted From Kubernetes Cluster": _request(
        "t-deployment-deleted", "delete", "deployments", ref={"apiGroup": "apps", "name": "web"}),
    "Kubernetes Events Deleted": _request("t-events", "delete", "events"),
    "Potential Remote Command Execution In Pod Container": _request(
        "t-exec", "create", "pods", ref={"subresource": "exec", "name": "web-0"}),
    "Container With A hostPath Mount Created": _request(
        "t-hostpath", "create", "pods", level="Request",
        requestObject={"kind": "Pod", "spec": {
            "volumes": [{"name": "root", "hostPath": {"path": "/"}}],
            "containers": [{"name": "c"}]}}),
    "Creation Of Pod In System Namespace": _request(
        "t-system-pod", "create", "pods", namespace="kube-system"),
    "Privileged Container Deployed": _request(
        "t-privileged", "create", "pods", level="Request",
        requestObject={"kind": "Pod", "spec": {"containers": [
            {"name": "c", "securityContext": {"capabilities": {"add": ["SYS_ADMIN"]}}}]}}),
    "RBAC Permission Enumeration Attempt": _request(
        "t-rbac-listing", "create", "selfsubjectrulesreviews",
        ref={"apiGroup": "authorization.k8s.io"}),
    "Kubernetes Rolebinding Modification": _request(
        "t-rolebinding", "create", "rolebindings", ref={"apiGroup": "rbac.authorization.k8s.io"}),
    "Kubernetes Secrets Enumeration": _request("t-secrets-list", "list", "secrets"),
    "Kubernetes Secrets Modified or Deleted": _request(
        "t-secret-deleted", "delete", "secrets", ref={"name": "db"}),
    "New Kubernetes Service Account Created": _request(
        "t-serviceaccount", "create", "serviceaccounts"),
    "Potential Sidecar Injection Into Running Deployment": _request(
        "t-sidecar", "patch", "deployments", ref={"apiGroup": "apps", "name": "web"}),
    "Kubernetes Unauthorized or Unauthenticated Access": _request(
        "t-denied", "get", "configmaps", responseStatus={"code": 403}),
}  # fmt: skip

#: requests no rule is about
QUIET = [
    _request("q-get-pod", "get", "pods", ref={"name": "web-0"}),
    _request("q-list-nodes", "list", "nodes", namespace=""),
    _request("q-update-lease", "update", "leases", ref={"apiGroup": "coordination.k8s.io"}),
    _request("q-get-secret", "get", "secrets", ref={"name": "db"}),
    _request("q-create-pod", "create", "pods", level="Request",
             requestObject={"kind": "Pod", "spec": {"containers": [{"name": "c"}]}}),
]  # fmt: skip

NOT_KUBERNETES_AUDIT = (
    "logsource product gcp, service gcp.audit: detect runs the rules of product kubernetes, "
    "service audit"
)
ALLOW = "field 'responseStatus.code' holds numbers (HTTP status codes): 'ALLOW' can never match"


def _fixture(tmp_path: Path, keep_bodies: bool) -> Path:
    ds = tmp_path / "ds"
    log = jsonl(tmp_path / "audit.log", [*TRIGGERS.values(), *QUIET])
    k8saudit.ingest([log], dataset=ds, keep_bodies=keep_bodies)
    return ds


def _skipped(found: Detection) -> dict[str, str]:
    return {Path(s.file).name: s.reason for s in found.skipped}


def test_every_shared_rule_runs_or_says_why(sigma_rules: Path, tmp_path: Path) -> None:
    found = k8saudit.detect(sigma_rules, _fixture(tmp_path, keep_bodies=False))
    files = {p.name for p in sigma_rules.rglob("*.yml")}
    assert len(files) == 20
    ran = {Path(r.file).name for r in found.ran}
    assert ran | set(_skipped(found)) == files and not ran & set(_skipped(found))
    body = "is in the request body, which this dataset does not keep (ingest with --keep-bodies)"
    assert _skipped(found) == {
        "gcp_kubernetes_admission_controller.yml": NOT_KUBERNETES_AUDIT,
        "gcp_kubernetes_cronjob.yml": NOT_KUBERNETES_AUDIT,
        "gcp_kubernetes_rolebinding.yml": NOT_KUBERNETES_AUDIT,
        "gcp_kubernetes_secrets_modified_or_deleted.yml": NOT_KUBERNETES_AUDIT,
        "kubernetes_audit_potential_enumeration_activity.yml": ALLOW,
        "kubernetes_audit_hostpath_mount.yml": f"field 'hostPath' {body}",
        "kubernetes_audit_privileged_pod_creation.yml": f"field 'capabilities' {body}",
    }
    assert len(found.ran) == 13


def test_each_runnable_rule_hits_its_trigger_exactly_once(
    sigma_rules: Path, tmp_path: Path
) -> None:
    found = k8saudit.detect(sigma_rules, _fixture(tmp_path, keep_bodies=True))
    assert len(found.ran) == 15 == len(TRIGGERS)
    assert set(_skipped(found).values()) == {NOT_KUBERNETES_AUDIT, ALLOW}
    hits = sorted(found.hits.select("rule", "audit_id").iter_rows())
    assert hits == sorted((rule, request["auditID"]) for rule, request in TRIGGERS.items())
    levels = dict(found.hits.select("rule", "level").iter_rows())
    assert levels["Kubernetes Admission Controller Modification"] == "medium"
    assert levels["Kubernetes Secrets Enumeration"] == "low"
    assert found.hits["level"].to_list() == sorted(
        found.hits["level"].to_list(), key=("critical", "high", "medium", "low").index
    )


def test_quiet_sample_traffic_triggers_only_what_a_rule_is_about(
    sigma_rules: Path, sample_dataset: Path
) -> None:
    found = k8saudit.detect(sigma_rules, sample_dataset)
    assert len(found.ran) == 13
    by_rule = dict(found.hits.group_by("rule").len().rows())
    # sample_logs/ is routine traffic (kubelets, DaemonSets, controllers) plus what its
    # simulator plants for these rules: a CI bot denied listing nodes and reading a secret
    # (ground_truth.json: forbidden_403 7) and Jenkins patching its deployments
    assert by_rule == {
        "Kubernetes Unauthorized or Unauthenticated Access": 7,
        "Potential Sidecar Injection Into Running Deployment": 2,
    }
    ds = k8saudit.open(sample_dataset)
    denied = ds.sql("SELECT audit_id FROM requests WHERE code IN (401, 403)")["audit_id"]
    patches = ds.sql(
        "SELECT audit_id FROM requests WHERE verb = 'patch' AND resource = 'deployments'"
    )["audit_id"]
    hits = found.hits.group_by("rule").agg("audit_id").rows()
    assert {rule: sorted(ids) for rule, ids in hits} == {
        "Kubernetes Unauthorized or Unauthenticated Access": sorted(denied),
        "Potential Sidecar Injection Into Running Deployment": sorted(patches),
    }
    assert set(found.hits["username"]) == {
        "system:serviceaccount:ci:deploy-bot", "system:serviceaccount:ci:jenkins",
    }  # fmt: skip


def _rule(tmp_path: Path, name: str, detection: str) -> Path:
    path = tmp_path / "rules" / f"{name}.yml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(
        f"title: {name}\nid: {uuid.uuid5(uuid.NAMESPACE_URL, name)}\nstatus: test\nlevel: high\n"
        "logsource:\n    product: kubernetes\n    service: audit\n"
        f"detection:\n{detection}"
    )
    return path


def test_modifiers_conditions_and_what_cannot_run(tmp_path: Path) -> None:
    events = [
        _request("m1", "get", "pods", userAgent="TruffleHog/3.0",
                 user={"username": "alice", "groups": ["system:masters"]}),
        _request("m2", "list", "pods", userAgent="kubectl/v1.29", requestURI="/api/v1/pods?x=1",
                 user={"username": "bob", "groups": ["dev"]}),
        _request("m3", "get", "secrets", userAgent="kubectl/v1.29", responseStatus={"code": 404},
                 user={"username": "system:node:n1", "groups": ["system:nodes"]}),
    ]  # fmt: skip
    ds = tmp_path / "ds"
    k8saudit.ingest([jsonl(tmp_path / "a.log", events)], dataset=ds)
    rules = {
        "contains": "    s:\n        userAgent|contains: 'trufflehog'\n    condition: s\n",
        "cased": "    s:\n        userAgent|cased|contains: 'trufflehog'\n    condition: s\n",
        "startswith_not": (
            "    a:\n        user.username|startswith: 'system:'\n"
            "    b:\n        verb: 'get'\n    condition: b and not a\n"
        ),
        "one_of": (
            "    sel_a:\n        verb: list\n    sel_b:\n        responseStatus.code|gte: 400\n"
            "    condition: 1 of sel_*\n"
        ),
        "regex_groups": (
            "    s:\n        user.groups|re: '^system:(masters|nodes)$'\n    condition: s\n"
        ),
        "wildcards": "    s:\n        requestURI: '/api/v?/pods?x=*'\n    condition: s\n",
        "keywords": "    keywords:\n        - 'trufflehog'\n    condition: keywords\n",
        "cidr": "    s:\n        sourceIPs|cidr: '10.0.0.0/8'\n    condition: s\n",
        "unknown_field": "    s:\n        spec.nodeName: 'n1'\n    condition: s\n",
        "placeholder": "    s:\n        userAgent|expand: '%scanners%'\n    condition: s\n",
    }
    for name, detection in rules.items():
        _rule(tmp_path, name, detection)
    (tmp_path / "rules" / "broken.yml").write_text("title: broken\ndetection: [\n")
    found = k8saudit.detect(tmp_path / "rules", ds)
    hits = sorted(found.hits.select("rule", "audit_id").iter_rows())
    assert hits == [
        ("contains", "m1"), ("one_of", "m2"), ("one_of", "m3"), ("regex_groups", "m1"),
        ("regex_groups", "m3"), ("startswith_not", "m1"), ("wildcards", "m2"),
    ]  # fmt: skip
    skipped = _skipped(found)
    assert skipped.pop("broken.yml").startswith("not a Sigma rule (")
    assert skipped.pop("cidr.yml").startswith("value type SigmaCIDRExpression")
    assert skipped == {
        "keywords.yml": "keyword searches (values without a field) are not supported",
        "placeholder.yml": "field 'userAgent': Sigma placeholders (%name%) are not supported",
        "unknown_field.yml": (
            "field 'spec.nodeName' is not in the request table (see detection.FIELDS)"
        ),
    }
    # every value is bound, never written into the SQL
    for rule in found.ran:
        assert "trufflehog" not in rule.where and "system:" not in rule.where


def test_body_paths_where_bodies_are_kept(tmp_path: Path) -> None:
    ds = _fixture(tmp_path, keep_bodies=True)
    _rule(tmp_path, "node_name", "    s:\n        requestObject.kind: 'pod'\n    condition: s\n")
    found = k8saudit.detect(tmp_path / "rules", ds)
    assert sorted(found.hits["audit_id"]) == ["q-create-pod", "t-hostpath", "t-privileged"]


def test_the_command(sigma_rules: Path, tmp_path: Path) -> None:
    ds = _fixture(tmp_path, keep_bodies=False)
    code, out, err = run_cli("detect", "--rules", str(sigma_rules), "-d", str(ds))
    assert code == 0
    assert out.splitlines()[0].split()[:3] == ["level", "rule", "received_at"]
    assert len(out.splitlines()) == 2 + 13
    lines = err.splitlines()
    assert lines[0] == "13 hits of 13 rules run; 7 not run"
    assert len(lines) == 8 and all(line.startswith("not run: ") for line in lines[1:])
    code, out, _ = run_cli("detect", "--rules", str(sigma_rules), "-d", str(ds), "-f", "json")
    rows = json.loads(out)
    assert len(rows) == 13 and {"rule", "level", "rule_id", "audit_id", "source_line"} <= set(
        rows[0]
    )
    code, _, err = run_cli("detect", "--rules", str(tmp_path / "none"), "-d", str(ds))
    assert (code, err.strip()) == (
        3,
        f"error: {tmp_path / 'none'}: no such directory of Sigma rules",
    )
