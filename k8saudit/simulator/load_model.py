"""How long each request takes and which ones the max-inflight filter rejects with 429.

Each API server is a processor with ``capacity`` busy cores. Work arriving per second (the base
latency of the requests that were admitted) sets its utilization ``u``; latency grows as
``1/(1 - u)`` and, once work arrives faster than it drains, a backlog adds queueing delay (mostly
to large LISTs). Requests hold an in-flight slot for their latency; when read-only or mutating
in-flight reaches its limit, new requests get 429 within microseconds, exactly as
``WithMaxInFlightLimit`` does (long-running requests are not counted; ``system:masters`` bypasses
the limit). Rejections shed load, so the model is solved twice: offered load first, then admitted
load.

Everything is integer microseconds; only the requests arriving while in-flight is at the limit
go through a Python loop.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

from .arrivals import US, WATCH_TAIL_US, Arrivals

REQUEST_TIMEOUT_US = 60 * US
MAX_UTILIZATION = 0.9


@dataclass(frozen=True)
class SeriesTraits:
    """Per-series arrays the load model needs (indexed by series)."""

    apiserver: np.ndarray  # int16
    is_watch: np.ndarray  # bool
    is_mutating: np.ndarray  # bool
    exempt: np.ndarray  # bool (system:masters)
    denied: np.ndarray  # bool (403)
    success_code: np.ndarray  # int (200, or 201 for create)
    median_us: np.ndarray  # float64, median base latency at no load


@dataclass
class Outcome:
    """What happened to each request (aligned with ``Arrivals``)."""

    latency_us: np.ndarray  # int64
    code: np.ndarray  # int16
    holds_slot: np.ndarray  # bool: counted against the in-flight limit


def select_requests(
    arrivals: Arrivals, outcome: Outcome, keep: np.ndarray
) -> tuple[Arrivals, Outcome]:
    """The requests ``keep`` (a mask) selects, in both tables."""
    return (
        Arrivals(
            arrivals.series[keep],
            arrivals.received_us[keep],
            arrivals.watch_timeout_s[keep],
            arrivals.watch_cut_us[keep],
        ),
        Outcome(outcome.latency_us[keep], outcome.code[keep], outcome.holds_slot[keep]),
    )


def _utilization_latency(
    received: np.ndarray, base: np.ndarray, weight: np.ndarray, capacity: float, bins: int
) -> np.ndarray:
    """Latency of admitted work under per-second utilization and backlog."""
    # a watch received before the window (warm start) adds no work: count it in the first second
    second = np.maximum(received, 0) // US
    work = np.bincount(second, weights=base / US, minlength=bins)[:bins]
    utilization = np.empty(bins)
    backlog = np.empty(bins)
    smooth, queued = 0.0, 0.0
    for b in range(bins):
        smooth += (work[b] / capacity - smooth) / 3.0
        queued = max(0.0, queued + work[b] - capacity)
        utilization[b] = smooth
        backlog[b] = queued / capacity
    stretch = 1.0 / (1.0 - np.minimum(utilization, MAX_UTILIZATION))
    return base * stretch[second] + backlog[second] * US * weight


def _reject(
    received: np.ndarray, latency: np.ndarray, exempt: np.ndarray, limit: int
) -> tuple[np.ndarray, np.ndarray]:
    """Requests refused (429) and requests served without a slot (exempt), for one pool.

    Admitted in-flight never exceeds offered in-flight, so only requests that arrive while the
    offered count is at the limit are checked one by one; a heap holds the would-be end times of
    requests already refused (they are in the offered count but not in the admitted one).
    """
    ends = received + latency
    offered = np.arange(len(received)) - np.searchsorted(np.sort(ends), received, side="right")
    rejected = np.zeros(len(received), dtype=bool)
    overflow = np.zeros(len(received), dtype=bool)
    refused_ends: list[int] = []
    for i in np.flatnonzero(offered >= limit).tolist():
        t = int(received[i])
        while refused_ends and refused_ends[0] <= t:
            heapq.heappop(refused_ends)
        if offered[i] - len(refused_ends) >= limit:
            heapq.heappush(refused_ends, int(ends[i]))
            if exempt[i]:
                overflow[i] = True
            else:
                rejected[i] = True
    return rejected, overflow


def run_load_model(
    arrivals: Arrivals,
    traits: SeriesTraits,
    *,
    apiservers: int,
    capacity_cores: float,
    max_inflight: int,
    max_mutating_inflight: int,
    duration_s: float,
    rng: np.random.Generator,
) -> Outcome:
    """Latency, status code and 429 decision of every request."""
    s = arrivals.series
    n = len(s)
    watch = traits.is_watch[s]
    base = traits.median_us[s] * rng.lognormal(0.0, 0.35, size=n)
    weight = np.clip(base / 100_000.0, 0.2, 1.0)
    latency = np.maximum(base, 50.0)
    rejected = np.zeros(n, dtype=bool)
    overflow = np.zeros(n, dtype=bool)
    bins = int(duration_s) + 1
    server = traits.apiserver[s]
    mutating = traits.is_mutating[s]
    limits = ((mutating, max_mutating_inflight), (~mutating, max_inflight))
    for _ in range(2):
        admitted_work = np.where(rejected | watch, 0.0, base)
        for a in range(apiservers):
            mine = server == a
            latency[mine] = _utilization_latency(
                arrivals.received_us[mine], admitted_work[mine], weight[mine], capacity_cores, bins
            )
        latency = np.maximum(np.rint(latency), 1).astype(np.int64)
        latency = np.minimum(latency, REQUEST_TIMEOUT_US + 4_000)
        for a in range(apiservers):
            for kind, limit in limits:
                pool = np.flatnonzero((server == a) & kind & ~watch)
                r, o = _reject(
                    arrivals.received_us[pool], latency[pool], traits.exempt[s][pool], limit
                )
                rejected[pool] = r
                overflow[pool] = o
        latency = latency.astype(np.float64)
    latency_us = latency.astype(np.int64)

    code = traits.success_code[s].astype(np.int16)
    timed_out = ~watch & (latency_us > REQUEST_TIMEOUT_US)
    code[timed_out] = 504
    code[~watch & (rng.random(n) < 0.0003) & ~timed_out] = 500
    code[traits.denied[s]] = 403
    latency_us[traits.denied[s]] = rng.integers(300, 1500, size=int(traits.denied[s].sum()))
    code[rejected] = 429
    latency_us[rejected] = rng.integers(40, 400, size=int(rejected.sum()))
    tail = rng.integers(100, WATCH_TAIL_US, n)
    watch_length = arrivals.watch_timeout_s.astype(np.int64) * US + tail
    watch_length = np.where(arrivals.watch_cut_us > 0, arrivals.watch_cut_us, watch_length)
    latency_us = np.where(watch, watch_length, latency_us)
    holds_slot = ~watch & ~rejected & ~overflow
    return Outcome(latency_us, code, holds_slot)


def inflight_peak(received: np.ndarray, latency: np.ndarray) -> int:
    """Most requests in flight at once: max over arrivals of #{received <= t < completed}.

    >>> inflight_peak(np.array([0, 1, 2]), np.array([10, 1, 5]))
    2
    """
    if len(received) == 0:
        return 0
    order = np.argsort(received, kind="stable")
    starts = received[order]
    ends = np.sort(starts + latency[order])
    started = np.searchsorted(starts, starts, side="right")
    ended = np.searchsorted(ends, starts, side="right")
    return int(np.max(started - ended))
