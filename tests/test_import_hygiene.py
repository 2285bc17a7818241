"""The import graph: no cycle anywhere (the CLI included), and the layers of pyproject.toml's
import-linter contracts hold (``make lint`` runs them too; here they run with the tests)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp
import pytest

REPO = Path(__file__).resolve().parents[1]


def _cycle(graph: grimp.ImportGraph) -> list[str] | None:
    """One import cycle among the graph's modules, or None."""
    done: set[str] = set()
    path: list[str] = []
    on_path: set[str] = set()

    def visit(module: str) -> list[str] | None:
        path.append(module)
        on_path.add(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported in on_path:
                return [*path[path.index(imported) :], imported]
            if imported not in done and (found := visit(imported)):
                return found
        on_path.discard(path.pop())
        done.add(module)
        return None

    for module in sorted(graph.modules):
        if module not in done and (found := visit(module)):
            return found
    return None


def test_no_module_imports_itself_through_others() -> None:
    sys.path.insert(0, str(REPO))  # the repository's cli/ as `cli`, as lint-imports sees it
    try:
        graph = grimp.build_graph("k8saudit", "cli")
    finally:
        sys.path.remove(str(REPO))
    assert _cycle(graph) is None


def test_a_cycle_is_found() -> None:
    graph = grimp.ImportGraph()
    for module in ("a", "a.b", "a.c"):
        graph.add_module(module)
    graph.add_import(importer="a.b", imported="a.c")
    graph.add_import(importer="a.c", imported="a.b")
    assert _cycle(graph) == ["a.b", "a.c", "a.b"]


def test_the_import_contracts_hold() -> None:
    lint = Path(sys.executable).parent / "lint-imports"
    if not lint.exists():
        pytest.skip(f"lint-imports is not installed beside {sys.executable}")
    done = subprocess.run([str(lint)], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-2000:]


def test_importing_the_cli_on_its_own_works() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import k8saudit.cli"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def test_an_audit_log_ingest_never_imports_polars(tmp_path: Path) -> None:
    """polars (~0.2 s to import) reads access logs only: an audit-only ingest goes without."""
    log = tmp_path / "audit.log"
    log.write_text(
        '{"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata", '
        '"auditID": "a", "stage": "ResponseComplete", "requestURI": "/api/v1/pods", '
        '"verb": "list", "requestReceivedTimestamp": "2019-02-04T12:00:00Z", '
        '"stageTimestamp": "2019-02-04T12:00:01Z"}\n'
    )
    code = (
        "import sys, k8saudit\n"
        f"report = k8saudit.ingest([{str(log)!r}], dataset={str(tmp_path / 'ds')!r})\n"
        "print(report.requests_after, sorted(m for m in sys.modules if m == 'polars'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[0] == "1 []"


def test_an_ingest_of_canonical_logs_imports_no_arrow_or_numpy(tmp_path: Path) -> None:
    """pyarrow and numpy (~0.15 s of CPU to import) serve lines read in Python only: audit logs
    and canonical access logs of either era, which DuckDB reads alone, go without them."""
    (tmp_path / "audit.log").write_text(
        '{"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata", '
        '"auditID": "a", "stage": "ResponseComplete", "requestURI": "/api/v1/pods", '
        '"verb": "list", "requestReceivedTimestamp": "2019-02-04T12:00:00Z", '
        '"stageTimestamp": "2019-02-04T12:00:01Z"}\n'
    )
    (tmp_path / "kube-apiserver.log").write_text(
        'I0204 12:00:00.682897       1 httplog.go:132] "HTTP" verb="LIST" URI="/api/v1/pods" '
        'latency="676.473ms" userAgent="kubelet/v1.14.10" audit-ID="b" srcIP="10.0.46.149:4015" '
        "resp=200\n"
        "I0204 19:04:54.684870 1 wrap.go:47] GET /api/v1/nodes: (7m39.000719686s) 429 "
        "[k 1.2.3.4:5]\n"
    )
    code = (
        "import sys, k8saudit\n"
        f"report = k8saudit.ingest([{str(tmp_path)!r}], dataset={str(tmp_path / 'ds')!r}, "
        "year=2019)\n"
        "print(report.requests_after, sorted(m for m in ('polars', 'pyarrow', 'numpy') "
        "if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[0] == "3 []"


def test_an_analysis_command_imports_no_page_writer(sample_dataset: Path) -> None:
    """The HTML page writer (hashlib, html, base64) serves charts written as .html and the
    report, pyarrow and polars a tenth of a second each, the ``duckdb`` package's Python layer
    ~50 ms over its engine (``k8saudit.engine``): an analysis command goes without them."""
    code = (
        "import sys\n"
        "from k8saudit.cli import main\n"
        "sys.argv = ['k8saudit', 'top-talkers', '--dataset', sys.argv[1], '--format', 'csv']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in ('k8saudit.htmlpage', 'polars', 'pyarrow', 'duckdb')"
        " if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(sample_dataset)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("client,requests,") and len(lines) == 19
    assert lines[-1] == "[]"
