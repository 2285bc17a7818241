"""From a run's events to one row per request: the strategy, and one function for each.

The audit events of a run need no merge when they are *simple* (``sql/run_is_simple.sql``: the
usual case): each request is its one complete event, or else the event ``sql/pick.sql`` picks
(the latest stage of a request still open, one of the copies of a complete event). Those are
found from the events' keys alone, and only they are derived and written; files read in place
are read once more for exactly those rows (``Strategy.SIMPLE``). Access-log lines of such a run
are then merged with those requests (``Strategy.SIMPLE_WITH_ACCESS``). A run that is not simple
goes through the general merge of all its events (``Strategy.GENERAL``):
``sql/merge_requests.sql`` joins the best audit row of each request with its best access-log row;
which side wins is a per-column rule, so its select list is generated here from
``schema.REQUEST_SCHEMA`` (never from input data) to stay in step with the schema.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from functools import cache
from pathlib import Path

import duckdb

from k8saudit.exceptions import InputError, first_line
from k8saudit.formats import audit_json
from k8saudit.ingestion.parts import WrittenPart, write_days, write_materialized
from k8saudit.ingestion.staging import Stager
from k8saudit.io import Compression
from k8saudit.progress import MergeSteps
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


#: the valid raw rows an ingest run staged (see staging.Stager)
STAGED_EVENTS = "SELECT * EXCLUDE (_status, _reject_text, _batch) FROM staged WHERE _status = 'ok'"


def audit_rows(table: str = "staged") -> str:
    """The condition for staged rows that are audit events (not access-log lines)."""
    return f"{table}._status = 'ok' AND NOT starts_with({table}.log_format, 'httplog')"


#: staged rows that are access-log lines
ACCESS_ROWS = "_status = 'ok' AND starts_with(log_format, 'httplog')"
#: joins in the simple path are written build side last: the planner would otherwise build its
#: hash table from read_json, whose few-rows estimate hides millions of wide rows
FIXED_JOINS = "join_order,build_side_probe_side"


#: when the earliest open request of a file read in place that is not ResponseStarted was
#: received (``simple_requests_sql`` reads the events before it only when complete)
OPEN_FROM = (
    "SELECT min(received_at) FROM picks "
    "WHERE _direct IS NOT NULL AND _slot NOT IN ('', 'ResponseStarted')"
)


def _complete(stage: str) -> str:
    return f"coalesce({stage}, 'ResponseComplete') IN ('ResponseComplete', 'Panic')"


def _event_day(alias: str) -> str:
    return f"{alias}.received_at::DATE IS NOT DISTINCT FROM $day"


#: the requests with more than one complete event (copies): picks says which one counts
COPIED = "SELECT request_key FROM key_summary WHERE completes > 1"
#: how many requests a simple run has: one per complete event of a request that has one, plus
#: one per pick
SIMPLE_REQUESTS = (
    f"SELECT (SELECT count(*) FROM run_keys AS k ANTI JOIN ({COPIED}) USING (request_key) "
    f"WHERE {_complete('k.stage')}) + (SELECT count(*) FROM picks)"
)


def run_shape_sql() -> list[str]:
    """Statements that create the temp tables ``key_summary`` and ``picks`` for this run, then
    one that says whether it is simple (``run_is_simple.sql``)."""
    candidates = (
        "WITH candidates AS ("
        "  SELECT request_key, stage, stage_at, received_at, source_file, source_line, _item,"
        "    NULL::INTEGER AS _direct"
        f"  FROM staged WHERE {audit_rows()}"
        "    AND request_key IN (FROM key_summary SELECT request_key)"
        "  UNION ALL"
        "  SELECT k.audit_id, k.stage, k.stage_at, k.received_at, f.display, k.source_line, 0,"
        "    k._batch"
        "  FROM direct_keys AS k JOIN direct_files AS f USING (_batch)"
        "  WHERE k.audit_id IN (FROM key_summary SELECT request_key)"
        ") "
    )
    return [
        "CREATE TEMP TABLE key_summary AS WITH keys AS (FROM run_keys) "
        + internal_sql("key_summary"),
        f"CREATE TEMP TABLE picks AS {candidates} SELECT * FROM ({internal_sql('pick')})",
        internal_sql("run_is_simple"),
    ]


@cache
def simple_requests_sql(staged: bool, direct: tuple[str, ...]) -> str:
    """The requests of day ``$day`` of a simple run (``run_is_simple.sql``), REQUEST columns
    plus ``day``: each request's one complete event, else its ``picks`` row (``sql/pick.sql``).

    ``staged``: take events from the ``staged`` table (the run staged some). ``direct``: read
    the files read in place that have events that day, of these compressions (``$paths_none``,
    ``$paths_gzip``...: ``Stager.direct_paths``), keeping the events ``sql/direct_events.sql``
    says are wanted; ``$open_from`` is ``OPEN_FROM``. All stages of a request share its
    received time, so filtering events by day filters requests by day.
    """
    events = []
    if staged:
        rows = "SELECT s.* EXCLUDE (_status, _reject_text, _batch) FROM staged AS s"
        audit = audit_rows("s")
        events += [
            f"{rows} ANTI JOIN ({COPIED}) USING (request_key)"
            f" WHERE {audit} AND {_complete('s.stage')} AND {_event_day('s')}",
            f"{rows} SEMI JOIN (SELECT * FROM picks WHERE _direct IS NULL) AS p"
            "  ON s.request_key = p.request_key AND s.source_file = p.source_file"
            "  AND s.source_line IS NOT DISTINCT FROM p.source_line AND s._item = p._item"
            f" WHERE {audit} AND {_event_day('s')}",
        ]
    if direct:
        sources = " UNION ALL ".join(
            f"SELECT * FROM ({audit_json.direct_audit_source(Compression(c))})" for c in direct
        )
        events.append(
            f"WITH src AS ({sources}), events AS ({internal_sql('audit_events')}) "
            f"SELECT * FROM ({internal_sql('direct_events')})"
        )
    union = " UNION ALL BY NAME ".join(f"SELECT * FROM ({e})" for e in events)
    columns = ", ".join(f'"{c}"' for c in REQUEST_COLUMNS)
    return (
        f"WITH raw AS ({union}) "
        f"SELECT {columns}, received_at::DATE AS day FROM ({internal_sql('derive')})"
    )


def access_merge_sql(audit_parts: bool) -> str:
    """The requests of a run whose audit events are simple but that has access-log lines:
    the audit requests already written (``$files``, when ``audit_parts``) merged by
    ``merge_sql`` with the derived access-log rows, REQUEST columns plus ``day``. An access
    line meets its audit request on the audit-ID whatever dates they carry (klog lines often
    have to guess their year); the caller materializes this once, then writes day by day."""
    columns = ", ".join(f'"{c}"' for c in REQUEST_COLUMNS)
    access = f"SELECT * EXCLUDE (_status, _reject_text, _batch) FROM staged WHERE {ACCESS_ROWS}"
    rows = f"SELECT {columns} FROM ({internal_sql('derive')})"
    if audit_parts:
        rows += (
            f" UNION ALL BY NAME SELECT {columns} FROM read_parquet($files, union_by_name = true)"
        )
    return f"WITH raw AS ({access}), rows AS ({rows}) {merge_sql()}"


def general_requests_sql() -> str:
    """The requests of one run that is not simple, from the ``staged`` table: REQUEST columns
    plus ``day``. All events are derived and merged by ``merge_sql`` (an audit event and its
    access-log line meet on their audit-ID whatever dates they carry: klog lines often have to
    guess their year); the caller materializes that once before writing day by day."""
    return f"WITH raw AS ({STAGED_EVENTS}), rows AS ({internal_sql('derive')}) {merge_sql()}"


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


class Strategy(Enum):
    """How a run's events become requests (see the module docstring)."""

    SIMPLE = "simple"
    SIMPLE_WITH_ACCESS = "simple with access logs"
    GENERAL = "general"


def choose_strategy(stager: Stager) -> Strategy:
    """The strategy this run's events allow; creates the temp tables ``key_summary`` and
    ``picks`` the simple strategies read."""
    con = stager.con
    *shape, is_simple = run_shape_sql()
    for statement in shape:
        con.execute(statement).fetchall()
    ((simple,),) = con.execute(is_simple).fetchall()
    if not simple:
        return Strategy.GENERAL
    return Strategy.SIMPLE_WITH_ACCESS if stager.has_access_lines() else Strategy.SIMPLE


def write_requests(
    strategy: Strategy, stager: Stager, steps: MergeSteps, work: Path, run_id: str
) -> list[WrittenPart]:
    """Write the run's requests by ``strategy`` into Parquet parts under ``work``, day by day."""
    return _WRITERS[strategy](stager, steps, work, run_id)


def _write_simple(
    stager: Stager, steps: MergeSteps, work: Path, run_id: str, out: str = "out"
) -> list[WrittenPart]:
    """Write the requests of a simple run (``simple_requests_sql``), day by day.

    Files read in place are read once more here: one that was rotated, truncated or removed
    since its keys were read would lose requests silently, so the rows written are checked
    against the keys' count and the run fails (nothing ingested) if they differ.
    """
    con = stager.con
    in_place = stager.in_place
    staged = stager.staged_audit_days()
    days = sorted(staged | in_place.days(), key=lambda d: (d is None, d))
    ((open_from,),) = con.execute(OPEN_FROM).fetchall()
    ((expected,),) = con.execute(SIMPLE_REQUESTS).fetchall()
    steps.add(len(days))
    parts = []
    con.execute("SET disabled_optimizers = $o", {"o": FIXED_JOINS}).fetchall()
    try:
        for day in days:
            paths = in_place.paths(day)
            query = simple_requests_sql(staged=day in staged, direct=tuple(sorted(paths)))
            params = {f"paths_{c}": p for c, p in paths.items()}
            if paths:
                params["open_from"] = open_from
            reads = sum(in_place.files[b].size for b in in_place.batches(day))
            parts += write_days(con, query, params, [day], work / out, run_id, steps, reads)
    except duckdb.IOException as exc:
        raise InputError(
            f"a log file went away while it was ingested ({first_line(exc)}); "
            "nothing was ingested: run again"
        ) from None
    finally:
        con.execute("RESET disabled_optimizers").fetchall()
    written = sum(p.entry.rows for p in parts)
    if written != expected:
        raise InputError(
            "a log file changed while it was ingested (rotated or truncated?): "
            f"{expected - written:,} of {expected:,} requests were gone when it was read again; "
            "nothing was ingested: run again"
        )
    return parts


def _write_simple_with_access(
    stager: Stager, steps: MergeSteps, work: Path, run_id: str
) -> list[WrittenPart]:
    """The audit requests first, as a simple run's, then their access-log lines joined to them."""
    audit_parts = _write_simple(stager, steps, work, run_id, out="audit")
    files = [str(p.file) for p in audit_parts]
    merged = access_merge_sql(audit_parts=bool(files))
    params = {"files": files} if files else {}
    return write_materialized(stager.con, steps, merged, params, work / "out", run_id)


def _write_general(stager: Stager, steps: MergeSteps, work: Path, run_id: str) -> list[WrittenPart]:
    """Every event of the run staged (files read in place too, read again), then merged."""
    in_place = stager.in_place
    steps.add(len(in_place.files))
    for direct in in_place.files.values():
        if direct.compression is Compression.NONE and not direct.blank:
            source, params = audit_json.plain_audit_source(), {}
        else:
            source = audit_json.audit_lines_source(direct.compression)
            params = {"schema": audit_json.event_schema(unwrapped=False)}
        with steps.step():
            stager.audit_events(source, {"path": direct.path, **params}, direct.display)
    in_place.clear()
    return write_materialized(stager.con, steps, general_requests_sql(), {}, work / "out", run_id)


_WRITERS: dict[Strategy, Callable[[Stager, MergeSteps, Path, str], list[WrittenPart]]] = {
    Strategy.SIMPLE: _write_simple,
    Strategy.SIMPLE_WITH_ACCESS: _write_simple_with_access,
    Strategy.GENERAL: _write_general,
}
