"""The simulated cluster's inventory: nodes, their IPs, pods and namespaces.

Generated logs look real only if names and addresses do: EC2 node names that match their IPs, VPC
pod IPs distinct from node IPs, pod names with ReplicaSet hashes and DaemonSet suffixes. All of it
comes from the run's random generator, so the same seed gives the same cluster.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Kubernetes' generateName alphabet (no vowels, no confusable digits)
_NAME_ALPHABET = np.array(list("bcdfghjklmnpqrstvwxz2456789"))
_HASH_ALPHABET = np.array(list("0123456789bcdfghjklmnpqrstvwxz"))

WORKLOAD_NAMESPACES = (
    "platform",
    "notebooks",
    "scripts",
    "reports",
    "services",
    "workflows",
    "imports",
    "exports",
    "models",
    "default",
)
APPS = (
    "api",
    "worker",
    "scheduler",
    "notebook",
    "script-runner",
    "report-server",
    "queue",
    "importer",
    "model-server",
    "web",
)


@dataclass(frozen=True)
class Pod:
    """A workload pod: where it runs and how much it logs (drives fluentd's lookups)."""

    namespace: str
    name: str
    log_weight: float


@dataclass(frozen=True)
class Node:
    """A worker node, its kubelet identity and the DaemonSet pods running on it."""

    name: str
    ip: str
    datadog_pod: str
    datadog_ip: str
    kube2iam_pod: str
    fluentd_pod: str
    fluentd_ip: str
    kube_proxy_pod: str
    pods: tuple[Pod, ...]


@dataclass(frozen=True)
class Cluster:
    """Every node of the simulated cluster plus cluster-wide object counts."""

    nodes: tuple[Node, ...]
    services: int

    @property
    def pods(self) -> int:
        # workload pods plus the four DaemonSet pods per node
        return sum(len(n.pods) + 4 for n in self.nodes)


def random_suffix(rng: np.random.Generator, length: int = 5) -> str:
    """A generateName-style suffix such as ``'x7k2q'``."""
    return "".join(rng.choice(_NAME_ALPHABET, size=length))


def _replicaset_hash(rng: np.random.Generator) -> str:
    return "".join(rng.choice(_HASH_ALPHABET, size=10))


def _unique_ips(rng: np.random.Generator, count: int, taken: set[int]) -> list[str]:
    """``count`` distinct addresses in 10.0.0.0/18 (third octet 0-63), avoiding ``taken``."""
    out: list[str] = []
    while len(out) < count:
        value = int(rng.integers(64 * 256))
        if value in taken or value % 256 in (0, 255):
            continue
        taken.add(value)
        out.append(f"10.0.{value // 256}.{value % 256}")
    return out


def build_cluster(
    rng: np.random.Generator, nodes: int, pods_per_node: int, services_per_node: int
) -> Cluster:
    """A cluster of ``nodes`` EC2 workers, e.g. node ``ip-10-0-3-17.ec2.internal``."""
    taken: set[int] = set()
    node_ips = _unique_ips(rng, nodes, taken)
    pod_ips = _unique_ips(rng, 2 * nodes, taken)
    deployments = [
        (str(rng.choice(WORKLOAD_NAMESPACES)), f"{app}-{i}", _replicaset_hash(rng))
        for i, app in enumerate(np.resize(np.array(APPS), max(nodes // 2, 10)))
    ]
    built = []
    for i, ip in enumerate(node_ips):
        pods = []
        for _ in range(pods_per_node):
            namespace, deployment, rs_hash = deployments[int(rng.integers(len(deployments)))]
            name = f"{deployment}-{rs_hash}-{random_suffix(rng)}"
            pods.append(Pod(namespace, name, float(rng.lognormal(0.0, 1.0))))
        built.append(
            Node(
                name=f"ip-{ip.replace('.', '-')}.ec2.internal",
                ip=ip,
                datadog_pod=f"datadog-agent-{random_suffix(rng)}",
                datadog_ip=pod_ips[2 * i],
                kube2iam_pod=f"kube2iam-{random_suffix(rng)}",
                fluentd_pod=f"fluentd-{random_suffix(rng)}",
                fluentd_ip=pod_ips[2 * i + 1],
                kube_proxy_pod=f"kube-proxy-{random_suffix(rng)}",
                pods=tuple(pods),
            )
        )
    return Cluster(tuple(built), services=services_per_node * nodes)
