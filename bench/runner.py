"""How ``bench/`` times its contenders: each in a process of its own, interleaved, medians.

The machine is shared (2 cores, other work running), so a slow moment must hit every contender
alike: each round runs every contender once, in order, and a contender's figure is the median
of its rounds. Each run is wrapped in GNU ``time`` for the peak RSS of the whole process tree
(``%M``: the largest of the processes, e.g. of ``jq`` in a pipeline), taken as the highest of
the rounds. A contender may check its own output (``check``): the first rows of an analysis
and of its hand-written twin, for instance, must agree. Every process runs with byte code
cached, as an installed package has it (the first round writes it, under bench/out/): an
environment with ``PYTHONDONTWRITEBYTECODE`` would have k8saudit compile its modules again in
every run (~40 ms) where the baselines' packages come compiled. Every k8saudit run computes
its answers (``K8SAUDIT_CACHE=off``): a contender that reads answers kept by an earlier run
says so, turns the cache on (``env``) and makes them before its rounds (``before``).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

TIME = shutil.which("time") or "/usr/bin/time"
#: the environment of every run: byte code cached under bench/out/, never in the source tree;
#: no answer kept by an earlier run read back (``k8saudit/answer_cache.py``)
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {
    "PYTHONPYCACHEPREFIX": str(Path(__file__).resolve().parent / "out" / "pycache"),
    "K8SAUDIT_CACHE": "off",
}


@dataclass
class Contender:
    """One line of the table: a command, the group it is compared in, what it is measured by."""

    group: str
    name: str
    argv: list[str]
    #: MB of input (uncompressed log), for MB/s
    mb: float | None = None
    #: the group's line the others are compared with (k8saudit's own)
    reference: bool = False
    #: the baseline k8saudit's line is a ratio of
    baseline: bool = False
    #: directories emptied (made anew) before each run: a fresh dataset to ingest into
    clean: list[Path] = field(default_factory=list)
    #: what the run printed -> a value that must be the same as its baseline's
    check: Callable[[str], object] | None = None
    #: variables set over ``ENV`` for its runs
    env: dict[str, str] = field(default_factory=dict)
    #: a command run once, untimed, before its first round (to keep answers it reads back)
    before: list[str] | None = None
    seconds: list[float] = field(default_factory=list)
    peak_mb: float = 0.0
    checked: object = None
    error: str | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.seconds) if self.seconds else float("nan")


def run_once(contender: Contender) -> None:
    """Run ``contender`` once: append its seconds, raise its peak RSS, keep its check."""
    for folder in contender.clean:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    if contender.before is not None:
        before, contender.before = contender.before, None
        made = subprocess.run(before, capture_output=True, text=True, env=ENV | contender.env)
        if made.returncode:
            lines = (made.stderr or made.stdout).strip().splitlines()
            contender.error = f"before its rounds: {lines[-1] if lines else made.returncode}"
            return
    # the output goes to a file, as a user keeps a long answer (`> who.csv`), read once the run
    # is timed: a pipe read by this process as it runs took CPU from the contender
    with tempfile.NamedTemporaryFile("r") as report, tempfile.TemporaryFile("w+") as out:
        started = time.perf_counter()
        done = subprocess.run(
            [TIME, "-f", "%M", "-o", report.name, *contender.argv],
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
            env=ENV | contender.env,
        )
        seconds = time.perf_counter() - started
        peak_kb = report.read().split()[-1] if done.returncode == 0 else "0"
        out.seek(0)
        output = out.read() if done.returncode or contender.check is not None else ""
    if done.returncode:
        lines = (done.stderr or output).strip().splitlines()
        contender.error = lines[-1] if lines else f"exit {done.returncode}"
        return
    contender.seconds.append(seconds)
    contender.peak_mb = max(contender.peak_mb, int(peak_kb) / 1024)
    if contender.check is not None:
        contender.checked = contender.check(output)


def run_interleaved(contenders: list[Contender], rounds: int) -> None:
    """``rounds`` rounds, each running every contender once, in order (shown on a terminal)."""
    progress = sys.stdout.isatty()
    for number in range(1, rounds + 1):
        for contender in contenders:
            if contender.error is None:
                if progress:
                    print(f"  round {number}/{rounds}: {contender.group}: {contender.name}",
                          end="\r", flush=True)  # fmt: skip
                run_once(contender)
    if progress:
        print(" " * 100, end="\r")


def table(contenders: list[Contender]) -> str:
    """The one table of results, as Markdown: per group, each contender's median seconds,
    MB/s where it reads a log, peak RSS, and k8saudit's ratio to the group's baseline (its
    throughput over the baseline's for ingest, its time over the baseline's for queries)."""
    lines = [
        "| work | contender | median s | MB/s | peak RSS MB | ratio | note |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    groups: dict[str, list[Contender]] = {}
    for contender in contenders:
        groups.setdefault(contender.group, []).append(contender)
    for group, members in groups.items():
        base = next((c for c in members if c.baseline), None)
        for c in members:
            if c.error:
                lines.append(f"| {group} | {_cell(c.name)} | | | | | failed: {c.error[:80]} |")
                continue
            rate = f"{c.mb / c.median:,.0f}" if c.mb else ""
            ratio, note = "", ""
            if c.reference and base is not None and not base.error:
                # ingest: throughput ratio (>= 1 is as fast); queries: time ratio (<= 1 is)
                value = base.median / c.median if c.mb else c.median / base.median
                ratio = f"{value:.2f}"
                if c.check is not None and base.check is not None and c.checked != base.checked:
                    note = "DIFFERENT ANSWERS"
            cells = [
                group,
                _cell(c.name),
                f"{c.median:.2f}",
                rate,
                f"{c.peak_mb:,.0f}",
                ratio,
                note,
            ]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")  # a pipeline's name in a Markdown table cell
