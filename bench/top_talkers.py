"""Benchmark: ``Dataset.top_talkers`` against the same aggregation hand-written in DuckDB.

The query library adds a layer (the common-filter CTE, the CASE-chosen grouping column, bound
parameters); this measures what it costs at scale. It ingests sample_logs/ (30,573 requests) and
replicates its rows ``--copies`` times into Parquet parts, shifting time so copies do not overlap
and suffixing audit IDs so they stay unique. Each part is one DuckDB ``COPY`` of
``--copies-per-part`` copies, streamed from the ingested sample straight to Parquet, so building
10 million requests never holds them in memory.

The two queries then run over the same files, each in its own process, so the peak RSS printed for
each is that of its query phase alone (the build's is printed separately). ``--memory-limit`` caps
DuckDB in both. Run::

    python bench/top_talkers.py --copies 330      # ~10 million requests
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]

HAND_WRITTEN = """
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

# one part: `copies` copies of the sample, numbered from `first`, shifted 5 minutes apiece (the
# sample spans 5 minutes). The output path is the bench's own temp file, quoted: COPY cannot
# bind it.
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


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MB.

    On Linux this is ``VmHWM``, the high-water mark of this program's own memory: ``ru_maxrss``
    would not do for the query processes, as it carries over the parent's peak through
    fork + exec.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


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


def best_of(runs: int, fn: Any) -> tuple[float, Any]:
    """The shortest of ``runs`` timed calls of ``fn``, and its last result."""
    times = []
    result = None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return min(times), result


def query_phase(dataset: Path, side: str, runs: int, memory_limit: str) -> None:
    """Child process: time one side's query, print seconds, peak RSS and the top rows as JSON."""
    import k8saudit

    with k8saudit.open(dataset) as ds:
        ds.duckdb.execute(f"SET memory_limit = '{memory_limit}'").fetchall()
        files = [str(ds.root / p.path) for p in ds.manifest.parts]
        if side == "library":
            seconds, frame = best_of(runs, lambda: ds.top_talkers())
        else:
            sql = HAND_WRITTEN
            seconds, frame = best_of(runs, lambda: ds.duckdb.sql(sql, params={"files": files}).pl())
    top = [(row[0], row[1]) for row in frame.head(3).iter_rows()]
    print(json.dumps({"seconds": seconds, "peak_mb": peak_rss_mb(), "top": top}))


def run_child(script: str, *args: str) -> dict[str, Any]:
    """Run ``script`` (this bench or another) with ``args`` in a process of its own: the JSON it
    prints last, or ``{"error": its last stderr line}``."""
    done = subprocess.run([sys.executable, script, *args], capture_output=True, text=True)
    if done.returncode:
        return {"error": done.stderr.strip().splitlines()[-1]}
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def run_side(dataset: Path, side: str, runs: int, memory_limit: str) -> dict[str, Any]:
    result = run_child(__file__, "--query-phase", side, "--dataset", str(dataset),
                       "--runs", str(runs), "--memory-limit", memory_limit)  # fmt: skip
    if "error" in result:
        sys.exit(f"{side}: {result['error']}")
    return result


def add_dataset_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of the replicated dataset and of the timed runs, shared by the benches."""
    parser.add_argument("--copies", type=int, default=100, help="times to replicate sample_logs")
    parser.add_argument("--copies-per-part", type=int, default=10, help="copies in one part")
    parser.add_argument("--runs", type=int, default=3, help="take the best of this many runs")
    parser.add_argument("--memory-limit", default="5GB", help="DuckDB memory_limit, both sides")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_dataset_arguments(parser)
    parser.add_argument("--query-phase", choices=["library", "hand"], help=argparse.SUPPRESS)
    parser.add_argument("--dataset", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.query_phase:
        query_phase(args.dataset, args.query_phase, args.runs, args.memory_limit)
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ds"
        started = time.perf_counter()
        rows = build(root, args.copies, args.copies_per_part)
        seconds = time.perf_counter() - started
        size_mb = sum(f.stat().st_size for f in (root / "bench").iterdir()) / 1e6
        print(f"dataset: {rows:,} requests, {size_mb:,.0f} MB of Parquet, built in {seconds:.1f} s")
        print(f"build peak RSS:          {peak_rss_mb():.0f} MB")
        library = run_side(root, "library", args.runs, args.memory_limit)
        hand = run_side(root, "hand", args.runs, args.memory_limit)
        if library["top"] != hand["top"]:
            sys.exit(f"the two queries disagree: {library['top']} vs {hand['top']}")
        sides = [("top_talkers (library):  ", library), ("hand-written DuckDB SQL:", hand)]
        for name, side in sides:
            print(f"{name} {side['seconds']:.3f} s, query peak RSS {side['peak_mb']:.0f} MB")
        print(f"ratio library/hand:      {library['seconds'] / hand['seconds']:.2f}x")


if __name__ == "__main__":
    main()
