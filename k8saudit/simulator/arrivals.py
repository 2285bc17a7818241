"""When each series sends its requests: schedules turned into arrays of arrival times.

Every family's schedule is drawn in one numpy operation over all its series (a matrix of ticks for
periodic pollers, Poisson counts for random traffic, cumulative sums of random timeouts for watch
chains), so a 1,000-node hour costs milliseconds. Times are integer microseconds from the start of
the window; requests received outside the window are dropped, except, with ``warm_start``, the
watches already open when it begins (a chain's first watch starts before t=0, as in a cluster that
was running before the log did): their receive times are negative.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .series import Family, Periodic, Poisson, WatchChain, Workload

US = 1_000_000
#: a watch ends up to this long after its timeout (the load model draws the tail)
WATCH_TAIL_US = 3_000


@dataclass
class Arrivals:
    """Requests in arrival order: series index, receive time and (for watches) the timeout."""

    series: np.ndarray  # int32
    received_us: np.ndarray  # int64
    watch_timeout_s: np.ndarray  # int32, 0 for requests that are not watches
    watch_cut_us: np.ndarray  # int64, >0 when a storm ends the watch early (its length)


def _periodic(family: Family, sched: Periodic, duration_us: int, rng: np.random.Generator):
    ids = np.asarray(family.series, dtype=np.int32)
    period = int(sched.period_s * US)
    ticks = duration_us // period + 2
    phase = rng.integers(0, period, size=len(ids))
    jitter = int(sched.jitter_s * US)
    times = phase[:, None] + np.arange(ticks, dtype=np.int64)[None, :] * period
    times = times + rng.integers(-jitter, jitter + 1, size=times.shape)
    return np.repeat(ids, ticks), times.ravel()


def _poisson(family: Family, sched: Poisson, duration_us: int, rng: np.random.Generator):
    ids = np.asarray(family.series, dtype=np.int32)
    counts = rng.poisson(np.asarray(sched.rate_per_s) * duration_us / US)
    return np.repeat(ids, counts), rng.integers(0, duration_us, size=int(counts.sum()))


def _chain_segment(
    begin: np.ndarray, end: np.ndarray, sched: WatchChain, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Watches from ``begin`` to ``end`` per series: (row, start, timeout_s, cut length).

    The watch still open at ``end`` is cut there (a broken connection); none starts after it.
    """
    per_chain = int(np.max(end - begin) / (sched.min_s * US)) + 2
    timeouts = rng.integers(int(sched.min_s), int(sched.max_s), size=(len(begin), per_chain))
    lengths = timeouts.astype(np.int64) * US + rng.integers(100, 3000, size=timeouts.shape)
    starts = begin[:, None] + np.cumsum(lengths, axis=1) - lengths
    keep = starts < end[:, None]
    crossing = keep & (starts + lengths > end[:, None])
    cut = np.where(crossing, end[:, None] - starts, 0)
    row = np.broadcast_to(np.arange(len(begin))[:, None], starts.shape)
    return row[keep], starts[keep], timeouts[keep].astype(np.int32), cut[keep]


def _watch_chain(
    family: Family, sched: WatchChain, duration_us: int, rng: np.random.Generator
) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """Watches back to back, plus the relist LIST before each reconnect when asked for."""
    ids = np.asarray(family.series, dtype=np.int32)
    begin = -rng.integers(0, int(sched.max_s * US), size=len(ids))
    rows, starts, timeouts, cuts = [], [], [], []
    for storm in (*sched.storm_at_s, None):
        if storm is None:
            end = np.full(len(ids), duration_us, dtype=np.int64)
        else:
            spread = rng.integers(0, int(sched.storm_spread_s * US), size=len(ids))
            end = int(storm * US) + spread
        row, start, timeout, cut = _chain_segment(begin, end, sched, rng)
        rows.append(row)
        starts.append(start)
        timeouts.append(timeout)
        cuts.append(cut)
        begin = end + rng.integers(50_000, 500_000, size=len(ids))
    positions = np.concatenate(rows)
    watch_series = ids[positions]
    watch_starts = np.concatenate(starts)
    series_out, start_out = [watch_series], [watch_starts]
    timeout_out, cut_out = [np.concatenate(timeouts)], [np.concatenate(cuts)]
    if sched.relist:
        relist_ids = np.asarray(sched.relist, dtype=np.int32)[positions]
        # the informer lists, then watches from the list's resourceVersion once it is decoded
        series_out.append(relist_ids)
        start_out.append(watch_starts - rng.integers(500_000, 2_000_000, size=len(watch_starts)))
        timeout_out.append(np.zeros(len(watch_starts), dtype=np.int32))
        cut_out.append(np.zeros(len(watch_starts), dtype=np.int64))
    return series_out, start_out, timeout_out, cut_out


def draw_arrivals(
    workload: Workload, duration_s: float, rng: np.random.Generator, *, warm_start: bool = False
) -> Arrivals:
    """Arrival times of every request in the window ``[0, duration_s)``, sorted; with
    ``warm_start`` also the watches received before it that may still be open at t=0 (the load
    model gives their exact length; only those that leave a line in the window reach the ground
    truth)."""
    duration_us = int(duration_s * US)
    series, received, timeouts, cuts = [], [], [], []
    for family in workload.families:
        sched = family.schedule
        if isinstance(sched, WatchChain):
            s, r, t, c = _watch_chain(family, sched, duration_us, rng)
            series += s
            received += r
            timeouts += t
            cuts += c
            continue
        if isinstance(sched, Periodic):
            s1, r1 = _periodic(family, sched, duration_us, rng)
        else:
            s1, r1 = _poisson(family, sched, duration_us, rng)
        series.append(s1)
        received.append(r1)
        timeouts.append(np.zeros(len(s1), dtype=np.int32))
        cuts.append(np.zeros(len(s1), dtype=np.int64))
    all_series = np.concatenate(series).astype(np.int32)
    all_received = np.concatenate(received).astype(np.int64)
    all_timeouts = np.concatenate(timeouts)
    all_cuts = np.concatenate(cuts)
    keep = (all_received >= 0) & (all_received < duration_us)
    if warm_start:
        # a watch lasts its timeout plus at most WATCH_TAIL_US, or exactly its cut
        timed = all_timeouts.astype(np.int64) * US + WATCH_TAIL_US
        longest = np.where(all_cuts > 0, all_cuts, timed)
        keep |= (all_timeouts > 0) & (all_received < 0) & (all_received + longest >= 0)
    order = np.lexsort((all_series[keep], all_received[keep]))
    return Arrivals(
        all_series[keep][order],
        all_received[keep][order],
        all_timeouts[keep][order],
        all_cuts[keep][order],
    )
