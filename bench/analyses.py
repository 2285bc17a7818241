"""Benchmark: the offender analyses at incident scale, each beside a hand-written DuckDB query.

Builds a dataset of ``--copies`` shifted copies of sample_logs/ (``bench/top_talkers.py``'s
build: 330 copies are ~10 million requests over 27 hours), then times each analysis the library
offers for naming the offender, each in its own process so its peak RSS is its own. Where a
plain hand-written DuckDB statement computes the same answer, it runs over the same Parquet in
the same way and the answers are compared. Run::

    python bench/analyses.py --copies 330
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from top_talkers import add_dataset_arguments, best_of, build, peak_rss_mb, run_child

#: the peaks of in-flight requests per apiserver and pool, as plain as DuckDB says it
HAND_INFLIGHT_PEAKS = """
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
    SELECT apiserver, kind, sum(sum(d)) OVER (PARTITION BY apiserver, kind ORDER BY t) AS n
    FROM changes GROUP BY apiserver, kind, t
)
SELECT apiserver, kind, max(n)::BIGINT AS peak
FROM levels
GROUP BY ALL
ORDER BY apiserver, kind DESC
"""

#: analysis -> (keyword arguments, hand-written SQL or None, the columns compared)
ANALYSES: dict[str, tuple[dict[str, Any], str | None, list[str]]] = {
    "inflight_peaks": ({}, HAND_INFLIGHT_PEAKS, ["apiserver", "kind", "peak"]),
    "inflight": ({"every": "1m"}, None, []),
    "pollers": ({}, None, []),
    "fanout": ({}, None, []),
}


def query_phase(dataset: Path, name: str, side: str, runs: int, memory_limit: str) -> None:
    """Child process: time one analysis (or its hand-written twin); print the result as JSON."""
    import k8saudit

    kwargs, hand, columns = ANALYSES[name]
    with k8saudit.open(dataset) as ds:
        ds.duckdb.execute(f"SET memory_limit = '{memory_limit}'").fetchall()
        files = [str(ds.root / p.path) for p in ds.manifest.parts]
        if side == "library":
            seconds, frame = best_of(runs, lambda: getattr(ds, name)(**kwargs))
        else:
            assert hand is not None
            seconds, frame = best_of(
                runs, lambda: ds.duckdb.sql(hand, params={"files": files}).pl()
            )
    answer = frame.select(columns).rows() if columns else []
    print(json.dumps({"seconds": seconds, "peak_mb": peak_rss_mb(), "rows": frame.height,
                      "answer": answer}, default=str))  # fmt: skip


def run_side(dataset: Path, name: str, side: str, runs: int, limit: str) -> dict[str, Any]:
    return run_child(__file__, "--query-phase", name, "--side", side, "--dataset", str(dataset),
                     "--runs", str(runs), "--memory-limit", limit)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_dataset_arguments(parser)
    parser.add_argument("--show", action="store_true", help="print the answers compared")
    parser.add_argument("--query-phase", choices=sorted(ANALYSES), help=argparse.SUPPRESS)
    parser.add_argument("--side", choices=["library", "hand"], help=argparse.SUPPRESS)
    parser.add_argument("--dataset", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.query_phase:
        query_phase(args.dataset, args.query_phase, args.side, args.runs, args.memory_limit)
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ds"
        started = time.perf_counter()
        rows = build(root, args.copies, args.copies_per_part)
        print(f"dataset: {rows:,} requests, built in {time.perf_counter() - started:.1f} s")
        print(f"{'analysis':16s} {'library':>10s} {'peak RSS':>9s} {'hand':>10s} {'peak RSS':>9s}")
        for name, (_, hand, _) in ANALYSES.items():
            ours = run_side(root, name, "library", args.runs, args.memory_limit)
            if "error" in ours:
                print(f"{name:16s} failed: {ours['error']}")
                continue
            line = f"{name:16s} {ours['seconds']:8.2f} s {ours['peak_mb']:6.0f} MB"
            if args.show:
                print(name, ours["answer"])
            if hand is not None:
                theirs = run_side(root, name, "hand", args.runs, args.memory_limit)
                line += f" {theirs['seconds']:8.2f} s {theirs['peak_mb']:6.0f} MB"
                if theirs["answer"] != ours["answer"]:
                    line += "  DIFFERENT ANSWERS"
                if args.show:
                    print("hand", theirs["answer"])
            print(line + f"  ({ours['rows']:,} rows)")


if __name__ == "__main__":
    main()
