"""The query contenders of ``bench/`` (``python bench``): each analysis as a user runs it (the
whole ``k8saudit NAME`` process) beside a hand-written DuckDB query over the same Parquet files
(the whole ``python`` process: import, query, the result as a polars frame printed as CSV).

The dataset is sample_logs/ (30,573 requests) ingested, then replicated ``copies`` times into
Parquet parts, time shifted so that copies do not overlap and audit IDs suffixed so that they
stay unique (330 copies: ~10 million requests over 27 hours). Each part is one DuckDB ``COPY``
of ``per_part`` copies, streamed from the ingested sample straight to Parquet, so building 10
million requests never holds them in memory; it is cached under bench/out/.

Where the hand-written twin computes the same answer, ``check`` compares the first rows of both.
"""

from __future__ import annotations

import csv
import io
import shutil
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from runner import Contender

REPO = Path(__file__).resolve().parents[1]

#: the per-client ranking top-talkers computes, as plainly as DuckDB says it
HAND_TOP_TALKERS = """
SELECT client, count(*) AS requests,
       count(*) / greatest(epoch(max(max(received_at)) OVER () - min(min(received_at)) OVER ()), 1)
           AS req_per_s,
       count(*) / sum(count(*)) OVER () AS request_share,
       sum(latency_ms) FILTER (WHERE NOT is_long_running)
           / sum(sum(latency_ms) FILTER (WHERE NOT is_long_running)) OVER () AS time_share,
       count(*) FILTER (WHERE code = 429) AS throttled,
       count(*) FILTER (WHERE code >= 500) / count(*) AS error_5xx_share,
       quantile_cont(latency_ms, 0.5) FILTER (WHERE NOT is_long_running) AS p50_ms,
       quantile_cont(latency_ms, 0.99) FILTER (WHERE NOT is_long_running) AS p99_ms,
       count(DISTINCT source_ip) AS sources,
       mode(concat_ws(' ', verb, resource, scope)) AS top_operation
FROM read_parquet($files)
GROUP BY client
ORDER BY requests DESC, client
"""

HAND_THROTTLING = """
WITH per_minute AS (
    SELECT client, time_bucket(INTERVAL 1 MINUTE, received_at) AS minute, count(*) AS n
    FROM read_parquet($files) WHERE code = 429 GROUP BY ALL
),
peaks AS (SELECT client, max(n) AS peak_per_minute FROM per_minute GROUP BY client),
per_client AS (
    SELECT client, count(*) FILTER (WHERE code = 429) AS throttled, count(*) AS requests,
           mode(apf_priority_level) FILTER (WHERE code = 429) AS apf_priority_level,
           mode(apf_flow_schema) FILTER (WHERE code = 429) AS apf_flow_schema,
           min(received_at) FILTER (WHERE code = 429) AS first_429,
           max(received_at) FILTER (WHERE code = 429) AS last_429
    FROM read_parquet($files)
    GROUP BY client
)
SELECT * FROM per_client LEFT JOIN peaks USING (client)
WHERE throttled > 0
ORDER BY throttled DESC, client
"""

HAND_LATENCY = """
SELECT client, count(*) AS requests,
       quantile_cont(latency_ms, 0.5) AS p50_ms, quantile_cont(latency_ms, 0.9) AS p90_ms,
       quantile_cont(latency_ms, 0.99) AS p99_ms, max(latency_ms) AS max_ms,
       sum(latency_ms) / 1000 AS busy_s, count(*) FILTER (WHERE latency_ms > 1000) AS over_1s
FROM read_parquet($files)
WHERE NOT is_long_running AND latency_ms IS NOT NULL
GROUP BY client
ORDER BY busy_s DESC, requests DESC, client
"""

HAND_TIMELINE = """
WITH top AS (
    SELECT client FROM read_parquet($files) GROUP BY client ORDER BY count(*) DESC LIMIT 5
)
SELECT time_bucket(INTERVAL 1 MINUTE, received_at) AS interval_start, client,
       count(*) AS requests, count(*) / 60 AS req_per_s,
       count(*) FILTER (WHERE code = 429) AS throttled
FROM read_parquet($files)
WHERE client IN (SELECT client FROM top)
GROUP BY ALL
ORDER BY interval_start, requests DESC, client
"""

HAND_WATCHES = """
WITH events AS (
    SELECT client, received_at AS t, 1 AS d FROM read_parquet($files) WHERE is_watch
    UNION ALL
    SELECT client, completed_at, -1 FROM read_parquet($files)
    WHERE is_watch AND completed_at IS NOT NULL
),
levels AS (
    SELECT client, t, sum(sum(d)) OVER (PARTITION BY client ORDER BY t) AS n
    FROM events GROUP BY client, t
),
peaks AS (SELECT client, max(n) AS peak_open FROM levels GROUP BY client),
per_client AS (
    SELECT client, count(*) FILTER (WHERE is_watch) AS watches,
           count(DISTINCT source_ip) FILTER (WHERE is_watch) AS sources,
           count(*) FILTER (WHERE is_watch AND scope = 'cluster') AS cluster_wide,
           count(*) FILTER (WHERE verb = 'list') AS lists
    FROM read_parquet($files)
    GROUP BY client
)
SELECT * FROM per_client LEFT JOIN peaks USING (client)
WHERE watches > 0
ORDER BY watches DESC, client
"""

#: each source's median time between its requests, per client and operation
HAND_POLLERS = """
WITH gaps AS (
    SELECT client, verb, resource, scope, source_ip,
           epoch_us(received_at) - lag(epoch_us(received_at))
               OVER (PARTITION BY client, verb, resource, scope, source_ip ORDER BY received_at)
               AS gap_us
    FROM read_parquet($files)
)
SELECT client, verb, resource, scope, median(gap_us) / 1e6 AS period_s,
       count(DISTINCT source_ip) AS sources, count(*) AS requests
FROM gaps
GROUP BY ALL
ORDER BY requests DESC
LIMIT 20
"""

#: requests in flight per apiserver and pool: the peak, per 10 s interval
HAND_INFLIGHT = """
WITH held AS (
    SELECT coalesce(apiserver, '(not stated)') AS apiserver,
           CASE WHEN verb IN ('get', 'list', 'watch') THEN 'readonly' ELSE 'mutating' END AS kind,
           received_at AS t0, coalesce(completed_at, max(completed_at) OVER ()) AS t1
    FROM read_parquet($files)
    WHERE NOT is_long_running AND code IS DISTINCT FROM 429
),
changes AS (
    SELECT apiserver, kind, t0 AS t, 1 AS d FROM held
    UNION ALL SELECT apiserver, kind, t1, -1 FROM held
),
levels AS (
    SELECT apiserver, kind, t, sum(sum(d)) OVER (PARTITION BY apiserver, kind ORDER BY t) AS n
    FROM changes GROUP BY apiserver, kind, t
)
SELECT time_bucket(INTERVAL 10 SECOND, t) AS interval_start, apiserver,
       max(n) FILTER (WHERE kind = 'readonly') AS readonly_peak,
       max(n) FILTER (WHERE kind = 'mutating') AS mutating_peak
FROM levels
GROUP BY ALL
ORDER BY interval_start, apiserver
"""

#: watches open per client at each minute's start, for the 5 clients with the most open at once,
#: and the watches started in each minute (the ASOF join as a nested loop never: see connection.py)
HAND_OPEN_WATCHES = """
SET asof_loop_join_threshold = 0;
WITH w AS (SELECT client, received_at, completed_at FROM read_parquet($files) WHERE is_watch),
events AS (
    SELECT client, received_at AS t, 1 AS d FROM w
    UNION ALL SELECT client, greatest(completed_at, received_at), -1 FROM w
    WHERE completed_at IS NOT NULL
),
levels AS (
    SELECT client, t, sum(sum(d)) OVER (PARTITION BY client ORDER BY t) AS n
    FROM events GROUP BY client, t
),
top AS (SELECT client FROM levels GROUP BY client ORDER BY max(n) DESC, client LIMIT 5),
span AS (SELECT min(received_at) AS a, max(received_at) AS b FROM read_parquet($files)),
grid AS (
    SELECT unnest(generate_series(time_bucket(INTERVAL 1 MINUTE, a), b, INTERVAL 1 MINUTE)) AS m
    FROM span
),
started AS (
    SELECT time_bucket(INTERVAL 1 MINUTE, received_at) AS m, client, count(*) AS n
    FROM w GROUP BY ALL
)
SELECT g.m, g.client, coalesce(l.n, 0) AS open_watches, coalesce(s.n, 0) AS started
FROM (SELECT m, client FROM grid CROSS JOIN top) AS g
ASOF LEFT JOIN levels AS l ON l.client = g.client AND l.t <= g.m
LEFT JOIN started AS s ON s.client = g.client AND s.m = g.m
ORDER BY g.m, g.client
"""

HAND_INFO = """
SELECT count(*), min(received_at), max(received_at) FROM read_parquet($files);
SELECT log_format, count(*) FROM read_parquet($files) GROUP BY ALL ORDER BY 2 DESC;
SELECT client, count(*) FROM read_parquet($files) GROUP BY ALL ORDER BY 2 DESC, 1 LIMIT 10;
SELECT apiserver, count(*) FROM read_parquet($files) GROUP BY ALL ORDER BY 2 DESC
"""

#: the hand-written side: the manifest's parts, each statement run, the last one printed
HAND = """
import json, sys
import duckdb, polars as pl
root, sql = sys.argv[1], sys.argv[2]
files = [root + "/" + p["path"] for p in json.load(open(root + "/manifest.json"))["parts"]]
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")  # it would draw on stdout, among the rows
*first, last = [s for s in sql.split(";") if s.strip()]
for statement in first:
    con.execute(statement, {"files": files} if "$files" in statement else None).fetchall()
print(pl.DataFrame(con.sql(last, params={"files": files})).write_csv(), end="")
"""

#: analysis command -> (its options, the hand-written twin, the columns compared: ours, theirs)
ANALYSES: dict[str, tuple[list[str], str, tuple[str, str] | None]] = {
    "top-talkers": ([], HAND_TOP_TALKERS, ("client,requests", "client,requests")),
    "throttling": ([], HAND_THROTTLING, ("client,throttled", "client,throttled")),
    "latency": ([], HAND_LATENCY, ("client,requests", "client,requests")),
    "timeline": ([], HAND_TIMELINE, ("client,requests", "client,requests")),
    "watches": ([], HAND_WATCHES, ("client,watches", "client,watches")),
    "open-watches": ([], HAND_OPEN_WATCHES, None),
    "pollers": ([], HAND_POLLERS, None),
    "inflight": ([], HAND_INFLIGHT, None),
    "info": ([], HAND_INFO, None),
}

# one part: `copies` copies of the sample, numbered from `first`, shifted 5 minutes apiece (the
# sample spans 5 minutes). The output path is the bench's own file, quoted: COPY cannot bind it.
COPY_PART = """
COPY (
    SELECT * REPLACE (
        received_at + to_minutes(5 * c) AS received_at,
        completed_at + to_minutes(5 * c) AS completed_at,
        audit_id || '-' || c AS audit_id
    )
    FROM read_parquet($sources), range($first, $first + $copies) AS t(c)
) TO '{out}' (FORMAT parquet, ROW_GROUP_SIZE 122880)
"""


def build(root: Path, copies: int, per_part: int) -> int:
    """Ingest sample_logs/ into ``root``, replace its parts by ``copies`` shifted copies.

    Returns the number of requests in the replicated dataset.
    """
    import k8saudit
    from k8saudit.store import PartEntry, read_manifest, write_manifest

    k8saudit.ingest([REPO / "sample_logs"], dataset=root)
    manifest = read_manifest(root)
    sources = [str(root / p.path) for p in manifest.parts]
    sample_rows = sum(p.rows for p in manifest.parts)
    (root / "bench").mkdir()
    parts = []
    with k8saudit.open(root) as ds:
        for first in range(0, copies, per_part):
            count = min(per_part, copies - first)
            path = f"bench/part-{first // per_part:04d}.parquet"
            out = str(root / path).replace("'", "''")
            params = {"sources": sources, "first": first, "copies": count}
            ds.duckdb.execute(COPY_PART.format(out=out), params).fetchall()
            parts.append(PartEntry(path, "bench", sample_rows * count))
    manifest.parts = parts
    # the copies cover copies x 5 minutes: so does the observation window rates divide by
    shift = timedelta(minutes=5 * (copies - 1))
    manifest.files = [
        replace(f, observed=tuple(
            replace(s, last=(datetime.fromisoformat(s.last) + shift).isoformat())
            for s in f.observed
        ))
        for f in manifest.files
    ]  # fmt: skip
    write_manifest(root, manifest)
    return sample_rows * copies


def dataset(copies: int, per_part: int = 10) -> tuple[Path, int]:
    """The replicated dataset of ``copies`` copies (built once, cached under bench/out/)."""
    from ingest import OUT

    from k8saudit.store import read_manifest

    root = OUT / f"requests-{copies}x"
    if not (root / "manifest.json").exists():
        shutil.rmtree(root, ignore_errors=True)
        build(root, copies, per_part)
    return root, sum(p.rows for p in read_manifest(root).parts)


def first_rows(columns: str) -> Callable[[str], object]:
    """A check: the values of ``columns`` (a comma list) in the first 3 rows of a CSV answer."""
    names = columns.split(",")

    def check(output: str) -> object:
        rows = list(csv.DictReader(io.StringIO(output)))[:3]
        return [tuple(row.get(name) for name in names) for row in rows]

    return check


def query_contenders(root: Path, label: str) -> list[Contender]:
    """Each analysis over the dataset at ``root`` and its hand-written twin."""
    k8saudit = str(Path(sys.executable).with_name("k8saudit"))
    contenders = []
    for command, (options, hand, compared) in ANALYSES.items():
        group = f"{label}: {command}"
        ours = [k8saudit, command, "--dataset", str(root), *options]
        if command != "info":
            ours += ["--format", "csv"]
        contenders += [
            Contender(group, f"k8saudit {command}", ours, reference=True,
                      check=first_rows(compared[0]) if compared else None),
            Contender(group, "hand-written DuckDB", [sys.executable, "-c", HAND, str(root), hand],
                      baseline=True, check=first_rows(compared[1]) if compared else None),
        ]  # fmt: skip
    return contenders


def report_contenders(root: Path, label: str, work: Path) -> list[Contender]:
    """``k8saudit report`` of the dataset at ``root`` (no hand-written twin: it is many
    queries, charts and a page): computed, and again with the answers an earlier report kept
    (``k8saudit/answer_cache.py``; the dataset's cache is emptied first)."""
    from k8saudit.store import CACHE_DIR

    k8saudit = str(Path(sys.executable).with_name("k8saudit"))
    output = work / "report.html"
    argv = [k8saudit, "report", "--dataset", str(root), "--output", str(output), "--quiet"]
    shutil.rmtree(root / CACHE_DIR, ignore_errors=True)
    return [
        Contender(f"{label}: report", "k8saudit report", argv, clean=[work]),
        Contender(f"{label}: report", "k8saudit report, answers kept by an earlier one", argv,
                  clean=[work], env={"K8SAUDIT_CACHE": "on"}, before=argv),
    ]  # fmt: skip


def startup_contenders(small: Path) -> list[Contender]:
    """``k8saudit --help``, and one analysis on a small dataset beside its hand-written twin."""
    k8saudit = str(Path(sys.executable).with_name("k8saudit"))
    group = f"start-up, top-talkers on {small.name}"
    return [
        Contender("start-up", "k8saudit --help", [k8saudit, "--help"]),
        Contender(group, "k8saudit top-talkers",
                  [k8saudit, "top-talkers", "--dataset", str(small), "--format", "csv"],
                  reference=True),
        Contender(group, "hand-written DuckDB",
                  [sys.executable, "-c", HAND, str(small), HAND_TOP_TALKERS], baseline=True),
    ]  # fmt: skip
