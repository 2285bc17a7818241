"""The well-known offenders of API servers, and the remedy of each cost class: the table
``diagnose`` matches its findings against.

Each entry was written by this project from the offenders' own documentation and the incident
reports DESIGN.md names; a finding quotes its remedy only when the numbers show the pattern (the
client, and the operation it repeats). Everything else gets the remedy of its cost class, which
follows from how kube-apiserver serves the request.
"""

from __future__ import annotations

import re
from typing import NamedTuple


class Offender(NamedTuple):
    """A client whose load pattern is known, how to tell it, and what fixes it."""

    name: str
    client: re.Pattern[str]  # matched against the `client` column
    operation: re.Pattern[str]  # matched against pollers' `operation` (VERB resource scope...)
    remedy: str


KNOWN_OFFENDERS: tuple[Offender, ...] = (
    Offender(
        "Datadog node agent metadata collection",
        re.compile(r"^datadog-agent\b"),
        re.compile(r"^(LIST|GET|WATCH) (services|endpoints|nodes|pods)\b"),
        "run the Datadog Cluster Agent, so that the node agents get cluster metadata from it "
        "instead of each asking the API server; one agent per node multiplies every request by "
        "the number of nodes",
    ),
    Offender(
        "kube2iam / kiam pod watches",
        re.compile(r"^(kube2iam|kiam)\b"),
        re.compile(r"^(LIST|WATCH) pods\b"),
        "every kube2iam agent lists and watches all pods of the cluster: use kiam's server mode "
        "(a few servers watch, the agents ask them) or IAM roles for service accounts",
    ),
    Offender(
        "fluentd kubernetes_metadata filter",
        re.compile(r"\(logging:fluentd\)|^fluent"),
        re.compile(r"^GET (pods|namespaces)\b"),
        "fluent-plugin-kubernetes_metadata_filter fetches metadata per log record when its "
        "cache misses: enable its watch and size its cache (cache_size, cache_ttl) above the "
        "pods of a node",
    ),
)

#: the remedy of each cost class of `pollers` (queries/pollers.sql)
CLASS_REMEDIES: dict[str, str] = {
    "cluster-wide LIST from etcd": "a cluster-wide LIST without resourceVersion=0 is a quorum "
    "read of every object from etcd: list with resourceVersion=0 (served from the watch cache) "
    "or, better, list once and watch (an informer)",
    "cluster-wide LIST from watch cache": "each LIST still copies and serialises every object: "
    "list once and watch (an informer), or narrow it with a selector",
    "cluster-wide WATCH": "one watch per client is cheap; many relists per watch are not: look "
    "for watches that time out or break (lists_per_watch)",
    "selector-scoped WATCH": "cheap to serve; watches restarting this often suggest timeouts or "
    "broken connections between client and API server",
    "hot loop on one object": "a controller re-reads one object every second or two: requeue "
    "with backoff, or watch it instead of polling",
    "namespaced LIST": "list once and watch (an informer) instead of polling",
    "namespaced WATCH": "watches restarting this often suggest timeouts or broken connections",
    "per-object": "poll less often, or watch the objects instead (an informer's cache)",
    "other": "poll less often",
}

#: what raising the limits does, said where seats ran out
SEATS_REMEDY = (
    "raising --max-requests-inflight moves the limit, not the load (in the incident this tool "
    "comes from, 400 -> 1200 did not stop the 429s): remove the load of the findings above "
    "first; `k8saudit inflight-peaks --without CLIENT` shows what that frees"
)


def known_offender(client: str, operation: str) -> Offender | None:
    """The known offender a series is, if any.

    >>> known_offender("datadog-agent", "LIST services cluster").name
    'Datadog node agent metadata collection'
    >>> known_offender("datadog-agent", "UPDATE leases object") is None
    True
    """
    for offender in KNOWN_OFFENDERS:
        if offender.client.search(client) and offender.operation.search(operation):
            return offender
    return None
