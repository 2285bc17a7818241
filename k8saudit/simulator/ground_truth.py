"""``ground_truth.json``: what the simulator planted, in the terms k8saudit's queries report.

Counts are of the requests the logs show: one per audit ID with a line in them, including requests
whose ResponseComplete falls after the window (unless only access logs were written: they log a
request when it completes) and, with ``warm_start``, the watches received before the window that
left a line in it (``started_before_window`` counts those). 429s are the requests whose logged
ResponseComplete says 429, sources are distinct source IPs, and client names follow the ingest's
normalization, so a test can compare query output with this file number for number. ``window``
(warm start only, so that the committed sample logs keep their bytes) is the simulated window and
the instants of the first and last line written: what an observation window should come out as.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from .arrivals import US, Arrivals
from .cluster import Cluster
from .load_model import Outcome, SeriesTraits, inflight_peak, select_requests
from .scenarios import ScenarioSpec
from .series import Periodic, WatchChain, Workload

INFLIGHT_DEFINITION = (
    "max over request arrivals t of #{non-long-running requests on one apiserver holding a "
    "max-inflight slot with received <= t < completed}; 429s and watches hold no slot"
)


def _clients(
    workload: Workload, arrivals: Arrivals, outcome: Outcome, window_us: int, warm_start: bool
) -> list[dict[str, Any]]:
    names = sorted({s.client for s in workload.series})
    index = {name: i for i, name in enumerate(names)}
    client_of_series = np.array([index[s.client] for s in workload.series])
    client = client_of_series[arrivals.series]
    complete = arrivals.received_us + outcome.latency_us < window_us
    requests = np.bincount(client, minlength=len(names))
    throttled = np.bincount(client[complete & (outcome.code == 429)], minlength=len(names))
    errors = np.bincount(client[complete & (outcome.code >= 500)], minlength=len(names))
    forbidden = np.bincount(client[complete & (outcome.code == 403)], minlength=len(names))
    before = np.bincount(client[arrivals.received_us < 0], minlength=len(names))
    sources: dict[str, set[str]] = defaultdict(set)
    for series_id in np.unique(arrivals.series).tolist():
        s = workload.series[series_id]
        sources[s.client].add(s.identity.source_ip)
    rows = [
        {
            "client": name,
            "requests": int(requests[i]),
            "throttled_429": int(throttled[i]),
            "errors_5xx": int(errors[i]),
            "forbidden_403": int(forbidden[i]),
            "sources": len(sources[name]),
        }
        | ({"started_before_window": int(before[i])} if warm_start else {})
        for i, name in enumerate(names)
        if requests[i]
    ]
    return sorted(rows, key=lambda r: (-r["requests"], r["client"]))


def _pollers(workload: Workload) -> list[dict[str, Any]]:
    planted: dict[tuple, dict[str, Any]] = {}

    def add(series_ids: tuple[int, ...], period_s: float, jitter_s: float) -> None:
        for i in series_ids:
            s = workload.series[i]
            key = (s.client, s.target.verb, s.target.resource, s.target.scope, period_s)
            entry = planted.setdefault(
                key,
                {
                    "client": s.client,
                    "_usernames": set(),
                    "verb": s.target.verb,
                    "resource": s.target.resource,
                    "subresource": s.target.subresource,
                    "scope": s.target.scope,
                    "request_uri": s.target.uri,
                    "period_s": period_s,
                    "jitter_s": jitter_s,
                    "_sources": set(),
                },
            )
            entry["_sources"].add(s.identity.source_ip)
            entry["_usernames"].add(s.identity.username)

    for family in workload.families:
        sched = family.schedule
        if family.poller and isinstance(sched, Periodic):
            add(family.series, sched.period_s, sched.jitter_s)
        elif isinstance(sched, WatchChain) and sched.relist:
            add(sched.relist, (sched.min_s + sched.max_s) / 2, (sched.max_s - sched.min_s) / 2)
    out = []
    for key in sorted(planted, key=lambda k: (k[0], k[1], k[2], k[3], k[4])):
        entry = planted[key]
        entry["sources"] = len(entry.pop("_sources"))
        usernames = sorted(entry.pop("_usernames"))
        # one username per node collapses the way the ingest groups node identities
        entry["username"] = usernames[0] if len(usernames) == 1 else "system:node:*"
        out.append(entry)
    return out


def _inflight(
    arrivals: Arrivals, traits: SeriesTraits, outcome: Outcome, apiservers: int
) -> dict[str, Any]:
    server = traits.apiserver[arrivals.series]
    mutating = traits.is_mutating[arrivals.series]
    by_server = {}
    for a in range(apiservers):
        peaks = {}
        for name, kind in (("readonly", ~mutating), ("mutating", mutating)):
            held = (server == a) & kind & outcome.holds_slot
            peaks[name] = inflight_peak(arrivals.received_us[held], outcome.latency_us[held])
        by_server[f"apiserver-{a + 1}"] = peaks
    return {
        "readonly": max(p["readonly"] for p in by_server.values()),
        "mutating": max(p["mutating"] for p in by_server.values()),
        "by_apiserver": by_server,
        "definition": INFLIGHT_DEFINITION,
    }


def ground_truth(
    spec: ScenarioSpec,
    parameters: dict[str, Any],
    cluster: Cluster,
    workload: Workload,
    arrivals: Arrivals,
    traits: SeriesTraits,
    outcome: Outcome,
    window_us: int,
    files: list[str],
    *,
    logged: np.ndarray | None = None,
    window: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON-ready ground truth of one run: of the requests ``logged`` selects (those with a
    line in a log; None: all), the in-flight peak of all; ``window`` given: a warm start."""
    inflight = _inflight(arrivals, traits, outcome, int(parameters["apiservers"]))
    if logged is not None and not logged.all():
        arrivals, outcome = select_requests(arrivals, outcome, logged)
    complete = arrivals.received_us + outcome.latency_us < window_us
    codes, counts = np.unique(outcome.code[complete], return_counts=True)
    watches = traits.is_watch[arrivals.series]
    warm_start = window is not None
    totals: dict[str, Any] = {
        "requests": len(arrivals.series),
        "complete": int(complete.sum()),
        "incomplete": int((~complete).sum()),
        "watches": int(watches.sum()),
    }
    if warm_start:
        totals["started_before_window"] = int((arrivals.received_us < 0).sum())
    totals |= {
        "throttled_429": int((complete & (outcome.code == 429)).sum()),
        "codes": {str(c): int(n) for c, n in zip(codes.tolist(), counts.tolist(), strict=True)},
        "requests_per_s": round(len(arrivals.series) / (window_us / US), 3),
    }
    return {
        "scenario": spec.name,
        "description": spec.description,
        "parameters": parameters,
        "cluster": {
            "nodes": len(cluster.nodes),
            "pods": cluster.pods,
            "services": cluster.services,
        },
        **({"window": window} if warm_start else {}),
        "totals": totals,
        "clients": _clients(workload, arrivals, outcome, window_us, warm_start),
        "pollers": _pollers(workload),
        "inflight_peak": inflight,
        "files": files,
    }
