"""The named scenarios: which clients a cluster runs and how hard they hit the API server.

``civis-2019`` replays the incident k8saudit was built from (a datadog-agent DaemonSet listing every
Service every 15 s, kube2iam watching all pods, fluentd's metadata lookups, an operator hot loop)
on top of ordinary control-plane traffic; ``quiet`` is the same cluster without the offenders;
``kube2iam-storm`` breaks every kube2iam watch at once, twice, so all of them relist together.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import numpy as np

from k8saudit.exceptions import UsageError

from .cluster import Cluster, Node, build_cluster, random_suffix
from .naming import client_name
from .series import Identity, Periodic, Poisson, Series, Target, WatchChain, Workload

K8S_VERSION = "v1.14.10"
K8S_COMMIT = "575467a"
KCM_UA = f"kube-controller-manager/{K8S_VERSION} (linux/amd64) kubernetes/{K8S_COMMIT}"
SCHEDULER_UA = f"kube-scheduler/{K8S_VERSION} (linux/amd64) kubernetes/{K8S_COMMIT}"
CONTROL_PLANE_IP = "10.0.96.11"
AUTHENTICATED = "system:authenticated"


@dataclass(frozen=True)
class ScenarioSpec:
    """Cluster shape and API-server capacity of a scenario (capacity in busy CPU cores)."""

    name: str
    description: str
    pods_per_node: int
    services_per_node: int
    capacity_cores_per_100_nodes: float
    offenders: bool
    kube2iam_storms: int


SCENARIOS = {
    spec.name: spec
    for spec in (
        ScenarioSpec(
            "civis-2019",
            "datadog-agent lists all Services every 15 s from every node; kube2iam watches all "
            "pods; fluentd looks up pod metadata; an operator hot-loops on one ConfigMap",
            pods_per_node=20,
            services_per_node=8,
            capacity_cores_per_100_nodes=0.68,
            offenders=True,
            kube2iam_storms=0,
        ),
        ScenarioSpec(
            "quiet",
            "the same cluster without the offenders: a healthy control plane for contrast",
            pods_per_node=20,
            services_per_node=8,
            capacity_cores_per_100_nodes=0.68,
            offenders=False,
            kube2iam_storms=0,
        ),
        ScenarioSpec(
            "kube2iam-storm",
            "every kube2iam watch breaks at once (three times); all of them relist every pod "
            "together",
            pods_per_node=40,
            services_per_node=2,
            capacity_cores_per_100_nodes=0.68,
            offenders=False,
            kube2iam_storms=3,
        ),
    )
}


def get_scenario(name: str) -> ScenarioSpec:
    """The scenario called ``name``; raises ``UsageError`` naming the valid ones."""
    try:
        return SCENARIOS[name]
    except KeyError:
        raise UsageError(
            f"unknown scenario {name!r}", hint="choose one of: " + ", ".join(SCENARIOS)
        ) from None


def _sa(namespace: str, name: str, rng: np.random.Generator) -> tuple[str, tuple[str, ...], str]:
    username = f"system:serviceaccount:{namespace}:{name}"
    groups = ("system:serviceaccounts", f"system:serviceaccounts:{namespace}", AUTHENTICATED)
    return username, groups, str(uuid.UUID(bytes=rng.bytes(16), version=4))


def _rbac(binding: str, subject: str) -> str:
    return (
        f'RBAC: allowed by ClusterRoleBinding "{binding}" of ClusterRole "{binding}" to {subject}'
    )


def _series(identity: Identity, target: Target, *, denied: bool = False) -> Series:
    return Series(client_name(identity.user_agent, identity.username), identity, target, denied)


def _pod_extra(node: Node | None, pod: str) -> tuple[tuple[str, str], ...]:
    extra = [("authentication.kubernetes.io/pod-name", pod)]
    if node is not None:
        extra.insert(0, ("authentication.kubernetes.io/node-name", node.name))
    return tuple(extra)


class _Builder:
    """Adds one client kind at a time to a workload; each method is one kind of client."""

    def __init__(self, cluster: Cluster, rng: np.random.Generator, duration_s: float) -> None:
        self.cluster = cluster
        self.rng = rng
        self.duration_s = duration_s
        self.workload = Workload()

    def kubelets(self) -> None:
        ua = f"kubelet/{K8S_VERSION} (linux/amd64) kubernetes/{K8S_COMMIT}"
        ids = [
            Identity(
                f"system:node:{n.name}",
                ("system:nodes", AUTHENTICATED),
                ua,
                n.ip,
                apf_priority_level="system",
                apf_flow_schema="system-nodes",
            )
            for n in self.cluster.nodes
        ]
        nodes = self.cluster.nodes
        lease = "/apis/coordination.k8s.io/v1beta1/namespaces/kube-node-lease/leases/"
        w = self.workload
        w.add(
            [
                _series(
                    i,
                    Target(
                        "update",
                        f"{lease}{n.name}?timeout=10s",
                        "leases",
                        "v1beta1",
                        "coordination.k8s.io",
                        "kube-node-lease",
                        n.name,
                    ),
                )
                for i, n in zip(ids, nodes, strict=True)
            ],
            Periodic(10.0, 0.05),
            poller=True,
        )
        w.add(
            [
                _series(
                    i,
                    Target(
                        "get",
                        f"/api/v1/nodes/{n.name}?resourceVersion=0&timeout=10s",
                        "nodes",
                        name=n.name,
                        from_cache=True,
                    ),
                )
                for i, n in zip(ids, nodes, strict=True)
            ],
            Periodic(10.0, 0.05),
            poller=True,
        )
        w.add(
            [
                _series(
                    i,
                    Target(
                        "patch",
                        f"/api/v1/nodes/{n.name}/status?timeout=10s",
                        "nodes",
                        name=n.name,
                        subresource="status",
                    ),
                )
                for i, n in zip(ids, nodes, strict=True)
            ],
            Periodic(60.0, 0.05),
            poller=True,
        )
        node_field = "fieldSelector=spec.nodeName%3D"
        w.add(
            [
                _series(i, Target("watch", f"/api/v1/pods?{node_field}{n.name}&", "pods"))
                for i, n in zip(ids, nodes, strict=True)
            ]
            + [_series(i, Target("watch", "/api/v1/services?", "services")) for i in ids],
            WatchChain(300.0, 600.0),
        )
        secret_watches = []
        status_patches = []
        for i, n in zip(ids, nodes, strict=True):
            for pod in n.pods:
                token = f"default-token-{random_suffix(self.rng)}"
                secret_watches.append(
                    _series(
                        i,
                        Target(
                            "watch",
                            f"/api/v1/namespaces/{pod.namespace}/secrets?fieldSelector="
                            f"metadata.name%3D{token}&",
                            "secrets",
                            namespace=pod.namespace,
                        ),
                    )
                )
                status_patches.append(
                    _series(
                        i,
                        Target(
                            "patch",
                            f"/api/v1/namespaces/{pod.namespace}/pods/{pod.name}/status",
                            "pods",
                            namespace=pod.namespace,
                            name=pod.name,
                            subresource="status",
                        ),
                    )
                )
        w.add(secret_watches, WatchChain(300.0, 600.0))
        w.add(status_patches, Poisson((1 / 900,) * len(status_patches)))

    def kube_proxies(self) -> None:
        username, groups, uid = _sa("kube-system", "kube-proxy", self.rng)
        ua = f"kube-proxy/{K8S_VERSION} (linux/amd64) kubernetes/{K8S_COMMIT}"
        reason = _rbac("system:node-proxier", 'ServiceAccount "kube-proxy/kube-system"')
        series = []
        for n in self.cluster.nodes:
            ident = Identity(
                username,
                groups,
                ua,
                n.ip,
                uid,
                _pod_extra(n, n.kube_proxy_pod),
                reason,
                "workload-high",
                "kube-system-service-accounts",
            )
            for resource in ("endpoints", "services"):
                series.append(_series(ident, Target("watch", f"/api/v1/{resource}?", resource)))
        self.workload.add(series, WatchChain(300.0, 600.0))

    def control_plane(self) -> None:
        rng, w = self.rng, self.workload
        kcm_user = ("system:kube-controller-manager", (AUTHENTICATED,))
        sched_user = ("system:kube-scheduler", (AUTHENTICATED,))

        def plane(user: tuple[str, tuple[str, ...]], ua: str, fs: str, reason: str) -> Identity:
            return Identity(
                user[0], user[1], ua, CONTROL_PLANE_IP, "", (), reason, "workload-high", fs
            )

        for user, ua, component in (
            (kcm_user, KCM_UA, "kube-controller-manager"),
            (sched_user, SCHEDULER_UA, "kube-scheduler"),
        ):
            ident = Identity(
                user[0],
                user[1],
                f"{ua}/leader-election",
                CONTROL_PLANE_IP,
                authz_reason=_rbac(f"system:{component}", f'User "{user[0]}"'),
                apf_priority_level="leader-election",
                apf_flow_schema="system-leader-election",
            )
            uri = f"/api/v1/namespaces/kube-system/endpoints/{component}?timeout=10s"
            for verb in ("get", "update"):
                target = Target(verb, uri, "endpoints", namespace="kube-system", name=component)
                w.add([_series(ident, target)], Periodic(2.0, 0.02), poller=True)

        def controller(name: str) -> Identity:
            username, groups, uid = _sa("kube-system", name, rng)
            return Identity(
                username,
                groups,
                f"{KCM_UA}/{username}",
                CONTROL_PLANE_IP,
                uid,
                (),
                _rbac(f"system:controller:{name}", f'ServiceAccount "{name}/kube-system"'),
                "workload-high",
                "kube-system-service-accounts",
            )

        cronjob = controller("cronjob-controller")
        for uri, resource, group, version in (
            ("/apis/batch/v1/jobs?limit=500", "jobs", "batch", "v1"),
            ("/apis/batch/v1beta1/cronjobs?limit=500", "cronjobs", "batch", "v1beta1"),
        ):
            target = Target("list", uri, resource, version, group, objects=200)
            w.add([_series(cronjob, target)], Periodic(10.0, 0.05), poller=True)

        namespaces = sorted({p.namespace for n in self.cluster.nodes for p in n.pods})
        endpoints = controller("endpoint-controller")
        replicasets = controller("replicaset-controller")
        deployments = controller("deployment-controller")
        per_ns = []
        for ns in namespaces:
            per_ns += [
                _series(
                    endpoints,
                    Target(
                        "update",
                        f"/api/v1/namespaces/{ns}/endpoints/{ns}-svc",
                        "endpoints",
                        namespace=ns,
                        name=f"{ns}-svc",
                    ),
                ),
                _series(
                    replicasets,
                    Target(
                        "update",
                        f"/apis/apps/v1/namespaces/{ns}/replicasets/{ns}-rs/status",
                        "replicasets",
                        "v1",
                        "apps",
                        ns,
                        f"{ns}-rs",
                        "status",
                    ),
                ),
                _series(
                    deployments,
                    Target(
                        "update",
                        f"/apis/apps/v1/namespaces/{ns}/deployments/{ns}-app/status",
                        "deployments",
                        "v1",
                        "apps",
                        ns,
                        f"{ns}-app",
                        "status",
                    ),
                ),
            ]
        w.add(per_ns, Poisson((0.05,) * len(per_ns)))

        informers = plane(
            kcm_user,
            f"{KCM_UA}/shared-informers",
            "kube-controller-manager",
            _rbac("system:kube-controller-manager", 'User "system:kube-controller-manager"'),
        )
        sched = plane(
            sched_user,
            f"{SCHEDULER_UA}/scheduler",
            "kube-scheduler",
            _rbac("system:kube-scheduler", 'User "system:kube-scheduler"'),
        )
        watches = [
            _series(informers, Target("watch", f"/api/v1/{r}?", r))
            for r in ("pods", "nodes", "services", "endpoints", "namespaces", "secrets")
        ] + [
            _series(sched, Target("watch", f"/api/v1/{r}?", r))
            for r in ("pods", "nodes", "persistentvolumeclaims")
        ]
        w.add(watches, WatchChain(300.0, 600.0))
        bindings = [
            _series(
                sched,
                Target(
                    "create",
                    f"/api/v1/namespaces/{p.namespace}/pods/{p.name}/binding",
                    "pods",
                    namespace=p.namespace,
                    name=p.name,
                    subresource="binding",
                ),
            )
            for n in self.cluster.nodes[:20]
            for p in n.pods[:3]
        ]
        w.add(bindings, Poisson((1 / 600,) * len(bindings)))

        username, groups, uid = _sa("kube-system", "coredns", rng)
        coredns = [
            Identity(
                username,
                groups,
                "coredns/v0.0.0 (linux/amd64) kubernetes/$Format",
                f"10.0.{64 + k}.{20 + k}",
                uid,
                _pod_extra(None, f"coredns-5f8f6f7bbc-{random_suffix(rng)}"),
                _rbac("system:coredns", 'ServiceAccount "coredns/kube-system"'),
                "workload-high",
                "kube-system-service-accounts",
            )
            for k in range(2)
        ]
        w.add(
            [
                _series(ident, Target("watch", f"/api/v1/{r}?", r))
                for ident in coredns
                for r in ("services", "endpoints", "namespaces")
            ],
            WatchChain(300.0, 600.0),
        )

    def people_and_ci(self) -> None:
        rng, w = self.rng, self.workload
        laptop = f"kubectl/{K8S_VERSION} (darwin/amd64) kubernetes/{K8S_COMMIT}"
        people: list[tuple[str, tuple[str, ...], str]] = [
            ("alice", ("civis:developers", AUTHENTICATED), "73.162.41.8"),
            ("bob", ("civis:developers", AUTHENTICATED), "73.162.41.8"),
            ("kubernetes-admin", ("system:masters", AUTHENTICATED), "54.202.17.93"),
        ]
        series = []
        for name, groups, ip in people:
            admin = "system:masters" in groups
            ident = Identity(
                name,
                groups,
                laptop,
                ip,
                authz_reason=_rbac(
                    "cluster-admin" if admin else "civis:developers",
                    f'Group "{groups[0]}"',
                ),
                apf_priority_level="exempt" if admin else "global-default",
                apf_flow_schema="exempt" if admin else "global-default",
            )
            for ns in ("platform", "notebooks", "scripts"):
                series += [
                    _series(
                        ident,
                        Target(
                            "list",
                            f"/api/v1/namespaces/{ns}/pods?limit=500",
                            "pods",
                            namespace=ns,
                            objects=60,
                        ),
                    ),
                    _series(
                        ident,
                        Target(
                            "list",
                            f"/apis/apps/v1/namespaces/{ns}/deployments?limit=500",
                            "deployments",
                            "v1",
                            "apps",
                            ns,
                            objects=20,
                        ),
                    ),
                ]
            series.append(
                _series(
                    ident,
                    Target(
                        "list", "/api/v1/nodes?limit=500", "nodes", objects=len(self.cluster.nodes)
                    ),
                )
            )
        w.add(series, Poisson((1 / 120,) * len(series)))

        username, groups, uid = _sa("ci", "jenkins", rng)
        jenkins = Identity(
            username,
            groups,
            f"kubectl/{K8S_VERSION} (linux/amd64) kubernetes/{K8S_COMMIT}",
            "10.0.70.15",
            uid,
            _pod_extra(None, "jenkins-0"),
            _rbac("ci:deployer", 'ServiceAccount "jenkins/ci"'),
        )
        deploys = []
        for ns in ("platform", "services", "workflows"):
            for verb in ("get", "patch"):
                deploys.append(
                    _series(
                        jenkins,
                        Target(
                            verb,
                            f"/apis/apps/v1/namespaces/{ns}/deployments/{ns}-app",
                            "deployments",
                            "v1",
                            "apps",
                            ns,
                            f"{ns}-app",
                        ),
                    )
                )
        w.add(deploys, Poisson((1 / 300,) * len(deploys)))

        username, groups, uid = _sa("ci", "deploy-bot", rng)
        bot = Identity(
            username,
            groups,
            "python-requests/2.21.0",
            "10.0.70.16",
            uid,
            _pod_extra(None, f"deploy-bot-6d9c5b7f4-{random_suffix(rng)}"),
        )
        w.add(
            [
                _series(bot, Target("list", "/api/v1/nodes", "nodes"), denied=True),
                _series(
                    bot,
                    Target(
                        "get",
                        "/api/v1/namespaces/kube-system/secrets/aws-creds",
                        "secrets",
                        namespace="kube-system",
                        name="aws-creds",
                    ),
                    denied=True,
                ),
            ],
            Poisson((1 / 60, 1 / 180)),
        )

    def datadog(self) -> None:
        username, groups, uid = _sa("datadog", "datadog-agent", self.rng)
        ua = "datadog-agent/6.10.1 (linux/amd64) kubernetes/$Format"
        reason = _rbac("datadog-agent", 'ServiceAccount "datadog-agent/datadog"')
        services, nodes = [], []
        for n in self.cluster.nodes:
            ident = Identity(
                username, groups, ua, n.datadog_ip, uid, _pod_extra(n, n.datadog_pod), reason
            )
            services.append(
                _series(
                    ident,
                    Target("list", "/api/v1/services", "services", objects=self.cluster.services),
                )
            )
            nodes.append(
                _series(ident, Target("get", f"/api/v1/nodes/{n.name}", "nodes", name=n.name))
            )
        self.workload.add(services, Periodic(15.0, 1.0), poller=True)
        self.workload.add(nodes, Periodic(15.0, 1.0), poller=True)

    def kube2iam(self, storms: int) -> None:
        username, groups, uid = _sa("kube-system", "kube2iam", self.rng)
        ua = "kube2iam/v0.0.0 (linux/amd64) kubernetes/$Format"
        reason = _rbac("kube2iam", 'ServiceAccount "kube2iam/kube-system"')
        idents = [
            Identity(username, groups, ua, n.ip, uid, _pod_extra(n, n.kube2iam_pod), reason)
            for n in self.cluster.nodes
        ]
        relists = self.workload.add_passive(
            [
                _series(i, Target("list", "/api/v1/pods", "pods", objects=self.cluster.pods))
                for i in idents
            ]
        )
        storm_at = tuple(self.duration_s * (k + 1) / (storms + 1) for k in range(storms))
        self.workload.add(
            [_series(i, Target("watch", "/api/v1/pods?", "pods")) for i in idents],
            WatchChain(300.0, 600.0, tuple(relists), storm_at),
        )

    def fluentd(self) -> None:
        username, groups, uid = _sa("logging", "fluentd", self.rng)
        ua = "rest-client/2.0.2 (linux-gnu x86_64) ruby/2.5.1p57"
        reason = _rbac("fluentd", 'ServiceAccount "fluentd/logging"')
        series, rates = [], []
        for n in self.cluster.nodes:
            ident = Identity(
                username, groups, ua, n.fluentd_ip, uid, _pod_extra(n, n.fluentd_pod), reason
            )
            for pod in n.pods:
                ns = pod.namespace
                series.append(
                    _series(
                        ident,
                        Target(
                            "get",
                            f"/api/v1/namespaces/{ns}/pods/{pod.name}",
                            "pods",
                            namespace=ns,
                            name=pod.name,
                        ),
                    )
                )
                # RequestInfo reports a namespace's own name as its namespace too
                series.append(
                    _series(
                        ident,
                        Target(
                            "get", f"/api/v1/namespaces/{ns}", "namespaces", namespace=ns, name=ns
                        ),
                    )
                )
                # cache misses grow with the pod's log volume
                rates += [0.0015 * pod.log_weight, 0.0005 * pod.log_weight]
        self.workload.add(series, Poisson(tuple(rates)))

    def operator(self) -> None:
        username, groups, uid = _sa("redis-operator", "redis-operator", self.rng)
        ident = Identity(
            username,
            groups,
            "redis-operator/v0.0.0 (linux/amd64) kubernetes/$Format",
            "10.0.71.40",
            uid,
            _pod_extra(None, f"redis-operator-7d4b9c8f6-{random_suffix(self.rng)}"),
            _rbac("redis-operator", 'ServiceAccount "redis-operator/redis-operator"'),
        )
        uri = "/api/v1/namespaces/redis-operator/configmaps/redis-operator-lock"
        target = Target(
            "get", uri, "configmaps", namespace="redis-operator", name="redis-operator-lock"
        )
        self.workload.add([_series(ident, target)], Periodic(1.0, 0.01), poller=True)


def build_workload(
    spec: ScenarioSpec, nodes: int, duration_s: float, rng: np.random.Generator
) -> tuple[Cluster, Workload]:
    """The cluster and every series a scenario plants, drawn from ``rng``."""
    cluster = build_cluster(rng, nodes, spec.pods_per_node, spec.services_per_node)
    builder = _Builder(cluster, rng, duration_s)
    builder.kubelets()
    builder.kube_proxies()
    builder.control_plane()
    builder.people_and_ci()
    builder.fluentd()
    builder.kube2iam(spec.kube2iam_storms)
    if spec.offenders:
        builder.datadog()
        builder.operator()
    return cluster, builder.workload
