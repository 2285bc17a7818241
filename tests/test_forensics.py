"""The forensic analyses (issue 14) on real third-party logs: Falco's audit trace files and
audit2rbac's demo log (``../shared/realdata``, see its PROVENANCE.md), each ingested once per
module. The expected rows were read off the raw events by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

import k8saudit
from k8saudit.dataset import Dataset

from .conftest import REALDATA
from .helpers import run_cli

FALCO = REALDATA / "falco-k8s_audit"
AUDIT2RBAC = REALDATA / "audit2rbac" / "demo.v1beta1.raw.501d132.log"
POD = "nginx-deployment-7998647bdf-phvq7"


def _ingested(factory: pytest.TempPathFactory, source: Path, keep_bodies: bool = False) -> Dataset:
    if not source.exists():
        pytest.skip(f"{source} not present (real samples live beside the repo in CI)")
    root = factory.mktemp("forensics") / "ds"
    k8saudit.ingest([source], dataset=root, keep_bodies=keep_bodies)
    return k8saudit.open(root)


@pytest.fixture(scope="module")
def falco(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    return _ingested(tmp_path_factory, FALCO)


@pytest.fixture(scope="module")
def falco_bodies(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    return _ingested(tmp_path_factory, FALCO, keep_bodies=True)


@pytest.fixture(scope="module")
def audit2rbac(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    return _ingested(tmp_path_factory, AUDIT2RBAC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_who_created_the_cluster_admin_binding(falco: Dataset) -> None:
    frame = falco.who("create", "clusterrolebindings/some-reader-binding")
    assert frame.select("received_at", "username", "code", "name", "audit_id").rows() == [
        # bound to system:basic-user, deleted at 13:25:47
        (at("2018-10-26 13:25:18.279128"), "minikube-user", 201, "some-reader-binding",
         "e040d0ab-473c-442c-9707-88553173e962"),
        # bound again, to cluster-admin (attach_cluster_admin_role.json: its roleRef)
        (at("2018-10-26 14:26:34.238974"), "minikube-user", 201, "some-reader-binding",
         "c97244c7-4aec-4714-946a-8204d00ecdca"),
    ]  # fmt: skip
    assert frame["source_ip"].unique().to_list() == ["192.168.99.1"]
    assert frame["resource"].unique().to_list() == ["clusterrolebindings"]
    assert frame["api_group"].unique().to_list() == ["rbac.authorization.k8s.io"]
    # the API group may qualify the resource; another group is another resource
    qualified = falco.who("create", "clusterrolebindings.rbac.authorization.k8s.io")
    assert qualified.height == 2
    assert falco.who("create", "clusterrolebindings.apps").height == 0
    assert falco.who("delete", "clusterrolebindings").select("received_at", "name").rows() == [
        (at("2018-10-26 13:25:47.035892"), "some-reader-binding")
    ]


def test_who_exec_d_into_a_pod(falco: Dataset) -> None:
    # `create pods` alone is the pods the replicaset controller created, not the exec
    created = falco.who("create", "pods")
    assert set(created["username"]) == {"system:serviceaccount:kube-system:replicaset-controller"}
    frame = falco.who("create", "pods", subresource="exec")
    assert frame.select("received_at", "username", "code", "name", "namespace").rows() == [
        (at("2018-10-26 13:38:34.867116"), "minikube-user", 101, POD, "default")
    ]
    assert frame["resource"].to_list() == ["pods/exec"]
    anything = falco.who("create", f"pods/{POD}", subresource="*")
    assert anything["resource"].to_list() == ["pods/exec", "pods/attach"]


def test_who_on_the_command_line(falco: Dataset) -> None:
    code, out, _ = run_cli(
        "who", "create", "pods", "--subresource", "exec", "-d", str(falco.root), "-f", "csv"
    )
    assert code == 0
    assert out.splitlines()[1].startswith(
        f"2018-10-26T13:38:34.867116+0000,minikube-user,101,{POD},default,192.168.99.1,"
    )
    code, _, err = run_cli("who", "create", "-d", str(falco.root))
    assert code == 2 and "RESOURCE[/NAME]" in err


def test_history_of_a_pod(falco: Dataset) -> None:
    frame = falco.history(f"pods/{POD}")
    assert frame.select("received_at", "verb", "subresource", "username", "code").rows() == [
        (at("2018-10-26 13:38:34.867116"), "create", "exec", "minikube-user", 101),
        (at("2018-10-26 13:42:46.764713"), "create", "attach", "minikube-user", 101),
    ]
    namespace = falco.history("namespaces/foo")
    assert namespace.select("verb", "username", "code").rows() == [
        ("create", "system:anonymous", 201),
        ("delete", "minikube-user", 200),
        ("create", "minikube-user", 201),
    ]


def test_history_says_what_each_write_changed(falco_bodies: Dataset) -> None:
    binding = falco_bodies.history("clusterrolebindings/some-reader-binding")
    assert binding.select("verb", "code", "changes").rows() == [
        ("create", 201, None),  # the first body seen: nothing to compare it with
        ("delete", 200, None),
        # created again: the binding now grants cluster-admin
        ("create", 201, ['roleRef.name: "system:basic-user" → "cluster-admin"']),
    ]
    role = falco_bodies.history("clusterroles/some-reader")
    assert role.select("audit_id", "changes").rows() == [
        ("b8dfba33-a6e6-4f3c-b2cb-d47de1c4e74b", None),
        ("452ed910-bbe7-419d-a72d-bcd6e085f5a9", None),  # the delete
        ("d8964c73-0042-4f35-b253-4711092185a1", ['rules[0].resources[0]: "pods" → "*"']),
        ("0dc97dd4-aa34-4071-b8cc-e1a1036c9ae9", [
            'rules[0].resources[0]: "*" → "pods"',
            'rules[0].verbs[0]: "get" → "*"',
            '-rules[0].verbs[1]: "list"',
        ]),
        ("25cd4bc5-50c9-4ce5-aa9a-b9ab6065929d", [
            'rules[0].verbs[0]: "*" → "get"',
            'rules[1].verbs[0]: "get" → "delete"',
        ]),
        ("412a7809-4016-4228-a670-182be4bd18ec", [
            'rules[0].resources[0]: "pods" → "pods/exec"',
            'rules[1].verbs[0]: "delete" → "get"',
        ]),
    ]  # fmt: skip
    # created, deleted, created again as it was
    assert falco_bodies.history("namespaces/foo")["changes"].to_list() == [None, None, []]


def test_activity_of_an_impersonated_user(audit2rbac: Dataset) -> None:
    # system:admin sent every request; alice's are those it sent impersonating her
    summary = audit2rbac.activity("alice")
    assert summary.select("verb", "resource", "requests", "namespaces", "denied").rows() == [
        ("list", "pods", 1, 1, 1),  # in time order: pods, configmaps, secrets
        ("list", "configmaps", 1, 1, 1),
        ("list", "secrets", 1, 1, 1),
    ]
    timeline = audit2rbac.activity_timeline("alice")
    assert timeline.select("verb", "resource", "code", "username", "impersonated_user").rows() == [
        ("list", "pods", 403, "system:admin", "alice"),
        ("list", "configmaps", 403, "system:admin", "alice"),
        ("list", "secrets", 403, "system:admin", "alice"),
    ]
    bob = audit2rbac.activity("bob")
    assert bob["requests"].sum() == 29 and bob["denied"].sum() == 4


def test_sensitive_on_falco(falco: Dataset) -> None:
    frame = falco.sensitive()
    assert frame.select("finding", "why", "username", "requests").rows() == [
        ("rbac-change", "create clusterroles some-reader", "minikube-user", 5),
        # the second of these two bound some-reader-binding to cluster-admin
        ("rbac-change", "create clusterrolebindings some-reader-binding", "minikube-user", 2),
        ("rbac-change", "delete clusterroles some-reader", "minikube-user", 1),
        ("rbac-change", "delete clusterrolebindings some-reader-binding", "minikube-user", 1),
        ("rbac-change", "delete clusterroles system:kube-aggregator", "minikube-user", 1),
        ("rbac-change", "patch clusterroles system:node-problem-detector", "minikube-user", 1),
        ("exec", f"exec into pods: default/{POD}", "minikube-user", 1),
        ("exec", f"attach into pods: default/{POD}", "minikube-user", 1),
        ("anonymous", "anonymous create namespaces: 1 of 1 allowed", "system:anonymous", 1),
    ]
    exec_row = frame.filter(finding="exec").row(0, named=True)
    assert exec_row["first_audit_id"] == "ca1ed9f4-7bf4-4c85-81a8-1b11253d1ba6"


def test_sensitive_from_bodies_on_falco(falco: Dataset, falco_bodies: Dataset) -> None:
    frame = falco_bodies.sensitive()
    found = frame.filter(pl.col("finding").is_in(["rbac-grant", "privileged-pod"]))
    replicaset = "system:serviceaccount:kube-system:replicaset-controller"
    assert found.select("finding", "why", "username", "first_audit_id").rows() == [
        # attach_cluster_admin_role.json: the creator of the cluster-admin binding
        ("rbac-grant", "create clusterrolebindings some-reader-binding grants ClusterRole "
         "cluster-admin to User minikube", "minikube-user", "c97244c7-4aec-4714-946a-8204d00ecdca"),
        # create_nginx_pod_privileged.json
        ("privileged-pod", "create pods default/nginx-deployment-5cdcc99dbf-rgw6z: privileged "
         "container nginx", replicaset, "a362d22b-db3c-4590-9505-23782f12925f"),
        # create_nginx_pod_sensitive_mount.json and its _2nd_container twin
        ("privileged-pod", "create pods default/nginx-deployment-7d5b5dd9cf-t8ngb, "
         "default/nginx-deployment-f7f486546-hzhsw: hostPath volume etc (/etc)", replicaset,
         "e456c9cf-9abe-4fa1-8526-e014da96821b"),
        # create_nginx_pod_privileged_2nd_container.json (the same event as
        # ..._no_secctx_1st_container_privileged_2nd_container.json)
        ("privileged-pod", "create pods default/nginx-deployment-544b59f8b8-ffkxm: privileged "
         "container mysql", replicaset, "f83ecd50-5bf4-4fe7-a419-dea22852ca49"),
        # create_nginx_pod_hostnetwork.json
        ("privileged-pod", "create pods default/nginx-deployment-754c877bcd-zh5qx: hostNetwork",
         replicaset, "24142dcc-7ad8-4fb8-8d3b-106ea474759d"),
    ]  # fmt: skip
    # the other findings are those found without the bodies
    others = frame.filter(~pl.col("finding").is_in(["rbac-grant", "privileged-pod"]))
    assert others.equals(falco.sensitive())


def test_sensitive_on_audit2rbac(audit2rbac: Dataset) -> None:
    frame = audit2rbac.sensitive().filter(finding="impersonation").drop("finding")
    sa1 = "system:serviceaccount:ns1:sa1"
    assert frame.select("why", "username", "impersonated_user", "requests", "denied").rows() == [
        ("acts as bob: 29 requests, 4 denied", "system:admin", "bob", 29, 4),
        (f"acts as {sa1}: 5 requests, 4 denied", "system:admin", sa1, 5, 4),
        ("acts as alice: 3 requests, 3 denied", "system:admin", "alice", 3, 3),
    ]
    denied = audit2rbac.sensitive().filter(finding="denied")
    assert denied.select("why", "impersonated_user", "requests", "first_seen").rows() == [
        ("403 denied: list pods (3), list nodes (1)", "bob", 4, at("2017-09-11 19:55:05")),
        ("403 denied: list pods (3), list nodes (1)", sa1, 4, at("2017-09-11 20:00:59")),
        ("403 denied: list configmaps (1), list pods (1), list secrets (1)", "alice", 3,
         at("2017-09-11 20:28:54")),
    ]  # fmt: skip
    secrets = audit2rbac.sensitive().filter(finding="secret-read")
    assert secrets.select("why", "impersonated_user", "denied").rows() == [
        ("list secrets in ns1", "alice", 1)
    ]
    # no user got 10 denials within a minute; sa1 got 3 in the minute from 20:01
    assert audit2rbac.sensitive().filter(finding="denial-burst").height == 0
    bursts = audit2rbac.sensitive(burst=3).filter(finding="denial-burst")
    assert bursts.select("why", "impersonated_user", "requests").rows() == [
        ("3 denials from 2017-09-11 20:01:00 to 20:02:00", sa1, 3)
    ]
    # windows are aligned: bob's four denials fall in the hours from 19:00 (3) and 20:00 (1)
    within = audit2rbac.sensitive(burst=4, burst_window="1h").filter(finding="denial-burst")
    assert within.select("impersonated_user", "requests").rows() == [(sa1, 4)]


# -- rbac: the generated policy allows each observed request and nothing that was not observed


def _allows(objects: list[dict], request: dict) -> bool:
    """Whether the RBAC objects allow a request (verb, api_group, resource, namespace, name,
    path), as the RBAC authorizer decides: a ClusterRole's rules anywhere, a Role's in its
    namespace; resourceNames, when given, must hold the name."""
    for role in objects:
        if role["kind"] not in ("Role", "ClusterRole"):
            continue
        if role["kind"] == "Role" and role["metadata"]["namespace"] != request["namespace"]:
            continue
        for rule in role["rules"]:
            if request["verb"] not in rule["verbs"]:
                continue
            if "nonResourceURLs" in rule:
                if request["resource"] is None and request["path"] in rule["nonResourceURLs"]:
                    return True
                continue
            if (
                request["resource"] in rule["resources"]
                and request["api_group"] in rule["apiGroups"]
                and ("resourceNames" not in rule or request["name"] in rule["resourceNames"])
            ):
                return True
    return False


def _observed(ds: Dataset, subject: str) -> list[dict]:
    """What ``subject`` needed the authorizer to allow: its own requests (or those made as it)
    and, for each user it impersonated, the impersonate verb on that user."""
    own = ds.sql(
        "SELECT verb, coalesce(api_group, '') AS api_group, "
        "concat_ws('/', resource, subresource) AS resource, namespace, name, path "
        "FROM requests WHERE coalesce(impersonated_user, username) = $s",
        s=subject,
    ).to_dicts()
    for request in own:
        request["resource"] = request["resource"] or None
    impersonated = ds.sql(
        "SELECT DISTINCT impersonated_user AS u FROM requests "
        "WHERE username = $s AND impersonated_user IS NOT NULL",
        s=subject,
    )["u"]
    for user in impersonated:
        parts = user.split(":")
        account = user.startswith("system:serviceaccount:")
        own.append({
            "verb": "impersonate", "api_group": "", "path": None,
            "resource": "serviceaccounts" if account else "users",
            "namespace": parts[2] if account else None, "name": parts[3] if account else user,
        })  # fmt: skip
    return own


def _needed(rule: dict, namespace: str | None, observed: list[dict], max_names: int) -> None:
    """Every combination ``rule`` allows was observed, in its scope; a rule without
    resourceNames stands for a verb that touched unnamed objects, more than ``max_names``
    objects, or whose name the authorizer never sees (create, deletecollection)."""
    in_scope = [r for r in observed if namespace is None or r["namespace"] == namespace]
    for verb in rule["verbs"]:
        if "nonResourceURLs" in rule:
            for url in rule["nonResourceURLs"]:
                assert any(r["verb"] == verb and r["path"] == url for r in in_scope), (verb, url)
            continue
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                matching = [
                    r
                    for r in in_scope
                    if (r["verb"], r["api_group"], r["resource"]) == (verb, group, resource)
                    and (namespace is not None or r["namespace"] is None)
                ]
                assert matching, (namespace, verb, group, resource)
                names = {r["name"] for r in matching}
                if "resourceNames" in rule:
                    assert set(rule["resourceNames"]) == names, (verb, resource, names)
                else:
                    assert (
                        verb in ("create", "deletecollection")
                        or None in names
                        or len(names) > max_names
                    ), (verb, resource, names)


@pytest.mark.parametrize(
    "subject", ["bob", "alice", "system:serviceaccount:ns1:sa1", "system:admin"]
)
def test_rbac_allows_exactly_what_was_observed(audit2rbac: Dataset, subject: str) -> None:
    import yaml

    policy = k8saudit.rbac(audit2rbac, subject)
    objects = list(yaml.safe_load_all(policy.to_yaml()))
    observed = _observed(audit2rbac, subject)
    assert observed
    for request in observed:
        assert _allows(objects, request), request
    for role in objects:
        if role["kind"] in ("Role", "ClusterRole"):
            namespace = role["metadata"].get("namespace")
            for rule in role["rules"]:
                _needed(rule, namespace, observed, max_names=5)
        else:  # each binding binds its role to the subject, and nothing else
            assert role["roleRef"]["name"] == policy.role_name
            assert len(role["subjects"]) == 1
    # every request the subject sent or was impersonated in is one a rule stands for
    sent = sum(1 for r in observed if r["verb"] != "impersonate")
    impersonating = audit2rbac.sql(
        "SELECT count(*) FROM requests WHERE username = $s AND impersonated_user IS NOT NULL",
        s=subject,
    ).item()
    assert int(policy.rules["requests"].sum()) == sent + impersonating


def test_rbac_rules_of_the_demo_users(audit2rbac: Dataset) -> None:
    columns = ("kind", "namespace", "api_group", "resources", "verbs", "resource_names")
    sa1 = audit2rbac.rbac_rules("system:serviceaccount:ns1:sa1")
    assert sa1.select(*columns, "requests", "denied").rows() == [
        ("ClusterRole", None, "", "nodes, pods", "list", None, 3, 2),
        ("Role", "default", "", "pods", "list", None, 2, 2),
    ]
    alice = audit2rbac.rbac_rules("alice")
    assert alice.select(*columns).rows() == [
        ("Role", "ns1", "", "configmaps, pods, secrets", "list", None)
    ]
    admin = audit2rbac.rbac_rules("system:admin").filter(verbs="impersonate")
    assert admin.select(*columns).rows() == [
        ("ClusterRole", None, "", "users", "impersonate", "alice, bob"),
        ("Role", "ns1", "", "serviceaccounts", "impersonate", "sa1"),
    ]
    # one name allowed per object touched, up to --max-names
    # get and patch touched two cluster roles and bindings each: more than one, so by
    # --max-names 1 their names go, and create (never by name) joins their rule
    fewer = audit2rbac.rbac_rules("system:admin", max_names=1).filter(kind="ClusterRole")
    assert fewer.select("resources", "verbs", "resource_names").rows() == [
        ("users", "impersonate", None),
        ("clusterrolebindings, clusterroles", "create, get, patch", None),
        ("clusterrolebindings, clusterroles", "delete", "audit2rbac:bob"),
    ]
    policy = k8saudit.rbac(audit2rbac, "bob")
    assert policy.denied.select("verb", "resource", "namespace", "requests").rows() == [
        ("list", "pods", "default", 2),
        ("list", "pods", "ns1", 1),
        ("list", "nodes", None, 1),
    ]
    assert "#   list nodes cluster-wide: 1\n" in policy.to_yaml()


def test_rbac_on_the_command_line(audit2rbac: Dataset) -> None:
    root = str(audit2rbac.root)
    code, out, _ = run_cli("rbac", "alice", "-d", root)
    assert code == 0
    assert out.startswith("# least-privilege RBAC for alice: what it was seen doing\n")
    assert "kind: RoleBinding\n" in out and "  namespace: ns1\n" in out
    code, out, _ = run_cli("rbac", "alice", "-d", root, "-f", "csv")
    row = 'Role,ns1,"","configmaps, pods, secrets",list,,,3,3'  # the core group is ""
    assert (code, out.splitlines()[1]) == (0, row)
    code, _, err = run_cli("rbac", "alice", "-d", root, "-f", "xml")
    assert code == 2 and "--format 'xml'" in err


def test_rbac_yaml_keeps_log_strings_inert(tmp_path: Path) -> None:
    """Names come from logs: one that tries to start a YAML document of its own stays a
    string in the objects and an escaped line in the comments."""
    import yaml

    from .helpers import event, jsonl

    evil = "x\n---\nkind: ClusterRole"
    events = [
        event("d1", verb="get", requestURI="/api/v1/namespaces/default/secrets/x",
              objectRef={"resource": "secrets", "namespace": "default", "name": evil},
              responseStatus={"metadata": {}, "code": 403}),
    ]  # fmt: skip
    root = tmp_path / "ds"
    k8saudit.ingest([jsonl(tmp_path / "audit.log", events)], dataset=root)
    text = k8saudit.rbac(root, "system:serviceaccount:logging:fluentd").to_yaml()
    comments = [line for line in text.splitlines() if line.startswith("#")]
    assert comments[-1] == "#   get secrets default/x\\n---\\nkind: ClusterRole: 1"
    objects = list(yaml.safe_load_all(text))
    assert [o["kind"] for o in objects] == ["Role", "RoleBinding"]
    assert objects[0]["rules"] == [
        {"apiGroups": [""], "resources": ["secrets"], "resourceNames": [evil], "verbs": ["get"]}
    ]
