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
