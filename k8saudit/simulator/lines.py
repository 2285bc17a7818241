"""Audit-event and access-log lines for a whole batch of requests in one polars expression.

Per-series fragments (rendered once) are gathered by series index, per-request values (audit ID,
timestamps, watch parameters, latency) come from vectorized columns, and ``pl.concat_str`` glues a
batch of lines together; the result's Arrow data buffer is exactly the bytes of the file.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from .fragments import STATUS_FRAGMENTS, AccessFragments, AuditFragments
from .textcols import go_duration, klog_header_time, rfc3339_micro

STAGES = ("RequestReceived", "ResponseStarted", "ResponseComplete")
RECEIVED, STARTED, COMPLETE = 0, 1, 2
EVENT_OPEN = '{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"'
KLOG_SOURCE = '       1 httplog.go:132] "HTTP" '
# status fragment table: 0 = none (RequestReceived), then one per status code
STATUS_CODES = (200, 201, 429, 500, 504)


@dataclass(frozen=True)
class RequestColumns:
    """Per-request values of one API server's requests, aligned by request index."""

    series: np.ndarray  # int32
    received_us: np.ndarray  # int64
    latency_us: np.ndarray  # int64
    code: np.ndarray  # int16
    audit_id: pl.Series
    watch_params_audit: pl.Series  # JSON-escaped watch query parameters ('' if not a watch)
    watch_params_plain: pl.Series


def status_index(code: np.ndarray) -> np.ndarray:
    """Index into the status fragment table for each code (403s use the series' own)."""
    lookup = np.zeros(600, dtype=np.int32)
    for i, c in enumerate(STATUS_CODES):
        lookup[c] = i + 1
    return lookup[code]


def render_audit_batch(
    req: RequestColumns,
    frag: AuditFragments,
    event_request: np.ndarray,
    event_stage: np.ndarray,
    event_us: np.ndarray,
    start: dt.datetime,
) -> pl.Series:
    """Audit lines (each ending in a newline) for a batch of events, in the given order."""
    series = req.series[event_request]
    code = np.where(event_stage == STARTED, 200, req.code[event_request])
    status = np.where(event_stage == RECEIVED, 0, status_index(code))
    forbidden = code == 403
    status_table = pl.Series(["", *(STATUS_FRAGMENTS[c] for c in STATUS_CODES)])
    # authorization runs after the max-inflight filter and after RequestReceived is logged
    annotated = (event_stage != RECEIVED) & (code != 429)
    frame = pl.DataFrame(
        {
            "aid": req.audit_id.gather(event_request),
            "stage": pl.Series(STAGES).gather(event_stage),
            "head": pl.Series(frag.uri_head).gather(series),
            "params": req.watch_params_audit.gather(event_request),
            "middle": pl.Series(frag.middle).gather(series),
            "status": status_table.gather(status),
            "forbidden": pl.Series(frag.forbidden).gather(series),
            "forbid": forbidden,
            "received": rfc3339_micro(req.received_us[event_request], start),
            "stage_at": rfc3339_micro(event_us, start),
            "annotations": pl.Series(frag.annotations).gather(series),
            "annotated": annotated,
        }
    )
    return frame.select(
        pl.concat_str(
            pl.lit(EVENT_OPEN),
            pl.col("aid"),
            pl.lit('","stage":"'),
            pl.col("stage"),
            pl.lit('","requestURI":"'),
            pl.col("head"),
            pl.col("params"),
            pl.col("middle"),
            pl.when(pl.col("forbid")).then(pl.col("forbidden")).otherwise(pl.col("status")),
            pl.lit(',"requestReceivedTimestamp":"'),
            pl.col("received"),
            pl.lit('","stageTimestamp":"'),
            pl.col("stage_at"),
            pl.lit('"'),
            pl.when(pl.col("annotated")).then(pl.col("annotations")).otherwise(pl.lit("")),
            pl.lit("}\n"),
        )
    ).to_series()


def render_access_batch(
    req: RequestColumns,
    frag: AccessFragments,
    requests: np.ndarray,
    execution_us: np.ndarray,
    start: dt.datetime,
) -> pl.Series:
    """httplog lines for completed requests (in the given order), logged at completion."""
    series = req.series[requests]
    code = req.code[requests]
    frame = pl.DataFrame(
        {
            "at": klog_header_time(req.received_us[requests] + req.latency_us[requests], start),
            "head": pl.Series(frag.head).gather(series),
            "params": req.watch_params_plain.gather(requests),
            "latency": req.latency_us[requests],
            "identity": pl.Series(frag.identity).gather(series),
            "aid": req.audit_id.gather(requests),
            "source": pl.Series(frag.source).gather(series),
            "apf": pl.Series(frag.apf).gather(series),
            "execution": execution_us,
            "throttled": code == 429,
            "code": code,
        }
    )
    apf = pl.concat_str(pl.col("apf"), go_duration(pl.col("execution")), pl.lit('"'))
    return frame.select(
        pl.concat_str(
            pl.lit("I"),
            pl.col("at"),
            pl.lit(KLOG_SOURCE),
            pl.col("head"),
            pl.col("params"),
            pl.lit('" latency="'),
            go_duration(pl.col("latency")),
            pl.col("identity"),
            pl.col("aid"),
            pl.col("source"),
            # the max-inflight filter rejects before API priority and fairness sees the request
            pl.when(pl.col("throttled")).then(pl.lit("")).otherwise(apf),
            pl.lit(" resp="),
            pl.col("code").cast(pl.Utf8),
            pl.lit("\n"),
        )
    ).to_series()
