"""The notebook of examples/ runs headless (nbclient) from top to bottom, and a cell that fails
fails the build; the committed copy is the executed one."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("altair")

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NOTEBOOK = EXAMPLES / "incident.ipynb"


def _run(notebook: object, cwd: Path) -> None:
    client = nbclient.NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    )
    client.execute()


def _outputs(cell: object) -> list[dict[str, object]]:
    return list(getattr(cell, "outputs", []))


def test_the_incident_notebook_runs() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    _run(notebook, EXAMPLES)  # raises CellExecutionError when a cell fails
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert len(code) == 9
    assert all(cell.execution_count for cell in code)
    assert not [o for cell in code for o in _outputs(cell) if o["output_type"] == "error"]
    first = _outputs(code[0])[0]["text"]
    assert first == "30,573 requests from 8 files, 12:00:00 .. 12:04:59 UTC\n"
    diagnosis = _outputs(code[3])[0]["data"]["text/markdown"]  # type: ignore[index]
    assert diagnosis.startswith("**5 findings, most load first**")
    assert "1. **datadog-agent**: LIST services cluster" in diagnosis
    charts = [o for cell in code[4:6] for o in _outputs(cell)]
    assert all("image/png" in o["data"] for o in charts) and len(charts) == 2  # type: ignore[operator]
    forensics = _outputs(code[-1])[0]["data"]["text/plain"]  # type: ignore[index]
    assert forensics.count("aws-creds") == 2 and forensics.count("403") == 2


def test_the_committed_notebook_is_executed() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1))
    assert all(_outputs(cell) for cell in code)


def test_a_failing_cell_fails(tmp_path: Path) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("import k8saudit\nk8saudit.open('nowhere')")]
    with pytest.raises(nbclient.exceptions.CellExecutionError, match="no k8saudit dataset here"):
        _run(notebook, tmp_path)
