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
STAGED_EVENTS = "SELECT * EXCLUDE (_valid, _batch) FROM staged WHERE _valid"


@cache
def run_requests_sql(simple: bool) -> str:
    """The requests of one run, from the ``staged`` table: REQUEST columns plus ``day``.

    ``simple`` (see ``sql/run_is_simple.sql``) picks the cheap path: keep each request's latest
    audit event, then derive columns for those rows only. Otherwise every event is derived and
    merged by ``merge_sql``.
    """
    derive = internal_sql("derive")
    events = f"WITH events AS ({STAGED_EVENTS})"
    if simple:
        columns = ", ".join(f'"{c}"' for c in REQUEST_COLUMNS)
        return (
            f"{events}, raw AS ({internal_sql('latest_stage')}) "
            f"SELECT {columns}, received_at::DATE AS day FROM ({derive})"
        )
    return f"{events}, raw AS (SELECT * FROM events), rows AS ({derive}) {merge_sql()}"


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
