"""``sensitive`` from kept bodies (``ingest --keep-bodies``): privileged pods and pod templates,
and RBAC grants of cluster-admin or of roles with '*' rules, each finding saying why (hand-made
audit events, every expected row written out)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import k8saudit

from .helpers import event, jsonl

RBAC = "rbac.authorization.k8s.io"


def _write(audit_id: str, second: int, user: str, verb: str, ref: dict[str, Any],
           code: int = 201, **bodies: Any) -> dict[str, Any]:  # fmt: skip
    return event(
        audit_id,
        verb=verb,
        level="RequestResponse",
        user={"username": user, "groups": ["system:authenticated"]},
        objectRef={"apiVersion": "v1", **ref},
        responseStatus={"metadata": {}, "code": code},
        requestReceivedTimestamp=f"2019-02-04T12:00:{second:02d}.000000Z",
        stageTimestamp=f"2019-02-04T12:00:{second:02d}.100000Z",
        **bodies,
    )


def _template(spec: dict[str, Any]) -> dict[str, Any]:
    return {"template": {"metadata": {"labels": {"app": "x"}}, "spec": spec}}


def _container(name: str, **security: Any) -> dict[str, Any]:
    return {"name": name, "image": "busybox", "securityContext": security}


def _role(name: str, verbs: list[str], resources: list[str]) -> dict[str, Any]:
    return {"kind": "ClusterRole", "metadata": {"name": name},
            "rules": [{"apiGroups": [""], "verbs": verbs, "resources": resources}]}  # fmt: skip


def _binding(kind: str, name: str, role_kind: str, role: str, *subjects: dict[str, str]) -> Any:
    return {"kind": kind, "metadata": {"name": name},
            "roleRef": {"apiGroup": RBAC, "kind": role_kind, "name": role},
            "subjects": list(subjects)}  # fmt: skip


def _events() -> list[dict[str, Any]]:
    deployment = {"kind": "Deployment", "metadata": {"name": "agent", "namespace": "prod"},
                  "spec": _template({
                      "hostPID": True,
                      "initContainers": [_container("setup", privileged=True)],
                      "containers": [_container(
                          "web", privileged=False,
                          capabilities={"add": ["NET_ADMIN", "CHOWN"], "drop": ["ALL"]})],
                      "volumes": [{"name": "sock", "hostPath": {"path": "/var/run/docker.sock"}},
                                  {"name": "cfg", "configMap": {"name": "cfg"}}],
                  })}  # fmt: skip
    cronjob = {"kind": "CronJob", "metadata": {"name": "nightly", "namespace": "prod"},
               "spec": {"jobTemplate": {"spec": _template(
                   {"hostIPC": True, "containers": [_container("job")]})}}}  # fmt: skip
    quiet_pod = {
        "kind": "Pod",
        "metadata": {"name": "quiet", "namespace": "prod"},
        "spec": {
            "hostNetwork": False,
            "containers": [
                _container("q", privileged=False, capabilities={"add": ["NET_BIND_SERVICE"]})
            ],
        },
    }
    root_pod = {
        "kind": "Pod",
        "metadata": {"name": "root", "namespace": "prod"},
        "spec": {"containers": [_container("sh", capabilities={"add": ["all"]})]},
    }
    refused = {"kind": "Status", "status": "Failure", "code": 403}
    ns = {"namespace": "prod"}
    events = [
        _write("p1", 1, "alice", "create",
               {"resource": "deployments", "apiGroup": "apps", "name": "agent", **ns},
               requestObject=deployment, responseObject=deployment),
        _write("p2", 2, "alice", "create",
               {"resource": "cronjobs", "apiGroup": "batch", "name": "nightly", **ns},
               requestObject=cronjob),
        # a merge patch without the object after it: the patch says what it sets
        _write("p3", 3, "bob", "patch",
               {"resource": "daemonsets", "apiGroup": "apps", "name": "logs", **ns}, 200,
               requestObject={"spec": _template({"hostNetwork": True})}),
        _write("p4", 4, "bob", "create", {"resource": "pods", **ns},
               requestObject=quiet_pod, responseObject=quiet_pod),
        # refused: still listed, counted as denied
        _write("p5", 5, "mallory", "create", {"resource": "pods", **ns}, 403,
               requestObject=root_pod, responseObject=refused),
        # the same pod spec read back is no write
        _write("p6", 6, "mallory", "get", {"resource": "pods", "name": "root", **ns}, 200,
               responseObject=root_pod),
    ]  # fmt: skip
    crb = {"resource": "clusterrolebindings", "apiGroup": RBAC}
    cr = {"resource": "clusterroles", "apiGroup": RBAC}
    sa = {"kind": "ServiceAccount", "namespace": "kube-system", "name": "evil"}
    devs = {"kind": "Group", "name": "devs"}
    return [
        *events,
        _write("r1", 10, "carol", "create", {**cr, "name": "wide"},
               responseObject=_role("wide", ["*"], ["pods"])),
        _write("r2", 11, "carol", "create", {**crb, "name": "wide-binding"},
               responseObject=_binding("ClusterRoleBinding", "wide-binding", "ClusterRole",
                                       "wide", sa, devs)),
        # a role that became a wildcard later: its last rules count
        _write("r3", 12, "carol", "create", {**cr, "name": "grows"},
               responseObject=_role("grows", ["get"], ["pods"])),
        _write("r4", 13, "carol", "update", {**cr, "name": "grows"}, 200,
               responseObject=_role("grows", ["get", "*"], ["*"])),
        _write("r5", 14, "carol", "create", {**crb, "name": "grows-binding"},
               responseObject=_binding("ClusterRoleBinding", "grows-binding", "ClusterRole",
                                       "grows", devs)),
        # a narrow role's binding is an RBAC change only
        _write("r6", 15, "carol", "create", {**cr, "name": "narrow"},
               responseObject=_role("narrow", ["get"], ["pods"])),
        _write("r7", 16, "carol", "create",
               {"resource": "rolebindings", "apiGroup": RBAC, "name": "narrow", **ns},
               responseObject=_binding("RoleBinding", "narrow", "ClusterRole", "narrow", devs)),
        _write("r8", 17, "dave", "create", {**crb, "name": "root"},
               requestObject=_binding("ClusterRoleBinding", "root", "ClusterRole",
                                      "cluster-admin", {"kind": "User", "name": "eve"})),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sensitive-bodies")
    log = jsonl(root / "audit.log", _events())
    k8saudit.ingest([log], dataset=root / "ds", keep_bodies=True)
    return root / "ds"


def test_privileged_pods_and_templates(dataset: Path) -> None:
    frame = k8saudit.open(dataset).sensitive().filter(finding="privileged-pod")
    assert frame.select("why", "username", "requests", "denied", "first_audit_id").rows() == [
        ("create deployments prod/agent: privileged container setup; hostPID; "
         "hostPath volume sock (/var/run/docker.sock); container web adds NET_ADMIN",
         "alice", 1, 0, "p1"),
        ("create cronjobs prod/nightly: hostIPC", "alice", 1, 0, "p2"),
        ("patch daemonsets prod/logs: hostNetwork", "bob", 1, 0, "p3"),
        ("create pods prod/root: container sh adds all", "mallory", 1, 1, "p5"),
    ]  # fmt: skip


def test_rbac_grants(dataset: Path) -> None:
    frame = k8saudit.open(dataset).sensitive()
    grants = frame.filter(finding="rbac-grant")
    assert grants.select("why", "username", "first_audit_id").rows() == [
        ("create clusterrolebindings wide-binding grants ClusterRole wide (its rules allow '*' "
         "verbs) to ServiceAccount kube-system/evil, Group devs", "carol", "r2"),
        ("create clusterrolebindings grows-binding grants ClusterRole grows (its rules allow "
         "'*' verbs and '*' resources) to Group devs", "carol", "r5"),
        ("create clusterrolebindings root grants ClusterRole cluster-admin to User eve",
         "dave", "r8"),
    ]  # fmt: skip
    # every RBAC write is still an RBAC change; grants come first after cluster-admin itself
    assert frame["finding"].to_list()[:4] == ["rbac-grant"] * 3 + ["rbac-change"]
    assert frame.filter(finding="rbac-change").height == 8  # r1 to r8


def test_without_bodies_none_of_these(tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    k8saudit.ingest([jsonl(tmp_path / "audit.log", _events())], dataset=ds)
    findings = set(k8saudit.open(ds).sensitive()["finding"])
    assert findings == {"rbac-change", "denied"}
