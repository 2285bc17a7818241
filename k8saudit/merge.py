"""The SQL that turns a run's staged events into one row per request.

``sql/merge_requests.sql`` joins the best audit row of each request with its best access-log row;
which side wins is a per-column rule, so the select list is generated here from
``schema.REQUEST_SCHEMA`` (never from input data) to stay in step with the schema.
"""

from __future__ import annotations

from functools import cache

from k8saudit.schema import REQUEST_COLUMNS
from k8saudit.sqlfiles import internal_sql

#: columns only an access log states: the access-log value wins over the audit one
ACCESS_FIRST = frozenset(
    {
        "apf_priority_level",
        "apf_flow_schema",
        "apf_initial_seats",
        "apf_final_seats",
        "apf_additional_latency_ms",
        "apf_execution_ms",
    }
)
#: columns the merge query computes itself
COMPUTED = frozenset({"request_key", "stage", "is_complete", "has_audit", "has_access"})


#: the valid raw rows an ingest run staged (see readers.Stager)
STAGED_EVENTS = "SELECT * EXCLUDE (_status, _reject_text, _batch) FROM staged WHERE _status = 'ok'"
#: rows of the day bound as ``$day`` (NULL: requests without a timestamp)
DAY_FILTER = "day IS NOT DISTINCT FROM $day"
#: rows that can belong to a request of day ``$day``: its events may straddle midnight
NEAR_DAY = (
    "(received_at IS NULL AND $day IS NULL) OR received_at::DATE BETWEEN $day - 1 AND $day + 1"
)


@cache
def run_requests_sql(simple: bool) -> str:
    """The requests of one run, from the ``staged`` table (simple: of day ``$day`` only).

    Yields REQUEST columns plus ``day``. ``simple`` (see ``sql/run_is_simple.sql``) picks the
    cheap path: keep each request's latest audit event, then derive columns for those rows only;
    all stages of a request share its received time, so the day filter applies to the events.
    Otherwise all events are derived and merged by ``merge_sql`` (an audit event and its
    access-log line meet on their audit-ID whatever dates they carry: klog lines often have to
    guess their year), and the caller materializes that once before writing day by day.
    """
    derive = internal_sql("derive")
    if simple:
        columns = ", ".join(f'"{c}"' for c in REQUEST_COLUMNS)
        events = f"{STAGED_EVENTS} AND received_at::DATE IS NOT DISTINCT FROM $day"
        return (
            f"WITH events AS ({events}), raw AS ({internal_sql('latest_stage')}) "
            f"SELECT {columns}, received_at::DATE AS day FROM ({derive})"
        )
    return f"WITH raw AS ({STAGED_EVENTS}), rows AS ({derive}) {merge_sql()}"


@cache
def merge_sql() -> str:
    """``merge_requests.sql`` over relation ``rows``, yielding REQUEST columns plus ``day``."""
    merged = []
    for column in REQUEST_COLUMNS:
        if column in COMPUTED:
            continue
        first, second = ("x", "a") if column in ACCESS_FIRST else ("a", "x")
        merged.append(f'coalesce({first}."{column}", {second}."{column}") AS "{column}"')
    body = internal_sql("merge_requests").replace("/*MERGED_COLUMNS*/", ",\n        ".join(merged))
    columns = ", ".join(f'"{c}"' for c in REQUEST_COLUMNS)
    return f"SELECT {columns}, day FROM ({body})"
