"""``python bench`` (``make bench``): k8saudit beside its baselines, in ONE table.

Every contender runs on the same generated files in the same run, each in a process of its
own, interleaved round by round (the machine is shared: a slow moment hits all of them), and
is reported by its median over the rounds with its peak RSS (``bench/runner.py``):

* audit JSON ingest, plain and gzip (``bench/ingest.py``): ``k8saudit ingest``, DuckDB
  ``read_json`` with explicit columns into zstd Parquet, ``cat``, ``jq | sort | uniq -c``;
* access-log ingest (``bench/access_ingest.py``), both eras and the structured one in a CRI
  and in a journald wrapper: ``k8saudit ingest`` and one DuckDB ``read_csv`` +
  ``regexp_extract`` statement (stripping the wrapper in its regex);
* the analyses on a replicated dataset (``bench/analyses.py``; 330 copies of sample_logs/ are
  ~10 million requests), each beside a hand-written DuckDB query over the same Parquet files;
* every question after the audit log's ingest (``bench/questions.py``): each analysis,
  ``info`` and ``diagnose`` on the ingested log beside running ``jq | sort | uniq -c`` again;
* start-up: ``k8saudit --help``, and top-talkers on sample_logs/ beside its hand-written twin.

``--quick`` runs the same table on small inputs, once each (a check that it works, under a
minute); the figures come from the default (full) sizes. Generated inputs and datasets are
cached under bench/out/. ``--markdown FILE`` also writes the table with the machine and versions;
``--only audit,access`` runs (and prepares the inputs of) some of the sections ``SECTIONS``.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import access_ingest
import analyses
import ingest
import questions
from runner import Contender, run_interleaved, table

#: (audit nodes, audit duration, access nodes, access duration, copies of sample_logs, rounds)
SIZES = {
    "quick": (30, "2m", 30, "2m", 1, 1),
    "full": (700, "20m", 300, "20m", 330, 3),
}


def machine() -> str:
    """The machine and the versions the figures were measured with."""
    import duckdb
    import polars
    import pyarrow

    cpus = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    jq = subprocess.run(["jq", "--version"], capture_output=True, text=True).stdout.strip()
    return (
        f"{platform.machine()}, {cpus} cores, {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, DuckDB {duckdb.__version__}, "
        f"polars {polars.__version__}, pyarrow {pyarrow.__version__}, {jq}"
    )


#: the sections of the table, in order (``--only``)
SECTIONS = ("audit", "access", "queries", "questions", "startup")


def contenders(
    size: str, sections: tuple[str, ...] = SECTIONS
) -> tuple[list[Contender], list[str]]:
    """Every contender of ``sections`` at ``size``, and lines describing the inputs."""
    nodes, duration, access_nodes, access_duration, copies, _ = SIZES[size]
    work = ingest.OUT / "work"
    found: list[Contender] = []
    described = []
    if "audit" in sections:
        log, events = ingest.generate(nodes, duration)
        mb = log.stat().st_size / 1e6  # MB/s are of the uncompressed log, gzip or not
        gz = ingest.compressed(log)
        described.append(f"audit log: {nodes} nodes, {duration}: {mb:,.0f} MB, {events:,} events "
                         f"(gzip: {gz.stat().st_size / 1e6:,.0f} MB)")  # fmt: skip
        found += ingest.audit_contenders(log, work / "plain", mb, "audit ingest, plain")
        found += ingest.audit_contenders(gz, work / "gzip", mb, "audit ingest, gzip")
    if "access" in sections:
        access = access_ingest.generate(access_nodes, access_duration)
        access_mb = access.stat().st_size / 1e6
        glog = access_ingest.glog_copy(access)
        glog_mb = glog.stat().st_size / 1e6
        wrapped = {w: access_ingest.wrapped_copy(access, w) for w in access_ingest.WRAPPERS}
        noisy = access_ingest.noisy_copy(access)
        described.append(
            f"access log (structured httplog): {access_nodes} nodes, {access_duration}: "
            f"{access_mb:,.0f} MB; the same requests as glog wrap.go lines: {glog_mb:,.0f} MB; "
            "the structured lines in a CRI wrapper: "
            f"{wrapped['cri'].stat().st_size / 1e6:,.0f} MB, behind a journald prefix: "
            f"{wrapped['journald'].stat().st_size / 1e6:,.0f} MB; among klog lines of other "
            f"kinds (access_ingest.noisy_copy): {noisy.stat().st_size / 1e6:,.0f} MB"
        )
        found += access_contenders(access, work / "access", access_mb, "structured")
        found += access_contenders(glog, work / "glog", glog_mb, "glog")
        for wrapper, log in wrapped.items():
            era = "structured, CRI" if wrapper == "cri" else f"structured, {wrapper}"
            found += access_contenders(log, work / wrapper, log.stat().st_size / 1e6, era, wrapper)
        found += access_contenders(
            noisy,
            work / "noisy",
            noisy.stat().st_size / 1e6,
            "structured, klog noise",
            "structured",
        )
    if "queries" in sections:
        root, requests = analyses.dataset(copies)
        described.append(f"queries: {requests:,} requests ({copies} copies of sample_logs/)")
        label = (
            f"{requests / 1e6:.1f} M requests" if requests >= 100_000 else f"{requests:,} requests"
        )
        found += analyses.query_contenders(root, label)
        found += analyses.report_contenders(root, label, work / "report")
    if "questions" in sections:
        log, events = ingest.generate(nodes, duration)
        mb = log.stat().st_size / 1e6
        described.append(f"questions: the audit log ({mb:,.0f} MB, {events:,} events) ingested")
        found += questions.question_contenders(log, mb)
    if "startup" in sections:
        small, _ = analyses.dataset(1)
        described.append(f"start-up: {small.name}, 30,573 requests")
        found += analyses.startup_contenders(small)
    return found, described


def access_contenders(
    log: Path, work: Path, mb: float, era: str, pattern: str | None = None
) -> list[Contender]:
    """k8saudit ingest of an access log of ``era`` beside the one-statement regex baseline
    (``pattern``: the baseline's era, ``access_ingest.REGEX``; default ``era``)."""
    work_of = f"access-log ingest, {era}"
    return [
        Contender(work_of, "k8saudit ingest",
                  [sys.executable, "-c", ingest.OURS, str(log), str(work / "ds")],
                  mb=mb, reference=True, clean=[work]),
        Contender(work_of, "duckdb read_csv + regex",
                  [sys.executable, "-c", access_ingest.REGEX, str(log), str(work / "r.parquet"),
                   pattern or era], mb=mb, baseline=True, clean=[work]),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small inputs, one round")
    parser.add_argument("--rounds", type=int, help="rounds (default: 3, --quick: 1)")
    parser.add_argument("--markdown", type=Path, help="also write the table here")
    parser.add_argument("--only", help=f"comma-separated sections (default: all of {SECTIONS})")
    args = parser.parse_args()
    sections = tuple(args.only.split(",")) if args.only else SECTIONS
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"--only: no section {sorted(unknown)[0]!r} (sections: {', '.join(SECTIONS)})")
    size = "quick" if args.quick else "full"
    started = time.perf_counter()
    print(f"preparing the {size} inputs (cached under {ingest.OUT})...", flush=True)
    found, described = contenders(size, sections)
    rounds = args.rounds or SIZES[size][-1]
    run_interleaved(found, rounds)
    shutil.rmtree(ingest.OUT / "work", ignore_errors=True)
    result = table(found)
    head = [
        f"{size} run, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: median of {rounds} "
        "interleaved round(s), each contender a process of its own; peak RSS the highest",
        f"machine: {machine()}",
        *described,
    ]
    print("\n".join(head) + "\n\n" + result)
    print(f"\n({time.perf_counter() - started:.0f} s)")
    if args.markdown:
        args.markdown.write_text("\n\n".join(["\n".join(f"- {line}" for line in head), result]))


if __name__ == "__main__":
    main()
