"""Access-log ingest against one DuckDB ``read_csv`` + ``regexp_extract`` statement, same file.

Generates a structured-era kube-apiserver access log (``httplog.go] "HTTP" verb=... resp=...``)
with the simulator, rewrites the same requests as a glog-era log (``wrap.go] GET /api/...:
(1.2ms) 200 [ua ip:port]``), wraps the structured one as containerd (CRI) and journald write it
and gzips it (all cached under bench/out/); the baseline strips a wrapper in its regex. Then
times, each in its own process so that peak memory is its own, interleaved ``--repeat`` times
on every input: the full ``k8saudit.ingest`` into a fresh dataset, and the strongest simple
baseline, one DuckDB statement that reads every line with ``read_csv`` and pulls the fields out
with a single ``regexp_extract`` into Parquet (no timestamps parsed, no verbs derived, no
merge). Prints the median time of each, MB/s of uncompressed log, and the highest peak RSS::

    python bench/access_ingest.py [--nodes 300] [--duration 20m] [--repeat 3] [--inputs ...]

``measure(inputs, repeat)`` returns the same figures as rows, for a combined bench table.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import OURS, OUT, compressed, timed

#: the baseline: one statement, read_csv of whole lines, one regexp_extract, Parquet
REGEX = r"""
import duckdb, sys
con = duckdb.connect()
con.execute("SET enable_progress_bar = false").fetchall()
era = sys.argv[3]
#: what a wrapper puts before the klog line, stripped by the same statement
wrapper = {"cri": r"^\S+ std(?:out|err) F ", "journald": r"^\w{3} [ \d]\d [\d:]+ \S+ [^:]+: "}
if era == "glog":
    fields = ['time', 'method', 'uri', 'latency', 'code', 'user_agent', 'src_ip']
    pattern = (r'^\w(\d{4} [\d:.]+).*?wrap\.go:\d+\] (\S+) (\S+): \(([^)]*)\) (\d+) '
               r'\[(.*) (\S+)\]$')
    marker = 'wrap.go'
else:
    fields = ['time', 'verb', 'uri', 'latency', 'user_agent', 'audit_id', 'src_ip', 'code']
    pattern = (r'^\w(\d{4} [\d:.]+).*?httplog\.go:\d+\] "HTTP" verb="([^"]*)" URI="([^"]*)" '
               r'latency="([^"]*)" userAgent="((?:[^"\\]|\\.)*)" audit-ID="([^"]*)" '
               r'srcIP="([^"]*)".*resp=(\d+)')
    marker = 'httplog.go'
if era in wrapper:
    pattern = wrapper[era] + pattern[1:]
# read_csv's own line limit (2 MB): max_line_size=16777216 made DuckDB read the file on one
# thread, 1.4x the time (bench/RESULTS.md, session 18)
con.execute(
    "COPY (SELECT unnest(regexp_extract(line, $p, $f)) FROM read_csv($path, "
    "columns={'line': 'VARCHAR'}, header=false, delim=chr(1), quote='', escape='', "
    "auto_detect=false) WHERE contains(line, $m)) "
    "TO $out (FORMAT parquet)",
    {"p": pattern, "f": fields, "m": marker, "path": sys.argv[1], "out": sys.argv[2]},
).fetchall()
rows = con.execute("SELECT count(*) FROM read_parquet($o)", {"o": sys.argv[2]}).fetchone()[0]
print(rows)
print(open("/proc/self/status").read().split("VmHWM:")[1].split()[0])
"""

INPUTS = ("structured", "glog", "structured.gz")
OURS_NAME = "k8saudit ingest"
BASELINE_NAME = "duckdb read_csv + regex"


@dataclass(frozen=True)
class Row:
    """One contender on one input: median seconds over the runs, highest peak RSS."""

    input: str
    contender: str
    seconds: float
    log_mb: float  # uncompressed log size
    rows: int
    peak_mib: float
    runs: int

    @property
    def mb_per_s(self) -> float:
        return self.log_mb / self.seconds


def generate(nodes: int, duration: str) -> Path:
    """The structured-era log of the simulator (cached)."""
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


_STRUCTURED_LINE = re.compile(
    r'(\S+ \S+ +\d+) \S+\] "HTTP" verb="([A-Z]+)" URI="([^"]*)" latency="([^"]*)" '
    r'userAgent="([^"]*)" audit-ID="[^"]*" srcIP="([^"]*)".* resp=(\d+)$'
)
#: the HTTP method a glog-era API server logged for each structured-era verb
_METHODS = {"LIST": "GET", "WATCH": "GET", "APPLY": "PATCH"}


def glog_copy(structured: Path) -> Path:
    """The same requests as a glog-era (``wrap.go``) access log (cached)."""
    target = structured.with_name("kube-apiserver-glog.log")
    if not target.exists():
        partial = target.with_name(target.name + ".partial")
        with structured.open(encoding="utf-8") as src, partial.open("w", encoding="utf-8") as dst:
            for line in src:
                m = _STRUCTURED_LINE.match(line)
                if m is None:
                    dst.write(line)
                    continue
                head, verb, uri, latency, ua, src_ip, code = m.groups()
                method = _METHODS.get(verb, verb)
                dst.write(
                    f"{head} wrap.go:47] {method} {uri}: ({latency}) {code} [{ua} {src_ip}]\n"
                )
        partial.rename(target)
    return target


#: the structured log wrapped as containerd (CRI) and journald write it: the wrapper of each line
WRAPPERS = {
    "cri": lambda clock: f"2026-02-04T{clock}123Z stderr F ",
    "journald": lambda clock: f"Feb 04 {clock[:8]} master-1 kube-apiserver[21922]: ",
}


def wrapped_copy(structured: Path, wrapper: str) -> Path:
    """The structured log with each line in a ``wrapper`` of ``WRAPPERS`` (cached), its time
    the klog clock's."""
    target = structured.with_name(f"kube-apiserver-{wrapper}.log")
    if not target.exists():
        partial = target.with_name(target.name + ".partial")
        prefix = WRAPPERS[wrapper]
        with structured.open(encoding="utf-8") as src, partial.open("w", encoding="utf-8") as dst:
            for line in src:
                dst.write(prefix(line[6:21]) + line)  # "I0204 12:00:00.682897 ..."
        partial.rename(target)
    return target


def noisy_copy(structured: Path) -> Path:
    """The structured log among klog lines of other kinds, as a -v=3 API server writes them
    (cached): after every 40th access line a ``reflector.go`` message, after every 97th a
    two-line trace, after every 500th an error; each at the access line's klog time."""
    target = structured.with_name("kube-apiserver-noisy.log")
    if not target.exists():
        partial = target.with_name(target.name + ".partial")
        with structured.open(encoding="utf-8") as src, partial.open("w", encoding="utf-8") as dst:
            for n, line in enumerate(src):
                dst.write(line)
                header = line.split(" httplog.go:", 1)[0]  # "I0204 12:00:00.682897       1"
                if n % 40 == 7:
                    dst.write(f'{header} reflector.go:255] "Starting watch" path="/api/v1/pods" '
                              'resourceVersion="123"\n')  # fmt: skip
                if n % 97 == 11:
                    dst.write(f'Trace[{n}]: "List" url:/api/v1/pods,user-agent:kubelet '
                              "(total time: 676ms):\n"
                              f'Trace[{n}]: ---"Listing from storage done" 600ms\n')  # fmt: skip
                if n % 500 == 3:
                    dst.write(f"E{header[1:]} status.go:71] Internal error occurred: "
                              "etcdserver: request timed out\n")  # fmt: skip
        partial.rename(target)
    return target


def input_files(nodes: int, duration: str, names: tuple[str, ...]) -> dict[str, tuple[Path, str]]:
    """Each named input: (file, era), generated or taken from the cache."""
    structured = generate(nodes, duration)
    files: dict[str, tuple[Path, str]] = {}
    for name in names:
        era = name.removesuffix(".gz")
        log = glog_copy(structured) if era == "glog" else structured
        files[name] = (compressed(log) if name.endswith(".gz") else log, era)
    return files


def measure(files: dict[str, tuple[Path, str]], repeat: int = 3) -> list[Row]:
    """Time both contenders on every input, interleaved ``repeat`` times (medians)."""
    work = OUT / "work"
    runs: dict[tuple[str, str], list[tuple[float, int, str]]] = {}
    for _ in range(repeat):  # interleaved, so that a slow moment hits every contender
        for name, (path, era) in files.items():
            for contender, code, target, extra in (
                (OURS_NAME, OURS, "dataset", []),
                (BASELINE_NAME, REGEX, "r.parquet", [era]),
            ):
                shutil.rmtree(work, ignore_errors=True)
                work.mkdir(parents=True)
                runs.setdefault((name, contender), []).append(
                    timed(code, str(path), str(work / target), *extra)
                )
    rows = []
    for (name, contender), results in runs.items():
        path, _ = files[name]
        log = path.with_suffix("") if path.suffix == ".gz" else path
        rows.append(
            Row(
                input=name,
                contender=contender,
                seconds=statistics.median(seconds for seconds, _, _ in results),
                log_mb=log.stat().st_size / 1e6,
                rows=int(results[-1][2].split()[-1]),
                peak_mib=max(kb for _, kb, _ in results) / 1024,
                runs=len(results),
            )
        )
    return rows


def table(rows: list[Row]) -> str:
    """The rows as text, with each input's ratio of k8saudit's throughput to the baseline's."""
    out = [f"{'input':15s} {'contender':26s} {'median s':>9s} {'MB/s':>7s} {'rows':>10s} "
           f"{'peak RSS':>9s}"]  # fmt: skip
    by_input: dict[str, dict[str, Row]] = {}
    for row in rows:
        by_input.setdefault(row.input, {})[row.contender] = row
        out.append(
            f"{row.input:15s} {row.contender:26s} {row.seconds:9.2f} {row.mb_per_s:7.1f} "
            f"{row.rows:10,d} {row.peak_mib:6,.0f} MiB"
        )
    for name, contenders in by_input.items():
        ours, base = contenders[OURS_NAME], contenders[BASELINE_NAME]
        out.append(f"ratio k8saudit / regex statement throughput, {name}: "
                   f"{base.seconds / ours.seconds:.2f}")  # fmt: skip
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=300)
    parser.add_argument("--duration", default="20m")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each (the median counts)")
    parser.add_argument("--inputs", nargs="+", choices=INPUTS, default=list(INPUTS))
    args = parser.parse_args()
    files = input_files(args.nodes, args.duration, tuple(args.inputs))
    for name, (path, era) in files.items():
        print(f"input {name}: {path} ({path.stat().st_size / 1e6:,.0f} MB stored, {era} era)")
    rows = measure(files, args.repeat)
    print(f"median of {args.repeat} interleaved runs each; peak RSS the highest of them")
    print(table(rows))


if __name__ == "__main__":
    main()
