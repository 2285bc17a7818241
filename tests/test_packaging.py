"""The built wheel is one import package that works outside the source tree.

Builds the wheel, installs it (without dependencies) into a fresh virtual environment that borrows
the current environment's third-party packages, and runs the console script there: --help, an
ingest and a query. Proves cli/ and queries/ ship inside k8saudit, never as top-level modules.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_wheel_installs_and_runs(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "-w", str(tmp_path / "dist"), str(REPO)],
        check=True,
    )  # fmt: skip
    (wheel,) = (tmp_path / "dist").glob("k8saudit-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "k8saudit/cli/app.py" in names and "k8saudit/sql/derive.sql" in names
    assert not [n for n in names if n.startswith(("cli/", "queries/"))]

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
         "--target", str(tmp_path / "site"), str(wheel)],
        check=True,
    )  # fmt: skip
    # third-party dependencies come from this environment; k8saudit only from the wheel
    env = dict(os.environ, PYTHONPATH=f"{tmp_path / 'site'}:{sysconfig.get_paths()['purelib']}")
    env.pop("K8SAUDIT_DATASET", None)
    log = tmp_path / "audit.log"
    log.write_text(
        json.dumps(
            {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": "a", "verb": "get",
             "stage": "ResponseComplete", "requestURI": "/api/v1/nodes/n1",
             "requestReceivedTimestamp": "2019-02-04T12:00:00Z"}
        ) + "\n"
    )  # fmt: skip

    def run(*args: str) -> str:
        out = subprocess.run(
            [str(python), "-c", "from k8saudit.cli import main; main()", *args],
            env=env, cwd=tmp_path, capture_output=True, text=True, check=True,
        )  # fmt: skip
        return out.stdout

    where = subprocess.run(
        [str(python), "-c", "import k8saudit, k8saudit.cli; print(k8saudit.__file__)"],
        env=env, cwd=tmp_path, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert where.startswith(str(tmp_path / "site"))
    assert "ingest" in run("--help")
    run("ingest", str(log))
    assert run("sql", "SELECT name, scope FROM requests", "-f", "csv") == "name,scope\nn1,object\n"
