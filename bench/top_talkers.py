"""Benchmark: ``Dataset.top_talkers`` against the same aggregation hand-written in DuckDB.

The query library adds a layer (the common-filter CTE, the CASE-chosen grouping column, bound
parameters); this measures what it costs. It ingests sample_logs/, replicates its rows ``--copies``
times into Parquet parts (shifting time so copies do not overlap), and times both over the same
files. Run::

    python bench/top_talkers.py --copies 100      # ~3 million requests
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import k8saudit
from k8saudit.dataset import Dataset
from k8saudit.store import read_manifest, write_manifest

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


def build(root: Path, copies: int) -> Dataset:
    """Ingest sample_logs/ into ``root`` and replicate its rows ``copies`` times in one part."""
    k8saudit.ingest([REPO / "sample_logs"], dataset=root)
    manifest = read_manifest(root)
    sources = [str(root / p["path"]) for p in manifest.parts]
    out = root / "bench" / "part-0.parquet"
    out.parent.mkdir()
    with k8saudit.open(root) as ds:
        ds.duckdb.execute(
            "COPY (SELECT * REPLACE (received_at + to_minutes(5 * c) AS received_at, "
            "completed_at + to_minutes(5 * c) AS completed_at, audit_id || '-' || c AS audit_id) "
            "FROM read_parquet($sources), range($copies) AS t(c)) TO '"
            + str(out).replace("'", "''")
            + "' (FORMAT parquet, ROW_GROUP_SIZE 122880)",
            {"sources": sources, "copies": copies},
        ).fetchall()
    rows = sum(p["rows"] for p in manifest.parts) * copies
    manifest.parts = [{"path": "bench/part-0.parquet", "day": "bench", "rows": rows}]
    write_manifest(root, manifest)
    return k8saudit.open(root)


def best_of(runs: int, fn: Any) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=100, help="times to replicate sample_logs")
    parser.add_argument("--runs", type=int, default=3, help="take the best of this many runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        ds = build(Path(tmp) / "ds", args.copies)
        files = [str(ds.root / p["path"]) for p in ds.manifest.parts]
        rows = ds.sql("SELECT count(*) AS n FROM requests").item()
        print(f"dataset: {rows:,} requests, built in {time.perf_counter() - started:.1f} s")
        library = best_of(args.runs, lambda: ds.top_talkers())
        hand = best_of(args.runs, lambda: ds.duckdb.sql(HAND_WRITTEN, params={"files": files}).pl())
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"top_talkers (library):   {library:.3f} s")
        print(f"hand-written DuckDB SQL: {hand:.3f} s")
        print(f"ratio library/hand:      {library / hand:.2f}x")
        print(f"peak RSS:                {peak_mb:.0f} MB")
        ds.close()


if __name__ == "__main__":
    main()
