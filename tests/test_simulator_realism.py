"""The simulator writes logs that look like real ones to k8saudit (issue 4).

Numbers from simulated logs are only worth something if the simulated lines go through the same
parsers and come out with the same field shapes as lines real API servers wrote. So this ingests a
small simulated run and, separately, real third-party samples (plain audit v1 events with a user
agent, and old- and new-style access logs), and checks that every column real rows fill, the
simulated rows fill too, and that clients, scopes and verbs come out alike for the same kinds of
requests. Skips where the real samples (../shared/realdata) are absent.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import k8saudit
from k8saudit.dataset import Dataset
from k8saudit.simulator import simulate

#: real samples that are what kube-apiserver writes, unwrapped: audit v1 with userAgent, and
#: access logs (glog `wrap.go` lines from a GCE scale test, `httplog.go` lines with APF fields)
REAL_AUDIT = [
    "afcollins-kube-audit-log-tool/single-event.json",
    "googlecloudplatform-khi/oss__test-log.yaml",
]
REAL_ACCESS = [
    "mateuszmatejczyk-kubernetes-scale-apiserver-log/kube-apiserver.log",
    "k8s-issue-pastes/blog-configmap-qps_httplog132_cri-prefixed.log",
]

#: columns real rows fill that simulated rows of the same log kind may leave empty, and why
REAL_ONLY = {
    "label_selector": "the scenario plants no labelSelector LIST/WATCH; the scale test's e2e does",
    "field_selector": "the simulated fieldSelector requests are kubelet's secret watches, which "
    "outlive a 1-minute run, so no access line (written at completion) has one",
}
#: columns the simulator fills that the real samples here leave empty, and why (it covers more)
SIM_ONLY_AUDIT = {
    "pod_name": "user.extra pod name of bound service-account tokens; the real events are a "
    "node and a certificate identity",
    "apf_priority_level": "joined from the simulated access log; the real events come alone",
    "http_method": "joined from the simulated access log; the real events come alone",
    "limit_param": "simulated LISTs page with ?limit=; the real events are lease updates",
    "reason": "simulated 429/403 responses carry a status reason; the real events are all 200",
}


def _ingest(paths: list[Path], root: Path) -> Dataset:
    report = k8saudit.ingest(paths, dataset=root)
    assert report.rejected == 0 and report.requests_after > 0
    return k8saudit.open(root)


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    tmp = tmp_path_factory.mktemp("realism")
    simulate(tmp / "logs", nodes=10, duration="1m", format="both", seed=2, apiservers=1)
    return _ingest([tmp / "logs"], tmp / "ds")


@pytest.fixture
def real(realdata: Path, tmp_path: Path) -> Dataset:
    return _ingest([realdata / p for p in REAL_AUDIT + REAL_ACCESS], tmp_path / "ds")


def filled_columns(ds: Dataset, where: str) -> set[str]:
    """The columns of ``requests`` that are non-null in at least one row matching ``where``."""
    columns = ds.sql("SELECT * FROM requests LIMIT 0").columns
    counts = ", ".join(f'count("{c}") AS "{c}"' for c in columns)
    row = ds.sql(f"SELECT {counts} FROM requests WHERE {where}").row(0, named=True)
    return {name for name, count in row.items() if count}


def test_real_samples_are_the_kinds_we_meant(real: Dataset) -> None:
    kinds = set(real.sql("SELECT DISTINCT log_format FROM requests")["log_format"])
    assert kinds == {"audit-v1", "httplog-glog", "httplog-structured"}
    assert real.sql("SELECT count(*) FROM requests WHERE user_agent IS NULL").item() == 0


@pytest.mark.parametrize("kind", ["has_audit", "has_access"])
def test_simulated_rows_fill_every_column_real_rows_fill(
    kind: str, real: Dataset, simulated: Dataset
) -> None:
    real_columns = filled_columns(real, kind)
    sim_columns = filled_columns(simulated, kind)
    assert real_columns - sim_columns <= REAL_ONLY.keys(), "simulated rows miss real fields"
    assert {"client", "client_version", "source_ip", "latency_ms", "code"} <= real_columns


def test_the_simulator_fills_more_than_the_real_samples(real: Dataset, simulated: Dataset) -> None:
    extra = filled_columns(simulated, "has_audit") - filled_columns(real, "has_audit")
    assert SIM_ONLY_AUDIT.keys() <= extra


def _by_kind(ds: Dataset, key: str, value: str) -> dict[tuple, set[str]]:
    """The distinct values of ``value`` for each distinct ``key`` (a kind of request)."""
    frame = ds.sql(f"SELECT {key}, list(DISTINCT {value}) AS v FROM requests GROUP BY ALL")
    return {tuple(row[:-1]): set(row[-1]) for row in frame.iter_rows()}


def test_scopes_match_for_the_same_verb_and_resource(real: Dataset, simulated: Dataset) -> None:
    real_scopes = _by_kind(real, "verb, resource", "scope")
    sim_scopes = _by_kind(simulated, "verb, resource", "scope")
    common = real_scopes.keys() & sim_scopes.keys()
    assert len(common) >= 5, common  # get nodes, update leases, watch services...
    for kind in common:
        assert sim_scopes[kind] <= real_scopes[kind], kind
    every = set().union(*sim_scopes.values())
    assert every == {"cluster", "namespace", "object"}


def test_verbs_match_for_the_same_client_and_resource(real: Dataset, simulated: Dataset) -> None:
    key = "client, resource, coalesce(subresource, '')"
    real_verbs = _by_kind(real, key, "verb")
    sim_verbs = _by_kind(simulated, key, "verb")
    common = real_verbs.keys() & sim_verbs.keys()
    assert ("kubelet", "leases", "") in common and ("kube-proxy", "endpoints", "") in common
    for kind in common:
        assert sim_verbs[kind] <= real_verbs[kind], kind


def test_clients_have_the_shape_real_user_agents_give(real: Dataset, simulated: Dataset) -> None:
    # the UA's product (kubelet/v1.14.0 ... -> kubelet) -> the client names it became
    product = "split_part(user_agent, '/', 1)"
    real_clients = _by_kind(real, product, "client")
    sim_clients = _by_kind(simulated, product, "client")
    common = real_clients.keys() & sim_clients.keys()
    assert {("kubelet",), ("kube-proxy",), ("coredns",), ("kube-scheduler",)} <= common
    for kind in common:
        (name,) = kind
        shape = {(c.split("/")[0], "/" in c) for c in real_clients[kind]}
        assert {(c.split("/")[0], "/" in c) for c in sim_clients[kind]} == shape, name
    version = re.compile(r"^v?\d+\.\d+\.\d+")
    for ds in (real, simulated):
        versions = ds.sql("SELECT DISTINCT client_version FROM requests")["client_version"]
        assert all(v and version.match(v) for v in versions), versions.to_list()
