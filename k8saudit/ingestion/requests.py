"""From a run's events to one row per request: the strategy, and one function for each.

The audit events of a run need no merge when they are *simple* (``sql/run_is_simple.sql``: the
usual case): each request is its one complete event, or else the event ``sql/pick.sql`` picks
(the latest stage of a request still open, one of the copies of a complete event). Those are
found from the events' keys alone, and only they are derived and written; files read in place
are read once more for exactly those rows (``Strategy.SIMPLE``). Access-log lines of such a run
are then merged with those requests (``Strategy.SIMPLE_WITH_ACCESS``). A run of access-log lines
alone, each with a key of its own, has nothing to merge: each line is its request, derived and
written day by day straight from the staged rows (``Strategy.ACCESS_ONLY``). A run that is not
simple goes through the general merge of all its events (``Strategy.GENERAL``):
``sql/merge_requests.sql`` joins the best audit row of each request with its best access-log
row. An access line meets its audit request on the audit-ID whatever dates they carry (klog
lines often have to guess their year).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from pathlib import Path

import duckdb

from k8saudit.exceptions import InputError, first_line
from k8saudit.ingestion import audit_sources
from k8saudit.ingestion.parts import WrittenPart, write_days, write_materialized
from k8saudit.ingestion.staging import Stager
from k8saudit.io import Compression
from k8saudit.progress import MergeSteps
from k8saudit.sqlfiles import internal_sql, run_sql, union_all

#: joins in the simple path are written build side last: the planner would otherwise build its
#: hash table from read_json, whose few-rows estimate hides millions of wide rows
FIXED_JOINS = "join_order,build_side_probe_side"


class Strategy(Enum):
    """How a run's events become requests (see the module docstring)."""

    SIMPLE = "simple"
    SIMPLE_WITH_ACCESS = "simple with access logs"
    ACCESS_ONLY = "access logs only"
    GENERAL = "general"


def choose_strategy(stager: Stager) -> Strategy:
    """The strategy this run's events allow; creates the temp tables ``key_summary`` and
    ``picks`` (``sql/key_summary.sql``, ``sql/pick.sql``) the simple strategies read."""
    con = stager.con
    for step in ("key_summary", "candidates", "pick"):
        run_sql(con, step)
    ((simple,),) = run_sql(con, "run_is_simple")
    if not simple:
        return Strategy.GENERAL
    if not stager.has_access_lines():
        return Strategy.SIMPLE
    ((access_only,),) = run_sql(con, "run_is_access_only")
    return Strategy.ACCESS_ONLY if access_only else Strategy.SIMPLE_WITH_ACCESS


def write_requests(
    strategy: Strategy, stager: Stager, steps: MergeSteps, work: Path, run_id: str
) -> list[WrittenPart]:
    """Write the run's requests by ``strategy`` into Parquet parts under ``work``, day by day."""
    return _WRITERS[strategy](stager, steps, work, run_id)


def _simple_day(staged: bool, src: audit_sources.Source | None) -> dict[str, str]:
    """The relations that give the requests of day ``$day`` of a simple run as ``day_rows``.

    ``staged``: the run staged audit events that day (``sql/simple_staged_events.sql``).
    ``src``: the files read in place that have events that day, read again for the events
    ``sql/direct_events.sql`` says are wanted.
    """
    relations: dict[str, str] = {}
    events = []
    if src is not None:
        relations["src"] = src.sql
        relations["events"] = internal_sql("audit_events")
        events.append(internal_sql("direct_events"))
    if staged:
        events.append(internal_sql("simple_staged_events"))
    relations["raw"] = union_all(*events)
    relations["derived"] = internal_sql("derive")
    relations["day_rows"] = internal_sql("with_day")
    return relations


def _write_simple(
    stager: Stager, steps: MergeSteps, work: Path, run_id: str, out: str = "out"
) -> list[WrittenPart]:
    """Write the requests of a simple run, day by day.

    Files read in place are read once more here: one that was rotated, truncated or removed
    since its keys were read would lose requests silently, so the rows written are checked
    against the keys' count and the run fails (nothing ingested) if they differ.
    """
    con = stager.con
    in_place = stager.in_place
    staged = stager.staged_audit_days()
    days = sorted(staged | in_place.days(), key=lambda d: (d is None, d))
    ((open_from,),) = run_sql(con, "open_from")
    ((expected,),) = run_sql(con, "simple_request_count")
    steps.add(len(days))
    parts = []
    con.execute("SET disabled_optimizers = $o", {"o": FIXED_JOINS}).fetchall()
    try:
        for day in days:
            paths = in_place.paths(day)
            src = audit_sources.in_place(paths, bodies=stager.bodies) if paths else None
            relations = _simple_day(day in staged, src)
            params = {**src.params, "open_from": open_from} if src else {}
            reads = sum(in_place.files[b].size for b in in_place.batches(day))
            parts += write_days(con, relations, params, [day], work / out, run_id, steps, reads)
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
    """The audit requests first, as a simple run's, then merged with the run's access-log
    lines (``sql/merge_requests.sql``)."""
    audit_parts = _write_simple(stager, steps, work, run_id, out="audit")
    rows = [internal_sql("derive")]
    params = {}
    if audit_parts:
        rows.append(internal_sql("written_parts"))
        params["files"] = [str(p.file) for p in audit_parts]
    relations = {
        "raw": internal_sql("staged_access_lines"),
        "rows": union_all(*rows),
        "merged": internal_sql("merge_requests"),
    }
    return write_materialized(stager.con, steps, relations, params, work / "out", run_id)


def _write_access_only(
    stager: Stager, steps: MergeSteps, work: Path, run_id: str
) -> list[WrittenPart]:
    """Each staged access-log line is its request (no audit event to merge with, no key shared):
    derived and streamed into its day's part, nothing materialized."""
    con = stager.con
    days = sorted((d for (d,) in run_sql(con, "staged_access_days")), key=lambda d: (d is None, d))
    steps.add(len(days))
    relations = {
        "raw": internal_sql("access_lines_of_day"),
        "derived": internal_sql("derive"),
        "day_rows": internal_sql("with_day"),
    }
    return write_days(con, relations, {}, days, work / "out", run_id, steps)


def _write_general(stager: Stager, steps: MergeSteps, work: Path, run_id: str) -> list[WrittenPart]:
    """Every event of the run staged (files read in place too, read again), then merged."""
    in_place = stager.in_place
    steps.add(len(in_place.files))
    for direct in in_place.files.values():
        if direct.compression is Compression.NONE and not direct.blank:
            src = audit_sources.plain(direct.path, direct.display, bodies=stager.bodies)
        else:
            src = audit_sources.lines(
                direct.path, direct.display, direct.compression, bodies=stager.bodies
            )
        with steps.step():
            stager.audit_events(src)
    run_sql(stager.con, "attribute_restaged")
    in_place.clear()
    relations = {
        "raw": internal_sql("staged_events"),
        "rows": internal_sql("derive"),
        "merged": internal_sql("merge_requests"),
    }
    return write_materialized(stager.con, steps, relations, {}, work / "out", run_id)


_WRITERS: dict[Strategy, Callable[[Stager, MergeSteps, Path, str], list[WrittenPart]]] = {
    Strategy.SIMPLE: _write_simple,
    Strategy.SIMPLE_WITH_ACCESS: _write_simple_with_access,
    Strategy.ACCESS_ONLY: _write_access_only,
    Strategy.GENERAL: _write_general,
}
