"""``simulate()``: plant a workload, run the load model, write the logs and the ground truth.

This is the one public entry point of the simulator; the CLI's ``k8saudit simulate`` calls it.
Everything random comes from one ``numpy.random.default_rng(seed)`` consumed in a fixed order, and
nothing depends on the clock, so the same arguments always give the same bytes.

A log never starts with the cluster: with ``warm_start`` the watches already open at t=0 are in it
the way kube-apiserver leaves them, only the lines written inside the window (their
ResponseComplete and access-log line, with a receive time before the window), and the ground truth
counts them as their client's requests and says how many there are.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from k8saudit.durations import EXAMPLES
from k8saudit.durations import parse_duration as parse_duration_text
from k8saudit.exceptions import UsageError

from .arrivals import US, draw_arrivals
from .fragments import AccessFragments, AuditFragments, access_fragments, audit_fragments
from .ground_truth import ground_truth
from .lines import (
    COMPLETE,
    RECEIVED,
    STARTED,
    RequestColumns,
    render_access_batch,
    render_audit_batch,
)
from .load_model import Outcome, SeriesTraits, run_load_model
from .scenarios import build_workload, get_scenario
from .series import Series
from .textcols import go_duration, random_uuids, rfc3339_micro
from .writers import RotatingLog, megabytes

FORMATS = ("audit", "access", "both")
BATCH_EVENTS = 200_000


@dataclass(frozen=True)
class SimulationResult:
    """What a run produced: its ground truth (also in ``ground_truth.json``) and its files."""

    ground_truth: dict[str, Any]
    files: list[Path]
    audit_bytes: int
    audit_events: int


def parse_duration(text: str | float) -> float:
    """Seconds in a duration such as ``'30m'``, ``'1h30m'``, ``'1.5h'``, ``'90s'`` or ``600``
    (the grammar of every duration option: ``k8saudit.durations``).

    >>> parse_duration("1h30m")
    5400.0
    """
    if isinstance(text, int | float):
        seconds = float(text)
    else:
        length = parse_duration_text(text)
        if length is None:
            raise UsageError(f"bad duration {text!r} for --duration", hint=f"use e.g. {EXAMPLES}")
        seconds = length.total_seconds()
    if not 10 <= seconds <= 7 * 86400:
        raise UsageError(f"duration {text!r} out of range", hint="between 10s and 168h")
    return seconds


def _base_latency_us(series: list[Series]) -> np.ndarray:
    """Median latency of each series' request on an idle API server."""
    out = np.empty(len(series))
    for i, s in enumerate(series):
        t = s.target
        if s.denied:
            out[i] = 1_000
        elif t.verb == "list":
            out[i] = 500 + 15 * t.objects if t.from_cache else 2_000 + 120 * t.objects
        elif t.verb == "get":
            out[i] = 800 if t.from_cache else 1_200
        elif t.verb == "create":
            out[i] = 6_000
        else:
            out[i] = 4_000
    return out


def _traits(series: list[Series], apiservers: int, rng: np.random.Generator) -> SeriesTraits:
    return SeriesTraits(
        apiserver=rng.integers(0, apiservers, size=len(series)).astype(np.int16),
        is_watch=np.array([s.target.verb == "watch" for s in series]),
        is_mutating=np.array([s.target.is_mutating for s in series]),
        exempt=np.array([s.identity.exempt_from_inflight_limit for s in series]),
        denied=np.array([s.denied for s in series]),
        success_code=np.array([201 if s.target.verb == "create" else 200 for s in series]),
        median_us=_base_latency_us(series),
    )


def _watch_params(received_us: np.ndarray, timeout_s: np.ndarray) -> tuple[pl.Series, pl.Series]:
    """client-go reflector watch parameters, sorted as url.Values.Encode sorts them."""
    frame = pl.DataFrame(
        {"rv": 21_000_000 + received_us // 27_000, "t": timeout_s.astype(np.int64)}
    )
    plain = frame.select(
        pl.when(pl.col("t") > 0)
        .then(
            pl.concat_str(
                pl.lit("resourceVersion="),
                pl.col("rv").cast(pl.Utf8),
                pl.lit("&timeout="),
                go_duration(pl.col("t") * US),
                pl.lit("&timeoutSeconds="),
                pl.col("t").cast(pl.Utf8),
                pl.lit("&watch=true"),
            )
        )
        .otherwise(pl.lit(""))
    ).to_series()
    return plain.str.replace_all("&", "\\u0026", literal=True), plain


@dataclass
class _Written:
    """What one API server's logs hold: files, audit bytes and events, which of its requests
    have a line in them, and the instants of the first and last line (None: no line)."""

    files: list[Path]
    audit_bytes: int
    audit_events: int
    logged: np.ndarray  # bool, aligned with the server's requests
    span: tuple[int, int] | None


def _write_apiserver(
    directory: Path,
    req: RequestColumns,
    fragments: AuditFragments,
    fragments_access: AccessFragments,
    *,
    fmt: str,
    compress: bool,
    max_bytes: int | None,
    window_us: int,
    start: dt.datetime,
    rng: np.random.Generator,
) -> _Written:
    """One API server's audit and/or access log, and what they hold.

    A line is written when its stage happens, so only stages inside the window are: a watch
    received before it (warm start) shows its ResponseComplete and access-log line alone, and
    one still open at the end shows nothing at all.
    """
    directory.mkdir(parents=True, exist_ok=True)
    n = len(req.series)
    complete_us = req.received_us + req.latency_us
    is_watch = req.watch_params_plain.str.len_bytes().to_numpy() > 0
    files: list[Path] = []
    audit_bytes = audit_events = 0
    line_us: list[np.ndarray] = []
    logged = np.zeros(n, dtype=bool)
    done = (complete_us >= 0) & (complete_us < window_us)
    if fmt in ("audit", "both"):
        received_stage = req.received_us + rng.integers(3, 40, size=n)
        started_stage = req.received_us + rng.integers(500, 3_000, size=n)
        index = np.arange(n)
        parts = [
            (index[m], np.full(int(m.sum()), stage), at[m])
            for stage, at, m in (
                (RECEIVED, received_stage, received_stage >= 0),
                (STARTED, started_stage, is_watch & (started_stage >= 0)),
                (COMPLETE, complete_us, done),
            )
        ]
        event_request = np.concatenate([p[0] for p in parts])
        event_stage = np.concatenate([p[1] for p in parts]).astype(np.int32)
        event_us = np.concatenate([p[2] for p in parts])
        logged[event_request] = True
        order = np.lexsort((event_stage, event_request, event_us))
        log = RotatingLog(
            directory, "audit.log", max_bytes=max_bytes, compress=compress, start=start
        )
        for begin in range(0, len(order), BATCH_EVENTS):
            batch = order[begin : begin + BATCH_EVENTS]
            lines = render_audit_batch(
                req, fragments, event_request[batch], event_stage[batch], event_us[batch], start
            )
            audit_bytes += int(lines.str.len_bytes().sum())
            log.write(lines, event_us[batch])
        audit_events = len(order)
        line_us.append(event_us)
        files += log.close()
    if fmt in ("access", "both"):
        logged |= done
        done = np.flatnonzero(done)
        done = done[np.argsort(complete_us[done], kind="stable")]
        watch_init = rng.integers(300, 3_000, size=n)
        working = (req.latency_us * rng.uniform(0.8, 0.98, size=n)).astype(np.int64)
        execution = np.where(is_watch, watch_init, working)
        log = RotatingLog(
            directory, "kube-apiserver.log", max_bytes=None, compress=compress, start=start
        )
        for begin in range(0, len(done), BATCH_EVENTS):
            batch = done[begin : begin + BATCH_EVENTS]
            lines = render_access_batch(req, fragments_access, batch, execution[batch], start)
            log.write(lines, complete_us[batch])
        line_us.append(complete_us[done])
        files += log.close()
    written = np.concatenate(line_us)
    span = (int(written.min()), int(written.max())) if len(written) else None
    return _Written(files, audit_bytes, audit_events, logged, span)


def _window(begin: dt.datetime, window_us: int, spans: list[tuple[int, int]]) -> dict[str, Any]:
    """The simulated window and the instants of the first and last line any log wrote (a few
    microseconds after the start, and up to a watch's ResponseStarted after the end)."""
    bounds = np.array(
        [0, window_us, min((s[0] for s in spans), default=0), max((s[1] for s in spans), default=0)]
    )
    start, end, first, last = rfc3339_micro(bounds, begin).to_list()
    return {
        "start": start,
        "end": end,
        "seconds": window_us / US,
        "first_line": first,
        "last_line": last,
    }


def simulate(
    out: str | Path,
    *,
    nodes: int = 300,
    duration: str | float = "30m",
    seed: int = 1,
    scenario: str = "civis-2019",
    format: str = "audit",
    gzip: bool = False,
    apiservers: int = 3,
    max_inflight: int = 400,
    max_mutating_inflight: int = 200,
    rotate_mb: float = 100.0,
    start: str = "2019-02-04T12:00:00Z",
    warm_start: bool = False,
) -> SimulationResult:
    """Write simulated kube-apiserver logs under ``out`` and return the ground truth.

    Logs go to ``out/apiserver-N/audit.log`` (size-rotated) and, with ``format='access'`` or
    ``'both'``, ``out/apiserver-N/kube-apiserver.log``; ``out/ground_truth.json`` holds what was
    planted. Example::

        result = simulate("logs", nodes=60, duration="10m", seed=1)
        result.ground_truth["clients"][0]["client"]  # 'datadog-agent'

    ``warm_start`` begins the log in a running cluster: the watches open at t=0 began before it
    (``ground_truth["totals"]["started_before_window"]``; ``ground_truth["window"]`` is the
    window). Off by default, so the committed ``sample_logs/`` keep their bytes.
    """
    spec = get_scenario(scenario)
    if format not in FORMATS:
        raise UsageError(f"unknown format {format!r}", hint="choose audit, access or both")
    if not 1 <= nodes <= 5000:
        raise UsageError(f"--nodes {nodes} out of range", hint="between 1 and 5000")
    if not 1 <= apiservers <= 20:
        raise UsageError(f"--apiservers {apiservers} out of range", hint="between 1 and 20")
    if max_inflight < 1 or max_mutating_inflight < 1:
        raise UsageError("in-flight limits must be at least 1")
    if rotate_mb <= 0:
        raise UsageError("--rotate-mb must be positive")
    try:
        begin = dt.datetime.fromisoformat(start.replace("Z", "+00:00")).astimezone(dt.UTC)
    except ValueError:
        raise UsageError(
            f"bad start time {start!r}", hint="use RFC 3339, e.g. 2019-02-04T12:00:00Z"
        ) from None
    duration_s = parse_duration(duration)
    root = Path(out)
    if root.exists() and any(root.iterdir()):
        raise UsageError(f"output directory {root} is not empty", hint="choose a new directory")

    rng = np.random.default_rng(seed)
    cluster, workload = build_workload(spec, nodes, duration_s, rng)
    arrivals = draw_arrivals(workload, duration_s, rng, warm_start=warm_start)
    traits = _traits(workload.series, apiservers, rng)
    outcome: Outcome = run_load_model(
        arrivals,
        traits,
        apiservers=apiservers,
        capacity_cores=spec.capacity_cores_per_100_nodes * nodes / 100,
        max_inflight=max_inflight,
        max_mutating_inflight=max_mutating_inflight,
        duration_s=duration_s,
        rng=rng,
    )
    audit_ids = random_uuids(rng, len(arrivals.series))
    params_audit, params_plain = _watch_params(arrivals.received_us, arrivals.watch_timeout_s)
    ports = rng.integers(32768, 61000, size=len(workload.series)).tolist()
    window_us = int(duration_s * US)
    files: list[Path] = []
    audit_bytes = audit_events = 0
    spans: list[tuple[int, int]] = []
    logged = np.zeros(len(arrivals.series), dtype=bool)
    server_of_request = traits.apiserver[arrivals.series]
    fragments = audit_fragments(workload.series)
    fragments_access = access_fragments(workload.series, ports)
    for a in range(apiservers):
        mine = np.flatnonzero(server_of_request == a)
        req = RequestColumns(
            series=arrivals.series[mine],
            received_us=arrivals.received_us[mine],
            latency_us=outcome.latency_us[mine],
            code=outcome.code[mine],
            audit_id=audit_ids.gather(mine),
            watch_params_audit=params_audit.gather(mine),
            watch_params_plain=params_plain.gather(mine),
        )
        written = _write_apiserver(
            root / f"apiserver-{a + 1}",
            req,
            fragments,
            fragments_access,
            fmt=format,
            compress=gzip,
            max_bytes=megabytes(rotate_mb),
            window_us=window_us,
            start=begin,
            rng=rng,
        )
        files += written.files
        audit_bytes += written.audit_bytes
        audit_events += written.audit_events
        logged[mine] = written.logged
        spans += [written.span] if written.span else []
    parameters = {
        "scenario": spec.name,
        "nodes": nodes,
        "duration_s": duration_s,
        "seed": seed,
        "apiservers": apiservers,
        "max_inflight": max_inflight,
        "max_mutating_inflight": max_mutating_inflight,
        "format": format,
        "gzip": gzip,
        "rotate_mb": float(rotate_mb),
        "start": begin.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    window = None
    if warm_start:
        # only with warm_start, so that sample_logs/ground_truth.json keeps its bytes
        parameters["warm_start"] = True
        window = _window(begin, window_us, spans)
    truth = ground_truth(
        spec,
        parameters,
        cluster,
        workload,
        arrivals,
        traits,
        outcome,
        window_us,
        [str(f.relative_to(root)) for f in files],
        logged=logged,
        window=window,
    )
    (root / "ground_truth.json").write_text(json.dumps(truth, indent=2) + "\n")
    return SimulationResult(truth, files, audit_bytes, audit_events)
