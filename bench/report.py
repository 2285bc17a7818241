"""Benchmark: ``k8saudit report`` at incident scale, step by step.

Builds a dataset of ``--copies`` shifted copies of sample_logs/ (``bench/top_talkers.py``'s
build: 330 copies are ~10 million requests over 27 hours), or reuses the one ``--keep`` names,
then writes the report ``--runs`` times, printing the seconds each step took (the summary,
``diagnose``, each chart, each table, the page) and the peak RSS. The first run of a machine
also bundles the Vega libraries (vl-convert; kept in ``~/.cache/k8saudit`` after). Run::

    python bench/report.py --copies 330 --keep /tmp/k8saudit-bench-10m
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from k8saudit.dataset import Dataset

sys.path.insert(0, str(Path(__file__).resolve().parent))
from top_talkers import add_dataset_arguments, build, peak_rss_mb


def report_once(ds: Dataset, output: Path) -> list[tuple[str, float]]:
    """Write the report of ``ds`` to ``output``; each step's name and seconds."""
    from k8saudit.report import write_report

    steps: list[tuple[str, float]] = []
    last = time.perf_counter()

    def heard(done: int, total: int, what: str) -> None:
        nonlocal last
        now = time.perf_counter()
        steps.append((what, now - last))
        print(f"  {done}/{total} {what}: {now - last:.2f} s", flush=True)
        last = now

    write_report(output, ds, progress=heard)
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_dataset_arguments(parser)
    parser.add_argument("--keep", type=Path, help="build the dataset here, or reuse it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp) / "ds"
        if not (root / "manifest.json").exists():
            started = time.perf_counter()
            rows = build(root, args.copies, args.copies_per_part)
            print(f"dataset: {rows:,} requests, built in {time.perf_counter() - started:.1f} s")
        import k8saudit

        for run in range(1, args.runs + 1):  # each run on a fresh connection, as the CLI's
            with k8saudit.open(root) as ds:
                ds.duckdb.execute("SET memory_limit = $m", {"m": args.memory_limit}).fetchall()
                output = Path(tmp) / f"report-{run}.html"
                steps = report_once(ds, output)
            total = sum(seconds for _, seconds in steps)
            size = output.stat().st_size / 1e6
            print(f"run {run}: {total:.2f} s, {size:.1f} MB, peak RSS {peak_rss_mb():,.0f} MB")
            print("  " + ", ".join(f"{what} {seconds:.2f}" for what, seconds in steps))


if __name__ == "__main__":
    main()
