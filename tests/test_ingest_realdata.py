"""Every real third-party sample ingests with its format recognized and exact counts.

Counts are requests = distinct audit IDs in the file, plus one per event that carries no audit ID
(Panther's trimmed fixtures); access-log requests are one per access line.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import k8saudit

# (file, detected format, requests, skipped records, rejected records, 429s)
EXPECTED = [
    ("afcollins-kube-audit-log-tool/single-event.json", "json-document", 1, 0, 0, 0),
    ("audit2rbac/demo.log", "audit-jsonl", 37, 0, 0, 0),
    ("audit2rbac/demo.v1beta1.883f4e8.log", "audit-jsonl", 37, 0, 0, 0),
    ("audit2rbac/demo.v1beta1.raw.501d132.log", "audit-jsonl", 437, 0, 0, 0),
    ("falco-k8s_audit/anonymous_creates_namespace_foo.json", "audit-jsonl", 1, 0, 0, 0),
    ("falco-k8s_audit/attach_cluster_admin_role.json", "audit-jsonl", 1, 0, 0, 0),
    ("falco-k8s_audit/attach_pod.json", "audit-jsonl", 1, 0, 0, 0),
    ("falco-k8s_audit/create_cluster_role_pod_exec.json", "audit-jsonl", 1, 0, 0, 0),
    ("falco-k8s_audit/create_cluster_role_wildcard_resources.json", "audit-jsonl", 1, 0, 0, 0),
    ("falco-k8s_audit/create_cluster_role_wildcard_verbs.json", "audit-jsonl", 1, 0, 0, 0),
    ("falco-k8s_audit/create_cluster_role_write_privileges.json", "audit-jsonl", 1, 0, 0, 0),
    ("falco-k8s_audit/create_clusterrole.json", "audit-jsonl", 1, 0, 0, 0),
    ("falco-k8s_audit/create_clusterrolebinding.json", "audit-jsonl", 1, 0, 0, 0),
    ("falco-k8s_audit/create_configmap.json", "audit-jsonl", 1, 0, 0, 0),
    ("falco-k8s_audit/create_configmap_no_sensitive_values.json", "audit-jsonl", 1, 0, 0, 0),
    ("falco-k8s_audit/create_configmap_sensitive_values.json", "audit-jsonl", 6, 0, 0, 0),
    ("falco-k8s_audit/create_deployment.json", "audit-jsonl", 1, 0, 0, 0),
    ("falco-k8s_audit/create_kube_system_secret.json", "audit-jsonl", 1, 0, 0, 0),
    ("falco-k8s_audit/create_nginx_pod_hostnetwork.json", "audit-jsonl", 1, 0, 0, 0),
    (
        "falco-k8s_audit/create_nginx_pod_no_secctx_1st_container_privileged_2nd_container.json",
        "audit-jsonl",
        1,
        0,
        0,
        0,
    ),
    ("falco-k8s_audit/create_nginx_pod_nohostnetwork.json", "audit-jsonl", 1, 0, 0, 0),
    ("falco-k8s_audit/create_nginx_pod_privileged.json", "audit-jsonl", 1, 0, 0, 0),
    ("falco-k8s_audit/create_nginx_pod_privileged_2nd_container.json", "audit-jsonl", 1, 0, 0, 0),
    ("falco-k8s_audit/create_nginx_pod_sensitive_mount.json", "audit-jsonl", 1, 0, 0, 0),
    (
        "falco-k8s_audit/create_nginx_pod_sensitive_mount_2nd_container.json",
        "audit-jsonl",
        1,
        0,
        0,
        0,
    ),
    ("falco-k8s_audit/create_nginx_pod_unprivileged.json", "audit-jsonl", 1, 0, 0, 0),
    ("falco-k8s_audit/create_nginx_pod_unsensitive_mount.json", "audit-jsonl", 1, 0, 0, 0),
    ("falco-k8s_audit/create_nginx_service_nodeport.json", "audit-jsonl", 1, 1, 0, 0),
    ("falco-k8s_audit/create_nginx_service_nonodeport.json", "audit-jsonl", 1, 0, 0, 0),
    ("falco-k8s_audit/create_pod_kube_public_namespace.json", "audit-jsonl", 1, 0, 0, 0),
    ("falco-k8s_audit/create_pod_kube_system_namespace.json", "audit-jsonl", 1, 0, 0, 0),
    ("falco-k8s_audit/create_secret.json", "audit-jsonl", 1, 1, 0, 0),
    ("falco-k8s_audit/create_service.json", "audit-jsonl", 1, 0, 0, 0),
    ("falco-k8s_audit/create_service_account_token_secret.json", "audit-jsonl", 1, 0, 0, 0),
    ("falco-k8s_audit/create_serviceaccount.json", "audit-jsonl", 1, 0, 0, 0),
    ("falco-k8s_audit/create_serviceaccount_kube_public_namespace.json", "audit-jsonl", 1, 0, 0, 0),
    ("falco-k8s_audit/create_serviceaccount_kube_system_namespace.json", "audit-jsonl", 1, 0, 0, 0),
    ("falco-k8s_audit/delete_cluster_role_kube_aggregator.json", "audit-jsonl", 1, 0, 0, 0),
    ("falco-k8s_audit/delete_clusterrole.json", "audit-jsonl", 1, 0, 0, 0),
    ("falco-k8s_audit/delete_clusterrolebinding.json", "audit-jsonl", 1, 0, 0, 0),
    ("falco-k8s_audit/delete_configmap.json", "audit-jsonl", 1, 0, 0, 0),
    ("falco-k8s_audit/delete_deployment.json", "audit-jsonl", 1, 0, 0, 0),
    ("falco-k8s_audit/delete_namespace_foo.json", "audit-jsonl", 1, 0, 0, 0),
    ("falco-k8s_audit/delete_secret.json", "audit-jsonl", 1, 0, 0, 0),
    ("falco-k8s_audit/delete_service.json", "audit-jsonl", 1, 0, 0, 0),
    ("falco-k8s_audit/delete_serviceaccount.json", "audit-jsonl", 1, 1, 0, 0),
    ("falco-k8s_audit/exec_pod.json", "audit-jsonl", 1, 0, 0, 0),
    ("falco-k8s_audit/fal_01_003.json", "json-lines", 0, 0, 1, 0),
    ("falco-k8s_audit/minikube_creates_namespace_foo.json", "audit-jsonl", 1, 0, 0, 0),
    ("falco-k8s_audit/modify_cluster_role_node_problem_detector.json", "audit-jsonl", 1, 0, 0, 0),
    ("falco-k8s_audit/some-user_creates_namespace_foo.json", "audit-jsonl", 1, 0, 0, 0),
    ("googlecloudplatform-khi/k8s_audit__container_recorder_test_1_1.yaml", "yaml", 1, 0, 0, 0),
    ("googlecloudplatform-khi/k8s_audit__container_recorder_test_1_2.yaml", "yaml", 1, 0, 0, 0),
    ("googlecloudplatform-khi/k8s_audit__container_recorder_test_1_3.yaml", "yaml", 1, 0, 0, 0),
    ("googlecloudplatform-khi/oss__test-log.yaml", "yaml", 1, 0, 0, 0),
    (
        "k8s-docs-legacy-audit/legacy-advanced-audit-k8s-website-2017-09.log",
        "legacy-audit",
        1,
        0,
        0,
        0,
    ),
    (
        "k8s-docs-legacy-audit/legacy-audit-fluentd-gcp-comment-2017-02.log",
        "legacy-audit",
        1,
        0,
        0,
        0,
    ),
    ("k8s-docs-legacy-audit/legacy-audit-k8s-website-2016-09.log", "legacy-audit", 1, 0, 0, 0),
    ("k8s-docs-legacy-audit/legacy-audit-k8s-website-2017-03.log", "legacy-audit", 1, 0, 0, 0),
    ("k8s-docs-legacy-audit/v1beta1-k8s-website-2017-09.jsonl", "audit-jsonl", 1, 0, 0, 0),
    ("k8s-issue-pastes/blog-configmap-qps_httplog132_cri-prefixed.log", "access-log", 3, 0, 0, 0),
    (
        "k8s-issue-pastes/kubermatic-dashboard-200_wrap75_docker-prefixed.log",
        "access-log",
        7,
        2,
        0,
        0,
    ),
    ("k8s-issue-pastes/kubernetes-kubernetes-71454_wrap42_429.log", "access-log", 3, 0, 0, 2),
    ("k8s-issue-pastes/kubernetes-kubernetes-77076_v1beta1_event.jsonl", "audit-jsonl", 1, 0, 0, 0),
    (
        "k8s-issue-pastes/openshift-multus-admission-controller-40_panic965_httplog-new.log",
        "access-log",
        1,
        0,
        0,
        0,
    ),
    (
        "mateuszmatejczyk-kubernetes-scale-apiserver-log/kube-apiserver.log",
        "access-log",
        200,
        0,
        0,
        20,
    ),
    ("panther-analysis-extracted/panther_tests_audit-other.jsonl", "audit-jsonl", 6, 0, 0, 0),
    ("panther-analysis-extracted/panther_tests_azure.jsonl", "json-lines", 32, 6, 0, 0),
    ("panther-analysis-extracted/panther_tests_eks.jsonl", "audit-jsonl", 164, 0, 0, 1),
    ("panther-analysis-extracted/panther_tests_gke.jsonl", "json-lines", 41, 16, 0, 0),
    ("sysdiglabs-aks-audit-log/event.json", "json-lines", 22, 0, 0, 0),
    ("sysdiglabs-aks-audit-log/sample_EventHubs_event.json", "json-document", 1, 0, 0, 0),
    ("sysdiglabs-aks-audit-log/sample_KubeAuditLog_event.json", "json-document", 1, 0, 0, 0),
]


@pytest.mark.parametrize(
    ("name", "fmt", "requests", "skipped", "rejected", "throttled"),
    EXPECTED,
    ids=[row[0] for row in EXPECTED],
)
def test_real_sample_ingests_exactly(
    realdata: Path,
    tmp_path: Path,
    name: str,
    fmt: str,
    requests: int,
    skipped: int,
    rejected: int,
    throttled: int,
) -> None:
    report = k8saudit.ingest([realdata / name], dataset=tmp_path / "ds")
    (file_report,) = report.files
    assert (file_report.format, file_report.status) == (fmt, "ingested")
    assert (report.requests_after, file_report.skipped, file_report.rejected) == (
        requests,
        skipped,
        rejected,
    )
    if requests:
        ds = k8saudit.open(tmp_path / "ds")
        got = ds.sql("SELECT count(*) FILTER (WHERE code = 429) AS n FROM requests")["n"][0]
        assert got == throttled


def test_every_real_sample_is_covered(realdata: Path) -> None:
    files = {p.relative_to(realdata).as_posix() for p in realdata.rglob("*") if p.is_file()}
    assert files - {"PROVENANCE.md"} == {row[0] for row in EXPECTED}


def test_all_real_samples_together(realdata: Path, tmp_path: Path) -> None:
    """One ingest of the whole folder: audit2rbac's three copies of the same IDs merge."""
    report = k8saudit.ingest([realdata], dataset=tmp_path / "ds")
    unreadable = [f.path for f in report.files if f.status == "unreadable"]
    assert [Path(p).name for p in unreadable] == ["PROVENANCE.md"]
    assert report.rejected == 1  # falco's deliberately broken fal_01_003.json
    ds = k8saudit.open(tmp_path / "ds")
    ids = ds.sql("SELECT count(*) AS n, count(DISTINCT request_key) AS k FROM requests")
    assert ids["n"][0] == ids["k"][0] == report.requests_after


def test_v1beta1_and_v1_copies_parse_alike(realdata: Path, tmp_path: Path) -> None:
    columns = "audit_id, verb, resource, namespace, name, username, code, scope, received_at"
    frames = []
    for index, name in enumerate(["audit2rbac/demo.log", "audit2rbac/demo.v1beta1.883f4e8.log"]):
        k8saudit.ingest([realdata / name], dataset=tmp_path / str(index))
        frames.append(
            k8saudit.open(tmp_path / str(index)).sql(
                f"SELECT {columns} FROM requests ORDER BY audit_id"
            )
        )
    assert frames[0].equals(frames[1])


def test_escaped_uri_and_node_identity(realdata: Path, tmp_path: Path) -> None:
    k8saudit.ingest(
        [realdata / "k8s-issue-pastes/kubernetes-kubernetes-77076_v1beta1_event.jsonl"],
        dataset=tmp_path,
    )
    row = k8saudit.open(tmp_path).sql("SELECT * FROM requests").row(0, named=True)
    assert row["request_uri"] == (
        "/api/v1/pods?fieldSelector=spec.nodeName%3D192.168.17.42&limit=500&resourceVersion=0"
    )
    assert row["field_selector"] == "spec.nodeName=192.168.17.42"
    assert (row["limit_param"], row["resource_version"]) == (500, "0")
    assert (row["verb"], row["scope"], row["is_watch"]) == ("list", "cluster", False)
    assert (row["identity"], row["node_name"]) == ("system:node:*", "192.168.17.42")
    assert row["latency_ms"] == pytest.approx(1.885)


def test_gke_entry_mapping(realdata: Path, tmp_path: Path) -> None:
    name = "googlecloudplatform-khi/k8s_audit__container_recorder_test_1_2.yaml"
    k8saudit.ingest([realdata / name], dataset=tmp_path)
    row = k8saudit.open(tmp_path).sql("SELECT * FROM requests").row(0, named=True)
    assert (row["verb"], row["resource"], row["subresource"]) == ("patch", "pods", "status")
    assert (row["namespace"], row["scope"], row["code"], row["grpc_code"]) == (
        "1-2-deployment-update",
        "object",
        200,
        0,
    )
    assert row["client"] == "kubelet" and row["latency_ms"] is None
    assert row["log_format"] == "gke-audit"


def test_aks_records_keep_their_apiserver_pod(realdata: Path, tmp_path: Path) -> None:
    k8saudit.ingest([realdata / "sysdiglabs-aks-audit-log/event.json"], dataset=tmp_path)
    frame = k8saudit.open(tmp_path).sql(
        "SELECT apiserver, log_format, count(*) AS n FROM requests GROUP BY ALL"
    )
    assert frame.rows() == [("kube-apiserver-79599f95c7-qn557", "aks-audit-v1", 22)]
