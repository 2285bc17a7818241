"""Benchmark: ``k8saudit report`` at incident scale, step by step.

The dataset of ``--copies`` shifted copies of sample_logs/ that ``make bench`` queries
(``bench/analyses.py``: 330 copies are ~10 million requests over 27 hours, cached under
bench/out/), or the dataset ``--dataset`` names; writes the report ``--runs`` times, printing
the seconds each step took (the summary, ``diagnose``, each chart, each table, the page) and
the peak RSS. Every answer is computed unless ``--keep-answers``: then the runs after the
first read back the answers the first kept (``k8saudit/answer_cache.py``). ``make bench``
times the whole command, both ways. Run::

    python bench/report.py --copies 330 [--runs 2 --keep-answers]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from k8saudit.dataset import Dataset

sys.path.insert(0, str(Path(__file__).resolve().parent))
import analyses


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
    parser.add_argument("--copies", type=int, default=330, help="copies of sample_logs/")
    parser.add_argument("--dataset", type=Path, help="report on this dataset instead")
    parser.add_argument("--runs", type=int, default=1, help="reports written")
    parser.add_argument("--keep-answers", action="store_true",
                        help="keep the answers (the dataset's cache/ emptied first): the runs "
                             "after the first read them back")  # fmt: skip
    args = parser.parse_args()
    root = args.dataset or analyses.dataset(args.copies)[0]
    import k8saudit
    from k8saudit.store import CACHE_DIR

    # each run computes every answer, unless asked to keep them (k8saudit/answer_cache.py)
    os.environ["K8SAUDIT_CACHE"] = "on" if args.keep_answers else "off"
    if args.keep_answers:
        shutil.rmtree(root / CACHE_DIR, ignore_errors=True)

    with tempfile.TemporaryDirectory() as tmp:
        for run in range(1, args.runs + 1):  # each run on a fresh connection, as the CLI's
            with k8saudit.open(root) as ds:
                output = Path(tmp) / f"report-{run}.html"
                steps = report_once(ds, output)
            total = sum(seconds for _, seconds in steps)
            size = output.stat().st_size / 1e6
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"run {run}: {total:.2f} s, {size:.1f} MB, peak RSS {peak:,.0f} MB")
            print("  " + ", ".join(f"{what} {seconds:.2f}" for what, seconds in steps))


if __name__ == "__main__":
    main()
