"""Ingest throughput against a raw DuckDB baseline, on the same generated audit log.

Generates an uncompressed audit log with the simulator (cached under bench/out/), then, each in
its own process so peak memory is measured separately:

* baselines: DuckDB ``read_json`` of the file straight into one Parquet file, no normalization:
  explicit (the fields k8saudit keeps, with the types it reads them as: the strongest simple
  baseline),
  default (as a user would type it; ``ignore_errors=true`` because the default sample misses
  fields that appear later, e.g. ``responseStatus.status`` of the first error, and the read
  fails without it), shallow (``maximum_depth=1``: nested objects kept as JSON text, the
  cheapest possible copy) and full (every nested field parsed into typed columns:
  ``sample_size=-1``);
* k8saudit: the full ``k8saudit.ingest`` into a fresh dataset.

Prints MB/s, events/s, requests/s and peak RSS for both, and the ratio. Usage::

    python bench/ingest.py [--nodes 700] [--duration 1h] [--gzip] [--repeat 3] [--compare DIR]

``--compare DIR`` adds the ingest of another k8saudit source tree (e.g. a ``git worktree`` of an
earlier commit) to the same interleaved runs: before and after a change, on the same file.

``--gzip`` measures the same log gzip-compressed (level 6, as kube-apiserver's log rotation
writes it), cached next to it.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"

BASELINE = """
import duckdb, sys
con = duckdb.connect()
con.execute("SET enable_progress_bar = false").fetchall()
# read_json infers its schema at bind time, so the path is a literal here (the bench's own file)
path = sys.argv[1].replace("'", "''")
con.execute(f"COPY (SELECT * FROM read_json('{path}', format='newline_delimited', {sys.argv[3]})) "
            "TO $o (FORMAT parquet)", {"o": sys.argv[2]}).fetchall()
print(open("/proc/self/status").read().split("VmHWM:")[1].split()[0])
"""

OURS = """
import sys
if len(sys.argv) > 3:
    sys.path.insert(0, sys.argv[3])  # --compare: that tree's k8saudit
import k8saudit
report = k8saudit.ingest([sys.argv[1]], dataset=sys.argv[2])
print(report.requests_after)
print(open("/proc/self/status").read().split("VmHWM:")[1].split()[0])
"""


def generate(nodes: int, duration: str) -> tuple[Path, int]:
    from k8saudit.simulator import simulate

    target = OUT / f"sim-{nodes}n-{duration}"
    merged = target / "audit-all.log"
    if not merged.exists():
        shutil.rmtree(target, ignore_errors=True)
        result = simulate(target / "logs", nodes=nodes, duration=duration, seed=7, apiservers=1,
                          rotate_mb=1_000_000)  # fmt: skip
        (log,) = [f for f in result.files if Path(f).name == "audit.log"]
        Path(log).rename(merged)
    events = sum(1 for _ in merged.open("rb"))
    return merged, events


def compressed(log: Path) -> Path:
    target = log.with_name(log.name + ".gz")
    if not target.exists():
        partial = target.with_name(target.name + ".partial")
        with log.open("rb") as src, gzip.open(partial, "wb", compresslevel=6) as dst:
            shutil.copyfileobj(src, dst, 16 << 20)
        partial.rename(target)
    return target


def timed(code: str, *args: str) -> tuple[float, int, str]:
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True,
                         text=True)  # fmt: skip
    seconds = time.perf_counter() - started
    # the child prints VmHWM (its own peak RSS, kB) last: ru_maxrss of children would carry
    # over this parent's peak through fork + exec
    *lines, peak_kb = out.stdout.split()
    return seconds, int(peak_kb), "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=700)
    parser.add_argument("--duration", default="1h")
    parser.add_argument("--gzip", action="store_true", help="measure the log gzip-compressed")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each (fastest counts)")
    parser.add_argument("--compare", type=Path, help="also ingest with the k8saudit of this tree")
    args = parser.parse_args()
    log, events = generate(args.nodes, args.duration)
    size_mb = log.stat().st_size / 1e6  # MB/s are of the uncompressed log, gzip or not
    if args.gzip:
        log = compressed(log)
    stored = log.stat().st_size / 1e6
    print(f"input: {log} ({stored:,.0f} MB stored, {size_mb:,.0f} MB of log, {events:,} events)")
    work = OUT / "work"
    from k8saudit.formats.audit_json import EVENT_COLUMNS

    # the fields k8saudit keeps, typed as it reads them: the strongest simple baseline
    explicit = "columns={" + ", ".join(f"'{k}': '{v}'" for k, v in EVENT_COLUMNS.items()) + "}"
    contenders = {
        "k8saudit ingest": (OURS, "dataset", ""),
        **(
            {
                f"k8saudit ingest ({args.compare.name})": (
                    OURS,
                    "dataset",
                    str(args.compare.resolve()),
                )
            }
            if args.compare
            else {}
        ),
        "duckdb read_json explicit": (BASELINE, "explicit.parquet", explicit),
        "duckdb read_json default": (BASELINE, "default.parquet", "ignore_errors=true"),
        "duckdb read_json shallow": (BASELINE, "shallow.parquet", "maximum_depth=1"),
        "duckdb read_json full": (BASELINE, "full.parquet", "sample_size=-1"),
    }
    best: dict[str, tuple[float, int, str]] = {}
    for _ in range(args.repeat):  # interleaved, so that a slow moment hits all of them
        for name, (code, target, options) in contenders.items():
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
            options_arg = [options] if options else []
            seconds, kb, out = timed(code, str(log), str(work / target), *options_arg)
            previous = best.get(name)
            if previous is None or seconds < previous[0]:
                best[name] = (seconds, max(kb, previous[1] if previous else 0), out)
            else:
                best[name] = (previous[0], max(kb, previous[1]), previous[2])
    ours_s = best["k8saudit ingest"][0]
    rows = [
        (name, seconds, kb, int(out) if name.startswith("k8saudit ingest") else None)
        for name, (seconds, kb, out) in best.items()
    ]
    print(f"fastest of {args.repeat} runs each; peak RSS the highest of them")
    for name, seconds, kb, reqs in rows:
        per_request = f", {reqs / seconds:,.0f} requests/s" if reqs else ""
        print(
            f"{name:30s} {seconds:6.2f} s  {size_mb / seconds:6.0f} MB/s  "
            f"{events / seconds:,.0f} events/s{per_request}  peak RSS {kb / 1024:,.0f} MiB"
        )
    for name, seconds, _, _ in rows[1:]:
        print(f"ratio k8saudit / {name} throughput: {seconds / ours_s:.2f}")
    print(json.dumps({"mb": size_mb, **{name: seconds for name, seconds, _, _ in rows}}))


if __name__ == "__main__":
    main()
