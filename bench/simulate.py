"""Benchmark of the log simulator: audit JSON throughput, events/s and peak memory.

Run ``python bench/simulate.py`` (700 nodes, 1 hour) or ``--nodes 300 --duration 10m`` for a quick
look. Writes into a temporary directory that is removed afterwards unless ``--keep DIR`` is given.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from k8saudit.simulator import simulate


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=700)
    parser.add_argument("--duration", default="1h")
    parser.add_argument("--scenario", default="civis-2019")
    parser.add_argument("--format", default="audit", choices=("audit", "access", "both"))
    parser.add_argument("--keep", type=Path, help="write here and keep the logs")
    args = parser.parse_args(argv)

    out = args.keep or Path(tempfile.mkdtemp(prefix="k8saudit-bench-")) / "logs"
    began = time.perf_counter()
    result = simulate(
        out,
        nodes=args.nodes,
        duration=args.duration,
        scenario=args.scenario,
        format=args.format,
        seed=1,
    )
    seconds = time.perf_counter() - began
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if args.keep is None:
        shutil.rmtree(out.parent)
    mb = result.audit_bytes / 1e6
    print(
        f"{args.scenario} nodes={args.nodes} duration={args.duration} format={args.format}: "
        f"{result.ground_truth['totals']['requests']:,} requests, {result.audit_events:,} audit "
        f"events, {mb:,.0f} MB audit JSON in {seconds:.1f}s\n"
        f"  {mb / seconds:,.0f} MB/s  {result.audit_events / seconds:,.0f} events/s  "
        f"peak RSS {peak_mb:,.0f} MB",
        file=sys.stdout,
    )


if __name__ == "__main__":
    main()
