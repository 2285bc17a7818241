"""Access-log ingest against one DuckDB ``read_csv`` + ``regexp_extract`` statement, same file.

Generates a structured-era kube-apiserver access log (``httplog.go] "HTTP" verb=... resp=...``)
with the simulator (cached under bench/out/), then times, each in its own process so peak memory
is its own and interleaved ``--repeat`` times: the full ``k8saudit.ingest`` into a fresh
dataset, and the strongest simple baseline, one DuckDB statement that reads every line with
``read_csv`` and pulls the fields out with a single ``regexp_extract`` into Parquet (no
timestamps parsed, no verbs derived, no merge). Run::

    python bench/access_ingest.py [--nodes 300] [--duration 20m] [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import OURS, OUT, timed

REGEX = r"""
import duckdb, sys
con = duckdb.connect()
con.execute("SET enable_progress_bar = false").fetchall()
fields = ['time', 'verb', 'uri', 'latency', 'user_agent', 'audit_id', 'src_ip', 'code']
pattern = (r'^\w(\d{4} [\d:.]+).*?httplog\.go:\d+\] "HTTP" verb="([^"]*)" URI="([^"]*)" '
           r'latency="([^"]*)" userAgent="((?:[^"\\]|\\.)*)" audit-ID="([^"]*)" '
           r'srcIP="([^"]*)".*resp=(\d+)')
con.execute(
    "COPY (SELECT unnest(regexp_extract(line, $p, $f)) FROM read_csv($path, "
    "columns={'line': 'VARCHAR'}, header=false, delim=chr(1), quote='', escape='', "
    "auto_detect=false, max_line_size=16777216) WHERE contains(line, 'httplog.go')) "
    "TO $out (FORMAT parquet)",
    {"p": pattern, "f": fields, "path": sys.argv[1], "out": sys.argv[2]},
).fetchall()
rows = con.execute("SELECT count(*) FROM read_parquet($o)", {"o": sys.argv[2]}).fetchone()[0]
print(rows)
print(open("/proc/self/status").read().split("VmHWM:")[1].split()[0])
"""


def generate(nodes: int, duration: str) -> Path:
    from k8saudit.simulator import simulate

    target = OUT / f"access-{nodes}n-{duration}"
    log = target / "kube-apiserver.log"
    if not log.exists():
        shutil.rmtree(target, ignore_errors=True)
        result = simulate(target / "logs", nodes=nodes, duration=duration, seed=7, apiservers=1,
                          format="access")  # fmt: skip
        (found,) = [f for f in result.files if Path(f).name.startswith("kube-apiserver")]
        Path(found).rename(log)
    return log


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=300)
    parser.add_argument("--duration", default="20m")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each (fastest counts)")
    args = parser.parse_args()
    log = generate(args.nodes, args.duration)
    size_mb = log.stat().st_size / 1e6
    lines = sum(1 for _ in log.open("rb"))
    print(f"input: {log} ({size_mb:,.0f} MB, {lines:,} lines)")
    work = OUT / "work"
    contenders = {
        "k8saudit ingest": (OURS, "dataset"),
        "duckdb read_csv + regex": (REGEX, "r.parquet"),
    }
    best: dict[str, tuple[float, int, str]] = {}
    for _ in range(args.repeat):
        for name, (code, target) in contenders.items():
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
            seconds, kb, out = timed(code, str(log), str(work / target))
            old = best.get(name)
            peak = max(kb, old[1] if old else 0)
            best[name] = (
                (seconds, peak, out) if old is None or seconds < old[0] else (old[0], peak, old[2])
            )
    print(f"fastest of {args.repeat} runs each; peak RSS the highest of them")
    for name, (seconds, kb, out) in best.items():
        print(f"{name:26s} {seconds:6.2f} s  {size_mb / seconds:6.1f} MB/s  "
              f"{int(out):,} rows  peak RSS {kb / 1024:,.0f} MiB")  # fmt: skip
    ours, theirs = best["k8saudit ingest"][0], best["duckdb read_csv + regex"][0]
    print(f"ratio k8saudit / regex statement throughput: {theirs / ours:.2f}")


if __name__ == "__main__":
    main()
