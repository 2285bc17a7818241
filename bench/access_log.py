"""Benchmark ``parse_access_log`` on synthetic structured-era and glog-era access logs.

Run: ``python bench/access_log.py [lines]`` (default 1,000,000 per era). Prints lines/s, MB/s and
the process's peak RSS. Speed is measured here, never asserted in unit tests (DESIGN.md §7).
"""

from __future__ import annotations

import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from k8saudit.formats.access_log import parse_access_log

_UAS = [
    "kubelet/v1.28.0 (linux/amd64) kubernetes/855e7c4",
    "datadog-agent/v0.0.0 (linux/amd64) kubernetes/$Format",
    "kube-controller-manager/v1.28.0 (linux/amd64) kubernetes/855e7c4/replicaset-controller",
    "e2e.test/v1.14.0 (linux/amd64) kubernetes/40de2ee -- [sig-scalability] Density",
]
_URIS = [
    "/api/v1/namespaces/default/configmaps/nginx-cfgmap",
    "/api/v1/services?limit=500&resourceVersion=0",
    "/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-1&watch=true&timeoutSeconds=400",
    "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-1?timeout=10s",
]


def structured_line(rng: random.Random, i: int) -> str:
    """One synthetic 1.28-style structured access line with APF fields."""
    return (
        f"I0823 08:{i // 60000 % 60:02d}:{i // 1000 % 60:02d}.{i % 1000:03d}123       1 "
        f'httplog.go:132] "HTTP" verb="{rng.choice(("GET", "LIST", "WATCH", "PATCH"))}" '
        f'URI="{rng.choice(_URIS)}" latency="{rng.random() * 5:.6f}ms" '
        f'userAgent="{rng.choice(_UAS)}" audit-ID="{i:08x}-d76a-4a4d-b251-47cc2df060cb" '
        f'srcIP="10.0.{i % 250}.{i % 199}:59052" apf_pl="system" apf_fs="system-nodes" '
        f'apf_iseats=1 apf_fseats=0 apf_additionalLatency="0s" '
        f'apf_execution_time="{rng.random():.6f}ms" resp={rng.choice((200, 200, 200, 429))}'
    )


def glog_line(rng: random.Random, i: int) -> str:
    """One synthetic 1.14-style glog access line."""
    return (
        f"I0111 19:{i // 60000 % 60:02d}:{i // 1000 % 60:02d}.{i % 1000:03d}870       1 "
        f"wrap.go:47] {rng.choice(('GET', 'PUT', 'PATCH'))} {rng.choice(_URIS)}: "
        f"({rng.random() * 900:.6f}\u00b5s) {rng.choice((200, 200, 429))} "
        f"[{rng.choice(_UAS)} 35.196.{i % 250}.{i % 199}:36040]"
    )


def run(name: str, make: Callable[[random.Random, int], str], count: int) -> None:
    """Write ``count`` lines to a temp file, parse it, print throughput."""
    rng = random.Random(42)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{name}.log"
        with path.open("w", encoding="utf-8") as out:
            for i in range(count):
                out.write(make(rng, i))
                out.write("\n")
        size = path.stat().st_size
        started = time.perf_counter()
        rows = lines = 0
        with path.open(encoding="utf-8") as handle:
            stripped = (line.rstrip("\n") for line in handle)
            for batch in parse_access_log(stripped, source_file=str(path), default_year=2023):
                rows += batch.table.num_rows
                lines += batch.lines
        elapsed = time.perf_counter() - started
    assert lines == count, (lines, count)
    print(
        f"{name:>10}: {count:,} lines, {rows:,} rows in {elapsed:.2f} s = "
        f"{count / elapsed:,.0f} lines/s, {size / elapsed / 1e6:.1f} MB/s ({size / 1e6:.0f} MB)"
    )


def main() -> None:
    """Benchmark both eras and report peak RSS."""
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    run("structured", structured_line, count)
    run("glog", glog_line, count)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"peak RSS: {peak_kib / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
