"""The ingest contenders of ``bench/`` (``python bench``): audit JSON into a dataset, beside the
strongest simple baseline and what a user types today, on the same generated log.

* ``k8saudit ingest``: the full ``k8saudit.ingest`` into a fresh dataset;
* ``duckdb read_json``: DuckDB ``read_json`` of the file straight into one zstd Parquet file,
  no normalization, with explicit columns (the fields k8saudit keeps, typed as it reads them:
  the strongest simple baseline);
* ``cat``: reading the file once (``zcat`` for gzip), the floor of any ingest;
* ``jq | sort | uniq -c``: the question a user answers by hand today (requests per user agent),
  one answer per run.

The log comes from the simulator and is cached under bench/out/ (its gzip copy, level 6 as
kube-apiserver's rotation writes it, next to it). ``OURS``, ``OUT`` and ``timed`` are also what
``bench/access_ingest.py`` builds on.
"""

from __future__ import annotations

import gzip
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

from runner import Contender

OUT = Path(__file__).resolve().parent / "out"

BASELINE = """
import duckdb, sys
con = duckdb.connect()
con.execute("SET enable_progress_bar = false").fetchall()
# read_json infers its schema at bind time, so the path is a literal here (the bench's own file)
path = sys.argv[1].replace("'", "''")
con.execute(f"COPY (SELECT * FROM read_json('{path}', format='newline_delimited', {sys.argv[3]})) "
            "TO $o (FORMAT parquet, COMPRESSION zstd)", {"o": sys.argv[2]}).fetchall()
print(open("/proc/self/status").read().split("VmHWM:")[1].split()[0])
"""

OURS = """
import sys
if len(sys.argv) > 3:
    sys.path.insert(0, sys.argv[3])  # another k8saudit source tree
import k8saudit
report = k8saudit.ingest([sys.argv[1]], dataset=sys.argv[2])
print(report.requests_after)
print(open("/proc/self/status").read().split("VmHWM:")[1].split()[0])
"""

#: requests per user agent, as one types it
JQ = "{cat} {log} | jq -r .userAgent | sort | uniq -c | sort -rn > /dev/null"


def generate(nodes: int, duration: str) -> tuple[Path, int]:
    """The simulated audit log of ``nodes`` nodes over ``duration`` (cached) and its events."""
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
    """``log`` gzip-compressed at level 6 (cached next to it)."""
    target = log.with_name(log.name + ".gz")
    if not target.exists():
        partial = target.with_name(target.name + ".partial")
        with log.open("rb") as src, gzip.open(partial, "wb", compresslevel=6) as dst:
            shutil.copyfileobj(src, dst, 16 << 20)
        partial.rename(target)
    return target


def timed(code: str, *args: str) -> tuple[float, int, str]:
    """Run ``code`` in a Python of its own: seconds, its peak RSS (kB) and what it printed."""
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True,
                         text=True)  # fmt: skip
    seconds = time.perf_counter() - started
    # the child prints VmHWM (its own peak RSS, kB) last: ru_maxrss of children would carry
    # over this parent's peak through fork + exec
    *lines, peak_kb = out.stdout.split()
    return seconds, int(peak_kb), "\n".join(lines)


def explicit_columns() -> str:
    """The ``read_json`` option naming the fields k8saudit keeps, typed as it reads them."""
    from k8saudit.formats.audit_json import EVENT_COLUMNS

    return "columns={" + ", ".join(f"'{k}': '{v}'" for k, v in EVENT_COLUMNS.items()) + "}"


def audit_contenders(log: Path, work: Path, mb: float, label: str) -> list[Contender]:
    """The ingest contenders on ``log`` (plain or ``.gz``), writing under ``work``."""
    cat = "zcat" if log.suffix == ".gz" else "cat"
    python = sys.executable
    return [
        Contender(label, "k8saudit ingest", [python, "-c", OURS, str(log), str(work / "ds")],
                  mb=mb, reference=True, clean=[work]),
        Contender(label, "duckdb read_json explicit", [python, "-c", BASELINE, str(log),
                  str(work / "explicit.parquet"), explicit_columns()], mb=mb, baseline=True,
                  clean=[work]),
        Contender(label, cat, ["sh", "-c", f"{cat} {shlex.quote(str(log))} > /dev/null"], mb=mb),
        Contender(label, "jq | sort | uniq -c",
                  ["sh", "-c", JQ.format(cat=cat, log=shlex.quote(str(log)))], mb=mb),
    ]  # fmt: skip
